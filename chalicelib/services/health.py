"""Liveness and readiness."""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalicelib.errors import ServiceUnavailableError
from chalicelib.store.table import Table

logger = logging.getLogger(__name__)


def check_dynamodb(table: Table) -> str:
    """ "ok" when the table answers, else a short reason safe to show a client."""
    return _check("dynamodb", table.ping)


def check_signing_key(load_keyring: Callable[[], object]) -> str:
    """ "ok" when the JWT signing key can be had (from SSM, deployed), else a short reason."""
    return _check("signing_key", load_keyring)


def _check(name: str, probe: Callable[[], object]) -> str:
    try:
        probe()
    except ServiceUnavailableError:
        return "unreachable"
    except Exception:  # an unexpected answer is still "not ready", never a 500
        logger.warning("readiness check %s failed", name, exc_info=True)
        return "error"
    return "ok"
