"""The payment provider's webhook secrets (Standard Webhooks, `whsec_<base64>`).

Locally and in tests: `PAYMENT_WEBHOOK_SECRET` (several, space- or comma-separated, while
the provider rotates its secret: a delivery signed with any of them is accepted). Deployed:
`PAYMENT_WEBHOOK_SECRET_PARAM` names an SSM SecureString holding the same text, fetched with
decryption once per container. A local stage with neither uses LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET,
which `manage.py pay` signs with too; any other stage refuses to start without one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from chalicelib.config import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from standardwebhooks.webhooks import Webhook

# Marked clearly: exists so that a bare `chalice local` and `manage.py pay` agree out of the
# box; `make run` generates its own into .local/. Refused outside local stages.
LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET = "whsec_bG9jYWwtb25seS1pbnNlY3VyZS1wYXltZW50LXdlYmhvb2s="  # noqa: S105


def secrets_of(
    settings: Settings, fetch_parameter: Callable[[str, str], str] | None = None
) -> tuple[str, ...]:
    """The accepted secrets, current first (`fetch_parameter(name, region)` reads SSM)."""
    if settings.payment_webhook_secret_param:
        from chalicelib.security.keys import _fetch_ssm_parameter

        fetch = fetch_parameter or _fetch_ssm_parameter
        found = tuple(fetch(settings.payment_webhook_secret_param, settings.region).replace(",", " ").split())
    elif settings.payment_webhook_secrets:
        found = settings.payment_webhook_secrets
    elif settings.is_local:
        found = (LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET,)
    else:
        raise SettingsError("PAYMENT_WEBHOOK_SECRET_PARAM (or PAYMENT_WEBHOOK_SECRET) must be set")
    if not settings.is_local and LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET in found:
        raise SettingsError("the local default payment webhook secret cannot be used outside local stages")
    return found


@functools.cache
def get_payment_webhooks() -> tuple[Webhook, ...]:
    """One verifier per accepted secret, built on first use and kept for the container's life."""
    from standardwebhooks.webhooks import Webhook  # ~1 ms; only the webhook route needs it

    try:
        return tuple(Webhook(secret) for secret in secrets_of(get_settings()))
    except ValueError as exc:  # binascii.Error: not base64 after `whsec_`
        raise SettingsError("a payment webhook secret is not `whsec_<base64>`") from exc
