"""Operator commands: create-table, create-admin, seed, dump, load, pay.

They act on the endpoint and table the environment names (TABLE_NAME, DYNAMODB_ENDPOINT,
AWS_DEFAULT_REGION), through the same store code the API uses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from chalicelib.api.deps import get_table
from chalicelib.errors import ServiceUnavailableError
from chalicelib.store.operator import operator_table
from chalicelib.store.table import Table


def create_table(table: Table, wait_seconds: float = 60) -> bool:
    """Create the table, its indexes and TTL; True if created, False if it already existed."""
    return operator_table(table).create(wait_seconds)


def scan_all(table: Table) -> Iterator[dict[str, Any]]:
    """Every item in wire format. Operator use only: no request path ever scans."""
    return operator_table(table).scan_all()


def dump(table: Table, path: Path) -> int:
    """Write every item (DynamoDB JSON, lossless) to a file, atomically; returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as out:
        for item in scan_all(table):
            out.write(json.dumps(item, sort_keys=True) + "\n")
            count += 1
    tmp.replace(path)
    return count


def load(table: Table, path: Path) -> int:
    """Put every item of a dump back; returns the count."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    operator_table(table).put_wire_items(items)
    return len(items)


def _cmd_create_table(table: Table, args: argparse.Namespace) -> int:
    created = create_table(table)
    print(f"table {table.name}: {'created' if created else 'already exists'}")
    return 0


def _cmd_dump(table: Table, args: argparse.Namespace) -> int:
    print(f"dumped {dump(table, Path(args.file))} items to {args.file}")
    return 0


def _cmd_load(table: Table, args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.exists():
        print(f"no dump at {path}; nothing loaded")
        return 0
    print(f"loaded {load(table, path)} items from {path}")
    return 0


def _cmd_create_admin(table: Table, args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from chalicelib.config import get_settings
    from chalicelib.security.passwords import hasher_for, policy_for
    from chalicelib.services.caller import operator
    from chalicelib.services.users import create_or_promote_admin

    hasher = hasher_for(policy_for(get_settings()))
    try:
        user, created = create_or_promote_admin(
            table, operator(), args.email, args.password, hasher, args.name
        )
    except (ValidationError, ValueError):
        # Never echo the input: it holds a password.
        print("invalid e-mail, password (8..128 characters) or name", file=sys.stderr)
        return 2
    print(f"admin {user.email} ({user.id}): {'created' if created else 'promoted'}")
    return 0


DEMO_PASSWORD = "storefront-demo-123"  # noqa: S105 - demo data for local runs, printed on purpose
DEMO_CATALOGUE: dict[str, list[tuple[str, str, str, int]]] = {
    "alice@example.com": [
        ("Espresso cup", "Porcelain, 80 ml", "12.50", 40),
        ("Moka pot", "Aluminium, 6 cups", "34.99", 12),
        ("Coffee beans 1 kg", "Single origin, Ethiopia", "27.00", 25),
    ],
    "bob@example.com": [
        ("Notebook A5", "Dotted, 120 g/m²", "9.90", 100),
        ("Fountain pen", "Steel nib, medium", "49.00", 8),
        ("Ink bottle", "Blue-black, 50 ml", "14.75", 30),
    ],
}


def seed(table: Table) -> tuple[int, int]:
    """Demo users and their products; users that already exist (and their products) are skipped."""
    from decimal import Decimal

    from chalicelib.config import get_settings
    from chalicelib.errors import EmailTakenError
    from chalicelib.models.products import ProductCreate
    from chalicelib.models.users import UserCreate
    from chalicelib.security.passwords import hasher_for, policy_for
    from chalicelib.services.caller import Caller
    from chalicelib.services.products import create_product
    from chalicelib.services.users import register_user

    hasher = hasher_for(policy_for(get_settings()))
    users = products = 0
    for email, catalogue in DEMO_CATALOGUE.items():
        name = email.split("@")[0].title()
        try:
            user = register_user(table, UserCreate(email=email, password=DEMO_PASSWORD, name=name), hasher)
        except EmailTakenError:
            continue
        users += 1
        for title, description, price, stock in catalogue:
            body = ProductCreate(name=title, description=description, price=Decimal(price), stock=stock)
            create_product(table, Caller(user_id=user.id, role=user.role), body)
            products += 1
    return users, products


def _cmd_seed(table: Table, args: argparse.Namespace) -> int:
    users, products = seed(table)
    print(f"seeded {users} demo users (password {DEMO_PASSWORD!r}) and {products} products")
    return 0


LOCAL_WEBHOOK_SECRET_FILE = Path(__file__).resolve().parent / ".local" / "payment-webhook-secret"


def webhook_secret() -> str:
    """The secret `make run` gave the API: PAYMENT_WEBHOOK_SECRET, else .local/'s, else the
    local default (what a bare `chalice local` uses)."""
    from chalicelib.security.webhooks import LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET

    configured = os.environ.get("PAYMENT_WEBHOOK_SECRET", "").replace(",", " ").split()
    if configured:
        return configured[0]
    if LOCAL_WEBHOOK_SECRET_FILE.exists():
        return LOCAL_WEBHOOK_SECRET_FILE.read_text(encoding="utf-8").strip()
    return LOCAL_DEFAULT_PAYMENT_WEBHOOK_SECRET


def signed_payment(
    order_id: str, amount: Any, currency: str, secret: str, webhook_id: str
) -> tuple[bytes, dict[str, str]]:
    """A payment.succeeded delivery for the order, signed as the provider would (Standard Webhooks)."""
    import uuid
    from datetime import UTC, datetime

    from standardwebhooks.webhooks import Webhook

    from chalicelib.jsonio import dumps

    data = {
        "order_id": order_id,
        "payment_id": f"pay_{uuid.uuid4().hex[:16]}",
        "amount": amount,
        "currency": currency,
    }
    body = dumps({"type": "payment.succeeded", "data": data}).encode()
    now = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, now, body),
    }
    return body, headers


def _cmd_pay(table: Table, args: argparse.Namespace) -> int:
    import urllib.error
    import urllib.request
    import uuid
    from decimal import Decimal

    from chalicelib.store.orders import OrderStore

    order = OrderStore(table).get(args.order_id)
    if order is None:
        print(f"no order {args.order_id} in table {table.name}", file=sys.stderr)
        return 1
    amount = Decimal(args.amount) if args.amount else order.total
    webhook_id = args.webhook_id or f"msg_{uuid.uuid4().hex}"
    body, headers = signed_payment(order.id, amount, order.currency, webhook_secret(), webhook_id)
    url = f"{args.api.rstrip('/')}/payments/webhook"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - operator's URL
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            status, text = answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        status, text = refused.code, refused.read().decode()
    print(f"POST {url} (webhook-id {webhook_id}, {amount} {order.currency}) -> {status} {text}")
    return 0 if 200 <= status < 300 else 1


COMMANDS: dict[str, Callable[[Table, argparse.Namespace], int]] = {
    "pay": _cmd_pay,
    "create-admin": _cmd_create_admin,
    "seed": _cmd_seed,
    "create-table": _cmd_create_table,
    "dump": _cmd_dump,
    "load": _cmd_load,
}


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser of every operator command."""
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("create-table", help="create the table and its indexes (idempotent)")
    sub.add_parser("seed", help="demo users and products (skips users that exist)")
    admin = sub.add_parser("create-admin", help="create an admin, or promote an existing user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Administrator")
    pay = sub.add_parser(
        "pay", help="send a signed payment.succeeded webhook for an order to the running API"
    )
    pay.add_argument("order_id")
    pay.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")
    pay.add_argument("--amount", help="pay another amount (the API answers 422)")
    pay.add_argument("--webhook-id", help="reuse a delivery id (the API applies it once)")
    for name in ("dump", "load"):
        cmd = sub.add_parser(name, help=f"{name} every item as DynamoDB JSON lines")
        cmd.add_argument("--file", default=".local/data.jsonl")
    return parser


def main(argv: list[str] | None = None, table: Table | None = None) -> int:
    """Run one operator command on the environment's table (or the one given); its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](table or get_table(), args)
    except ServiceUnavailableError:
        # One line, not a traceback: the usual cause is the wrong engine or none running.
        where = os.environ.get("DYNAMODB_ENDPOINT") or "the stage's DynamoDB endpoint"
        print(f"manage.py: cannot reach DynamoDB at {where} (is `make run` running? "
              "DYNAMODB_ENDPOINT names its engine)", file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
