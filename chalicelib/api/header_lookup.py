"""chalice's request and response headers, looked up without raising an exception.

chalice's `CaseInsensitiveMapping` (a request's headers, and the response's headers it
checks) defines only `__getitem__`, so `get` and `in` are `Mapping`'s: they look the name up
and catch the KeyError a missing header raises. A request looks up several headers it does
not have (If-None-Match, X-Request-Id, Accept, Content-Length, Content-Type of a GET), and
some of them after the wait for DynamoDB, when little of the process is still in the CPU's
caches and a raised exception costs most (~8 µs a GET then, bench/ab.py).

`install` (called by app.py) gives the class a `get` and a `__contains__` that read its
dict directly, with the same answers: tests/unit/test_header_lookup.py holds them to
Mapping's for any headers and names.
"""

from __future__ import annotations

from typing import Any

import chalice.app


def get(self: chalice.app.CaseInsensitiveMapping, key: str, default: Any = None) -> Any:
    """The header's value (any case of its name), or `default`."""
    return self._dict.get(key.lower(), default)


def contains(self: chalice.app.CaseInsensitiveMapping, key: str) -> bool:
    """True when the header is there (any case of its name)."""
    return key.lower() in self._dict


def install() -> None:
    """Look chalice's headers up without an exception (idempotent)."""
    mapping: Any = chalice.app.CaseInsensitiveMapping
    mapping.get = get
    mapping.__contains__ = contains
