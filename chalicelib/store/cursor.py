"""The one cursor codec: opaque, base64url, HMAC-signed, bound to the listing it came from."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence

from chalicelib.errors import InvalidCursorError

MAX_CURSOR_CHARS = 1024
_SIG_BYTES = 16


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes a DynamoDB key as `<payload>.<signature>`; verifies with any known key.

    `keys` returns the signing keys, current first, so a key rotation does not break
    cursors signed a moment before it. The scope (e.g. "products:owner=42") is signed
    too: a cursor from one listing is refused by another.
    """

    def __init__(self, keys: Callable[[], Sequence[bytes]]) -> None:
        self._keys = keys

    def _sign(self, key: bytes, scope: str, payload: str) -> bytes:
        message = f"{scope}\n{payload}".encode()
        return hmac.new(key, message, hashlib.sha256).digest()[:_SIG_BYTES]

    def encode(self, last_key: dict[str, str], scope: str) -> str:
        """Sign a key made only of string attributes."""
        payload = _b64encode(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
        signature = self._sign(self._keys()[0], scope, payload)
        return f"{payload}.{_b64encode(signature)}"

    def decode(self, cursor: str, scope: str) -> dict[str, str]:
        """The key a cursor carries; InvalidCursorError unless this service signed it."""
        if len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1:
            raise InvalidCursorError()
        payload, signature_text = cursor.split(".")
        try:
            signature = _b64decode(signature_text)
            key = json.loads(_b64decode(payload))
        except ValueError as exc:  # binascii.Error and JSONDecodeError are ValueErrors
            raise InvalidCursorError() from exc
        if not any(hmac.compare_digest(signature, self._sign(k, scope, payload)) for k in self._keys()):
            raise InvalidCursorError()
        if not isinstance(key, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in key.items()
        ):
            raise InvalidCursorError()
        return key
