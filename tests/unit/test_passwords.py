"""Argon2id hashing under a policy: OWASP by default, cheap only for the test stage."""

from __future__ import annotations

import pytest

from chalicelib.config import load_settings
from chalicelib.security.passwords import (
    DEFAULT_POLICY,
    TEST_POLICY,
    PasswordHasher,
    PasswordPolicy,
    meets_owasp_minimum,
    policy_for,
)

CHEAP = PasswordHasher(TEST_POLICY)


def test_default_policy_meets_owasp_argon2id_minimum() -> None:
    assert meets_owasp_minimum(DEFAULT_POLICY)
    assert DEFAULT_POLICY.memory_cost_kib >= 19 * 1024
    assert DEFAULT_POLICY.time_cost >= 2
    assert DEFAULT_POLICY.parallelism >= 1


@pytest.mark.parametrize(
    "policy",
    [
        PasswordPolicy(time_cost=2, memory_cost_kib=19 * 1024 - 1, parallelism=1),
        PasswordPolicy(time_cost=1, memory_cost_kib=19 * 1024, parallelism=1),
        TEST_POLICY,
    ],
)
def test_weaker_policies_do_not_meet_owasp(policy: PasswordPolicy) -> None:
    assert not meets_owasp_minimum(policy)


@pytest.mark.parametrize("stage", ["local", "dev", "prod", "anything"])
def test_every_stage_but_test_uses_the_owasp_policy(stage: str) -> None:
    assert policy_for(load_settings({"STAGE": stage})) == DEFAULT_POLICY


def test_the_test_stage_uses_the_cheap_policy() -> None:
    assert policy_for(load_settings({"STAGE": "test"})) == TEST_POLICY


def test_default_policy_hash_is_argon2id_with_its_parameters_and_verifies() -> None:
    hasher = PasswordHasher()
    stored = hasher.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(stored, "correct horse battery")
    assert not hasher.verify(stored, "correct horse batterY")
    assert not hasher.needs_rehash(stored)


def test_same_password_hashes_differently_each_time() -> None:
    assert CHEAP.hash("password123") != CHEAP.hash("password123")


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=64,t=1,p=1$broken", "$2b$12$abc"])
def test_corrupt_or_foreign_hash_never_verifies_and_needs_rehash(stored: str) -> None:
    assert not CHEAP.verify(stored, "password123")
    assert CHEAP.needs_rehash(stored)


def test_hash_made_under_an_older_policy_needs_rehash() -> None:
    old = PasswordHasher(PasswordPolicy(time_cost=1, memory_cost_kib=32, parallelism=1))
    stored = old.hash("password123")
    assert CHEAP.verify(stored, "password123")  # parameters are read from the hash itself
    assert CHEAP.needs_rehash(stored)
    assert not CHEAP.needs_rehash(CHEAP.hash("password123"))


def test_dummy_verification_runs_a_real_argon2id_check_made_once_per_hasher() -> None:
    hasher = PasswordHasher(TEST_POLICY)
    hasher.verify_dummy("whatever")
    dummy = hasher._dummy
    assert dummy is not None
    assert dummy.startswith("$argon2id$")
    assert not hasher.needs_rehash(dummy)  # same cost as a real user's hash
    hasher.verify_dummy("dummy password that never matches anything")
    assert hasher._dummy == dummy  # hashed once, not per login


def test_unicode_and_long_passwords_round_trip() -> None:
    password = "pässwörd-密码-🔑" * 8
    assert CHEAP.verify(CHEAP.hash(password), password)
