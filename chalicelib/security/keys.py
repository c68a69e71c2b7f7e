"""Signing keys: where they come from, how rotation works, and keys derived from them.

Locally the key is `JWT_SECRET` (plus optional `JWT_PREVIOUS_SECRETS`, comma-separated).
Deployed, `JWT_SECRET_PARAM` names an SSM SecureString whose value is either one secret or
JSON `{"current": "<secret>", "previous": ["<secret>", ...]}`; it is fetched with decryption
once per container. A key's id (`kid`) is a short hash of it, so tokens name their key
without revealing it. Rotation: put the old current key into "previous" and a new one in
"current"; tokens signed with the old key keep working until they expire or the key is
dropped from "previous" (retired).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.config import LOCAL_DEFAULT_JWT_SECRET, Settings, SettingsError, get_settings
from chalicelib.errors import ServiceUnavailableError

MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class SigningKey:
    """One HMAC key and the id (`kid`) tokens name it by."""

    kid: str
    secret: bytes


@dataclass(frozen=True)
class KeyRing:
    """The current key signs; the current and previous keys verify."""

    current: SigningKey
    previous: tuple[SigningKey, ...] = ()

    def verifying(self) -> tuple[SigningKey, ...]:
        """Every key a token may be verified with: the current one first."""
        return (self.current, *self.previous)

    def find(self, kid: object) -> SigningKey | None:
        """The key named `kid`, compared in constant time; None for anything else.

        A token's header is attacker-controlled: `kid` may be any JSON value, and a string
        may hold non-ASCII text or lone surrogates, which `hmac.compare_digest` refuses
        for str. Compare UTF-8 bytes instead, so no header can raise here.
        """
        if not isinstance(kid, str):
            return None
        wanted = kid.encode("utf-8", "surrogatepass")
        return next((k for k in self.verifying() if hmac.compare_digest(k.kid.encode(), wanted)), None)


def make_key(secret: str) -> SigningKey:
    """A signing key from a secret; its kid is derived from the secret, never the secret itself."""
    raw = secret.encode()
    return SigningKey(kid=hashlib.sha256(raw).hexdigest()[:12], secret=raw)


def parse_secret_value(value: str) -> tuple[str, list[str]]:
    """The SSM parameter's value → (current, previous)."""
    text = value.strip()
    if not text.startswith("{"):
        return text, []
    try:
        data = json.loads(text)
        current, previous = data["current"], data.get("previous", [])
    except (ValueError, KeyError, TypeError) as exc:
        raise SettingsError("JWT secret parameter is not valid JSON key material") from exc
    if not isinstance(current, str) or not isinstance(previous, list):
        raise SettingsError("JWT secret parameter: `current` must be a string, `previous` a list")
    if not all(isinstance(secret, str) for secret in previous):
        raise SettingsError("JWT secret parameter: every previous key must be a string")
    return current, previous


def build_keyring(settings: Settings, fetch_parameter: Callable[[str, str], str] | None = None) -> KeyRing:
    """Assemble and check the key ring; refuses weak keys outside local stages."""
    if settings.jwt_secret_param:
        fetch = fetch_parameter or _fetch_ssm_parameter
        current, previous = parse_secret_value(fetch(settings.jwt_secret_param, settings.region))
    elif settings.jwt_secret:
        current, previous = settings.jwt_secret, list(settings.jwt_previous_secrets)
    elif settings.is_local:
        current, previous = LOCAL_DEFAULT_JWT_SECRET, []
    else:
        raise SettingsError("JWT_SECRET_PARAM (or JWT_SECRET) must be set outside local stages")
    check_secrets(settings, [current, *previous])
    retained = [s for s in dict.fromkeys(previous) if s != current]  # no duplicates in the ring
    return KeyRing(current=make_key(current), previous=tuple(make_key(s) for s in retained))


def check_secrets(settings: Settings, secrets: list[str]) -> None:
    """Refuse short keys anywhere, and the published local default outside local stages."""
    for secret in secrets:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(f"JWT keys must be at least {MIN_SECRET_BYTES} bytes")
        # Bytes: compare_digest refuses text with non-ASCII characters (a TypeError, not this error)
        if not settings.is_local and hmac.compare_digest(secret.encode(), LOCAL_DEFAULT_JWT_SECRET.encode()):
            raise SettingsError("the local default JWT key cannot be used outside local stages")


def _fetch_ssm_parameter(name: str, region: str) -> str:
    """The parameter's decrypted value; ServiceUnavailableError when SSM cannot give it.

    Short timeouts and two attempts: the authorizer has 5 s in all. A failure is not
    cached (get_keyring caches only a result), so the next request tries again: one bad
    moment at cold start does not poison the container.
    """
    import boto3  # deferred: only deployed stages read SSM, once per container
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2})
    client = boto3.session.Session().client("ssm", region_name=region, config=config)
    try:
        response = client.get_parameter(Name=name, WithDecryption=True)
    except (BotoCoreError, ClientError) as exc:
        code = exc.response["Error"].get("Code") if isinstance(exc, ClientError) else type(exc).__name__
        logging.getLogger(__name__).warning("signing key unavailable from SSM: %s", code)
        raise ServiceUnavailableError(retry_after=1, message="Signing key unavailable, retry") from exc
    return str(response["Parameter"]["Value"])


@functools.cache
def get_keyring() -> KeyRing:
    """The process-wide key ring, built on first use and cached for the container's life."""
    return build_keyring(get_settings())


def derived_key(key: SigningKey, purpose: str) -> bytes:
    """A key for another purpose (e.g. cursors), so one secret never signs two kinds of thing."""
    return hmac.new(key.secret, f"storefront/{purpose}/v1".encode(), hashlib.sha256).digest()


def cursor_keys() -> list[bytes]:
    """Keys for the cursor codec, current first."""
    return list(_derived_keys(get_keyring(), "cursor"))


@functools.lru_cache(maxsize=8)
def _derived_keys(ring: KeyRing, purpose: str) -> tuple[bytes, ...]:
    # Derived once per key ring (a rotation builds a new ring, hence new entries), not on
    # every cursor a list request signs or checks.
    return tuple(derived_key(k, purpose) for k in ring.verifying())
