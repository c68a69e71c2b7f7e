"""Password-reset request timing, registered vs unregistered address: a report,
never a test assertion (the noise of a shared machine is too large for one).

Runs the reset-request use case against the embedded engine with the local file mailer
(one `.eml` per mail, as `make run` writes them), `--tries` interleaved requests each for a
registered address (a mail goes out every time: the budget is lifted) and an unregistered
one, with the response floor given (`--floor`, seconds; the stages' default is 0.5), and
reports the medians, Mann-Whitney's z and a permutation test (bench/login_timing.py).

    .venv/bin/python -m bench.reset_timing [--tries 100] [--floor 0.5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.login_timing import RIGHT as PASSWORD
from bench.login_timing import mann_whitney_z, own_engine, permutation_p


def measure(tries: int, floor: float, mail_dir: Path) -> tuple[list[float], list[float]]:
    """Milliseconds per reset request: (registered address, unregistered one), interleaved."""
    from chalicelib.api import deps
    from chalicelib.config import get_settings
    from chalicelib.mail.files import FileMailer
    from chalicelib.models.accounts import PasswordResetRequest
    from chalicelib.models.users import UserCreate
    from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
    from chalicelib.services import accounts, users
    from chalicelib.store.account_tokens import MailBudget
    from manage import create_table

    table = deps.get_table()
    create_table(table)
    account = UserCreate(email="ada@example.com", password=PASSWORD, name="Ada")
    users.register_user(table, account, PasswordHasher(TEST_POLICY))
    ctx = accounts.MailContext(
        FileMailer(mail_dir, "bench@storefront.test"),
        get_settings(),
        MailBudget(mails=10 * tries),
        accounts.Pace(floor_seconds=floor),
    )
    known: list[float] = []
    unknown: list[float] = []
    for i in range(2 * tries + 2):
        email = "ada@example.com" if i % 2 else "nobody@example.com"
        started = time.perf_counter()
        accounts.request_password_reset(table, PasswordResetRequest(email=email), ctx)
        elapsed = (time.perf_counter() - started) * 1000
        if i >= 2:  # the first pair warms the templates and the connection
            (known if i % 2 else unknown).append(elapsed)
    return known, unknown


def main() -> int:
    """Start an engine, measure, print the report."""
    parser = argparse.ArgumentParser(prog="python -m bench.reset_timing")
    parser.add_argument("--tries", type=int, default=100)
    parser.add_argument("--floor", type=float, default=0.5)
    args = parser.parse_args()
    with own_engine() as scratch:
        known, unknown = measure(args.tries, args.floor, scratch / "mail")
    z, p = mann_whitney_z(known, unknown)
    print(f"tries each: {len(known)}, floor {args.floor} s")
    print(f"registered address (mail sent): median {statistics.median(known):.2f} ms")
    print(f"unregistered address:           median {statistics.median(unknown):.2f} ms")
    print(f"Mann-Whitney U: z = {z:.2f}, two-sided p = {p:.3f}")
    print(f"permutation test (difference of medians): p = {permutation_p(known, unknown):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
