"""The key ring: where keys come from, what is refused, how rotation works."""

from __future__ import annotations

import json

import pytest

from chalicelib.config import LOCAL_DEFAULT_JWT_SECRET, SettingsError, load_settings
from chalicelib.security.keys import build_keyring, derived_key, make_key, parse_secret_value

K1 = "k1-" + "a" * 40
K2 = "k2-" + "b" * 40
K3 = "k3-" + "c" * 40


def test_local_stage_without_a_secret_uses_the_marked_default_key() -> None:
    ring = build_keyring(load_settings({"STAGE": "local"}))
    assert ring.current == make_key(LOCAL_DEFAULT_JWT_SECRET)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_deployed_stage_refuses_the_local_default_key(stage: str) -> None:
    settings = load_settings({"STAGE": stage, "JWT_SECRET": LOCAL_DEFAULT_JWT_SECRET})
    with pytest.raises(SettingsError, match="local default"):
        build_keyring(settings)


def test_deployed_stage_refuses_the_local_default_key_even_as_a_previous_key() -> None:
    settings = load_settings(
        {"STAGE": "prod", "JWT_SECRET": K1, "JWT_PREVIOUS_SECRETS": LOCAL_DEFAULT_JWT_SECRET}
    )
    with pytest.raises(SettingsError, match="local default"):
        build_keyring(settings)


def test_deployed_stage_without_any_key_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET_PARAM"):
        build_keyring(load_settings({"STAGE": "prod"}))


@pytest.mark.parametrize("stage", ["local", "test", "prod"])
def test_a_key_shorter_than_32_bytes_is_refused_in_every_stage(stage: str) -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        build_keyring(load_settings({"STAGE": stage, "JWT_SECRET": "x" * 31}))


def test_a_short_previous_key_is_refused() -> None:
    with pytest.raises(SettingsError, match="32 bytes"):
        build_keyring(load_settings({"STAGE": "test", "JWT_SECRET": K1, "JWT_PREVIOUS_SECRETS": "short"}))


@pytest.mark.parametrize("stage", ["local", "prod"])
def test_a_key_with_non_ascii_characters_is_a_key_like_any_other(stage: str) -> None:
    # The local-default check compared text, which hmac refuses for non-ASCII (a TypeError)
    secret = "clé-de-signature-" + "é" * 20
    ring = build_keyring(load_settings({"STAGE": stage, "JWT_SECRET": secret}))
    assert ring.current == make_key(secret)


def test_environment_previous_keys_verify_but_only_current_signs() -> None:
    ring = build_keyring(
        load_settings({"STAGE": "test", "JWT_SECRET": K1, "JWT_PREVIOUS_SECRETS": f"{K2},{K3}"})
    )
    assert ring.current == make_key(K1)
    assert [k.secret.decode() for k in ring.verifying()] == [K1, K2, K3]
    assert ring.find(make_key(K3).kid) == make_key(K3)
    assert ring.find("unknown") is None


def test_ssm_parameter_is_fetched_by_name_and_region_and_wins_over_the_environment() -> None:
    calls: list[tuple[str, str]] = []

    def fetch(name: str, region: str) -> str:
        calls.append((name, region))
        return json.dumps({"current": K2, "previous": [K1]})

    settings = load_settings(
        {
            "STAGE": "prod",
            "JWT_SECRET_PARAM": "/sf/prod/jwt",
            "JWT_SECRET": K3,
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    ring = build_keyring(settings, fetch_parameter=fetch)
    assert calls == [("/sf/prod/jwt", "eu-west-1")]
    assert ring.current == make_key(K2)
    assert ring.previous == (make_key(K1),)


def test_a_plain_ssm_value_is_one_current_key() -> None:
    assert parse_secret_value(f"  {K1}\n") == (K1, [])


@pytest.mark.parametrize(
    "value",
    [
        "{not json",
        '{"previous": []}',
        '{"current": 42}',
        '{"current": "x", "previous": "y"}',
        '{"current": "x", "previous": [1]}',
    ],
)
def test_malformed_ssm_json_is_refused(value: str) -> None:
    with pytest.raises(SettingsError):
        parse_secret_value(value)


def test_a_retired_key_is_simply_absent_from_the_ring() -> None:
    ring = build_keyring(load_settings({"STAGE": "test", "JWT_SECRET": K2, "JWT_PREVIOUS_SECRETS": K2}))
    assert ring.previous == ()  # the current key is not listed twice
    assert ring.find(make_key(K1).kid) is None


def test_kid_does_not_reveal_the_key_and_differs_per_key() -> None:
    assert K1 not in make_key(K1).kid
    assert make_key(K1).kid != make_key(K2).kid


def test_derived_keys_differ_by_purpose_and_from_the_signing_key() -> None:
    key = make_key(K1)
    assert derived_key(key, "cursor") != derived_key(key, "other")
    assert derived_key(key, "cursor") != key.secret
