"""Liveness and readiness."""

from __future__ import annotations

from chalicelib.errors import ServiceUnavailableError
from chalicelib.store.table import Table


def check_dynamodb(table: Table) -> str:
    """ "ok" when the table answers, else a short reason safe to show a client."""
    try:
        table.ping()
    except ServiceUnavailableError:
        return "unreachable"
    except Exception:  # an unexpected answer is still "not ready", never a 500
        return "error"
    return "ok"
