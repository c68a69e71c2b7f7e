"""Password hashing: Argon2id (argon2-cffi), parameters from a policy object.

The parameters are written into every hash (`$argon2id$v=19$m=…,t=…,p=…$…`), so they can
be raised later: a login whose stored hash was made with other parameters re-hashes it.
Unknown e-mails are verified against a dummy hash made with the same policy, so a login
takes about as long whether or not the address is registered.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.config import Settings

if TYPE_CHECKING:
    from argon2 import PasswordHasher as Argon2


@dataclass(frozen=True)
class PasswordPolicy:
    """Argon2id cost parameters (memory in KiB)."""

    time_cost: int
    memory_cost_kib: int
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


# OWASP Password Storage Cheat Sheet, Argon2id, first of its equivalent configurations:
# m=19 MiB, t=2, p=1. A 1024 MB Lambda computes one in ~40 ms.
OWASP_MIN_TIME_COST = 2
OWASP_MIN_MEMORY_KIB = 19 * 1024
DEFAULT_POLICY = PasswordPolicy(time_cost=2, memory_cost_kib=19 * 1024, parallelism=1)
# The test stage only (a test suite registers hundreds of users): deliberately cheap, and
# never chosen for any other stage (see policy_for()).
TEST_POLICY = PasswordPolicy(time_cost=1, memory_cost_kib=64, parallelism=1)


def meets_owasp_minimum(policy: PasswordPolicy) -> bool:
    """True when the policy is at least OWASP's m=19 MiB, t=2, p=1 for Argon2id."""
    return (
        policy.memory_cost_kib >= OWASP_MIN_MEMORY_KIB
        and policy.time_cost >= OWASP_MIN_TIME_COST
        and policy.parallelism >= 1
        and policy.salt_len >= 16
    )


class PasswordHasher:
    """Hash, verify and spot outdated hashes under one policy."""

    def __init__(self, policy: PasswordPolicy = DEFAULT_POLICY) -> None:
        # Deferred (~25 ms): only registration, login and password changes pay for it.
        from argon2 import PasswordHasher, Type

        self.policy = policy
        self._argon2: Argon2 = PasswordHasher(
            time_cost=policy.time_cost,
            memory_cost=policy.memory_cost_kib,
            parallelism=policy.parallelism,
            hash_len=policy.hash_len,
            salt_len=policy.salt_len,
            type=Type.ID,
        )
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """A fresh salted Argon2id hash of the password."""
        return self._argon2.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """True when the password matches; False for a mismatch or a corrupt hash."""
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._argon2.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):  # VerifyMismatchError is a VerificationError
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend the time a real verification would (for e-mails that are not registered)."""
        if self._dummy is None:
            # Lazily, once per container: hashing at import would slow every cold start.
            self._dummy = self.hash("dummy password that never matches anything")
        self.verify(self._dummy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with other parameters than this policy's."""
        from argon2.exceptions import InvalidHashError

        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except (InvalidHashError, ValueError):
            return True


def policy_for(settings: Settings) -> PasswordPolicy:
    """OWASP parameters everywhere except the `test` stage that the test suite runs."""
    return TEST_POLICY if settings.stage == "test" else DEFAULT_POLICY


@functools.cache
def hasher_for(policy: PasswordPolicy) -> PasswordHasher:
    """One hasher per policy for the container's life (it caches its dummy hash)."""
    return PasswordHasher(policy)
