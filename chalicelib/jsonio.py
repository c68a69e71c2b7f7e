"""JSON in and out without binary floats: numbers with a fraction parse as Decimal,
and a Decimal is written as its exact decimal text (chalice's own encoder would
turn it into a float)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def loads(raw: bytes | str) -> Any:
    """Parse JSON; non-integer numbers become Decimal. Raises ValueError when invalid."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decimal_text(value: Decimal) -> str:
    """The shortest exact plain-notation text of a finite Decimal: 19.90 → 19.9, 1E+1 → 10."""
    if not value.is_finite():
        raise ValueError("only finite numbers can be written as JSON")
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def dumps(value: Any) -> str:
    """Serialise dicts, lists, str, int, bool, None and Decimal to compact JSON."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, Decimal):
        out.append(decimal_text(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise TypeError("binary floats are not written; use Decimal")
    else:
        out.append(json.dumps(value, ensure_ascii=False))
