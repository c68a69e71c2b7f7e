"""The one rule for human-readable text: names and descriptions.

Names (users, products) and descriptions are NFC-normalised and may not carry control
characters (Cc: NUL, CR, LF, ESC, …), lone surrogates (Cs), bidirectional embeddings,
overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), the
line/paragraph separators U+2028/U+2029, the byte-order mark U+FEFF, the deprecated format
characters U+206A-U+206F or the interlinear annotation characters U+FFF9-U+FFFB: they
corrupt logs and terminals, or make text display differently from what it is ("Trojan
Source"). Zero-width (non-)joiners stay allowed: emoji sequences and several scripts
(Persian, Indic) need them. Names are also trimmed. Descriptions may contain line feeds
and tabs (they are multi-line prose); a carriage return is refused there too, so every
stored line break is one LF.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints

_BIDI = (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_OTHER_FORMAT = (0x2028, 0x2029, 0xFEFF, *range(0x206A, 0x2070), *range(0xFFF9, 0xFFFC))
_DANGEROUS_FORMAT = frozenset((*_BIDI, *_OTHER_FORMAT))
DESCRIPTION_ALLOWED_CONTROLS = frozenset("\n\t")


def nfc(value: object) -> object:
    """NFC normal form of a string (anything else is left for the type check to refuse)."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def unsafe_characters(value: str, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The characters of `value` the text rule refuses, as U+XXXX, in order of appearance."""
    if value.isascii() and value.isprintable():
        return []  # U+0020-U+007E only: no control, surrogate or format character among them
    return _scan(value, allowed)


def _scan(value: str, allowed: frozenset[str]) -> list[str]:
    return [
        f"U+{ord(char):04X}"
        for char in value
        if char not in allowed
        and (unicodedata.category(char) in {"Cc", "Cs"} or ord(char) in _DANGEROUS_FORMAT)
    ]


def check_name(value: str) -> str:
    """A name without control, bidi or other dangerous format characters."""
    if unsafe_characters(value):
        raise ValueError("name must not contain control or bidirectional-formatting characters")
    return value


def check_description(value: str) -> str:
    """Prose: like a name, except that line feeds and tabs are allowed."""
    if unsafe_characters(value, DESCRIPTION_ALLOWED_CONTROLS):
        raise ValueError(
            "description must not contain control (other than line feed and tab) "
            "or bidirectional-formatting characters"
        )
    return value


# The rule as a JSON Schema pattern (ECMA-262, Python `re` and Rust's regex read it alike), for
# the OpenAPI document: the characters above, as ranges (tests/unit/test_text_pattern.py checks
# they agree). Lone surrogates are left out: no regex engine but Python's can name them (and no
# UTF-8 body can carry one; only a \\ud800 escape can, which the server refuses all the same).
_REFUSED = (
    "\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2028\\u2029"
    "\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
)
# A name: no refused character, and at least one that is not white space (it is trimmed).
NAME_PATTERN = f"^[^{_REFUSED}]*[^{_REFUSED}\\s][^{_REFUSED}]*$"
# A description: line feed (U+000A) and tab (U+0009) are allowed; it may be empty.
DESCRIPTION_PATTERN = "^[^" + _REFUSED.replace("\\u0000-\\u001f", "\\u0000-\\u0008\\u000b-\\u001f") + "]*$"
_NAME_SCHEMA = Field(
    json_schema_extra={
        "pattern": NAME_PATTERN,
        "description": "Trimmed; no control, bidirectional-formatting or other invisible format "
        "characters (docs/api.md, the text rule).",
    }
)
_DESCRIPTION_SCHEMA = Field(
    json_schema_extra={
        "pattern": DESCRIPTION_PATTERN,
        "description": "No control characters but line feed and tab, no bidirectional-formatting "
        "or other invisible format characters (docs/api.md, the text rule).",
    }
)

# docs/api.md gives user names 1..100 characters and product names 1..200: one rule,
# two bounds. (pydantic cannot narrow a bound by nesting Annotated without changing its
# error messages, so each bound is spelled out; the validators are the same objects.)
_NFC = BeforeValidator(nfc)
_NAME_RULE = AfterValidator(check_name)
# A BeforeValidator wraps what precedes it, so NFC (last) runs first.
Name = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    _NAME_RULE,
    _NFC,
    _NAME_SCHEMA,
]
UserName = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    _NAME_RULE,
    _NFC,
    _NAME_SCHEMA,
]
Description = Annotated[
    str,
    Strict(),
    StringConstraints(max_length=2000),
    AfterValidator(check_description),
    _NFC,
    _DESCRIPTION_SCHEMA,
]
