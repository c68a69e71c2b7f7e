"""Collaborators the routes need, built on first use and kept for the container's life."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from chalicelib.config import MailSettings, get_settings, reset_settings
from chalicelib.security import keys, webhooks
from chalicelib.store.cursor import CursorCodec
from chalicelib.store.table import Table, create_client

if TYPE_CHECKING:  # the routes that hash or mail import them (not every cold start)
    from chalicelib.mail import Mailer
    from chalicelib.security.passwords import PasswordHasher


@dataclass(frozen=True)
class Patience:
    """How a table's client retries and waits (botocore attempts, seconds)."""

    attempts: int = 3
    connect_timeout: float = 1
    read_timeout: float = 3


# Routes: a few fast retries. Readiness (/health/ready): must answer quickly. The
# authorizer: two quick attempts, so that even a database that does not answer leaves the
# authorizer (5 s Lambda timeout) time to deny.
ROUTES, PROBE, AUTHORIZER = Patience(), Patience(1, 0.5, 1), Patience(2, 0.5, 1)


@functools.cache
def table_for(patience: Patience) -> Table:
    """The one Table factory: the table through a client of this patience, made once."""
    settings = get_settings()
    client = create_client(settings, **asdict(patience))
    return Table(client, settings.table_name, CursorCodec(keys.cursor_keys))


def get_table() -> Table:
    """The table every repository works on."""
    return table_for(ROUTES)


def get_probe_table() -> Table:
    """The same table through a client that gives up fast: readiness must answer quickly."""
    return table_for(PROBE)


def get_session_table() -> Table:
    """The table as the authorizer reads it (two quick attempts)."""
    return table_for(AUTHORIZER)


_hasher_override: list[PasswordHasher] = []


def get_hasher() -> PasswordHasher:
    """The password hasher of the stage's policy (or the one `use_hasher` put in its place)."""
    if _hasher_override:
        return _hasher_override[0]
    from chalicelib.security.passwords import hasher_for, policy_for

    return hasher_for(policy_for(get_settings()))


def use_hasher(hasher: PasswordHasher | None) -> None:
    """Put another hasher in place (e.g. one that counts its checks); None restores the default."""
    _hasher_override[:] = [hasher] if hasher is not None else []


_mailer_override: list[Mailer] = []


@functools.cache
def _stage_mailer(settings: MailSettings) -> Mailer:
    if settings.backend == "ses":
        from chalicelib.mail.ses import SesMailer

        return SesMailer(
            functools.cache(lambda: _ses_client(settings)), settings.sender, settings.configuration_set
        )
    from pathlib import Path

    from chalicelib.mail.files import FileMailer

    return FileMailer(Path(settings.directory), settings.sender, settings.echo)


def _ses_client(settings: MailSettings) -> Any:
    import boto3  # deferred: only a mail pays for it

    region = get_settings().region
    return boto3.session.Session().client("sesv2", region_name=region, endpoint_url=settings.ses_endpoint)


def get_mailer() -> Mailer:
    """The stage's mailer (SES deployed, `.eml` files locally), or the one `use_mailer` set."""
    if _mailer_override:
        return _mailer_override[0]
    return _stage_mailer(get_settings().mail)


def use_mailer(mailer: Mailer | None) -> None:
    """Put another mailer in place (e.g. one that fails); None restores the stage's."""
    _mailer_override[:] = [mailer] if mailer is not None else []


def reset() -> None:
    """Forget every cached collaborator (tests and manage.py change the environment)."""
    use_hasher(None)
    use_mailer(None)
    _stage_mailer.cache_clear()
    table_for.cache_clear()
    keys.get_keyring.cache_clear()
    webhooks.get_payment_webhooks.cache_clear()
    reset_settings()
