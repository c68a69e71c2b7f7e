"""Liveness and readiness."""

from __future__ import annotations

import logging

from chalicelib.errors import ServiceUnavailableError
from chalicelib.store.table import Table

logger = logging.getLogger("storefront")


def check_dynamodb(table: Table) -> str:
    """ "ok" when the table answers, else a short reason safe to show a client."""
    try:
        table.ping()
    except ServiceUnavailableError:
        return "unreachable"
    except Exception:  # an unexpected answer is still "not ready", never a 500; logged for operators
        logger.warning("readiness check failed unexpectedly", exc_info=True)
        return "error"
    return "ok"
