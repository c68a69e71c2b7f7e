"""Settings come from the environment, with safe defaults only where safe."""

from __future__ import annotations

import pytest

from chalicelib.config import LOCAL_DYNAMODB_ENDPOINT, SettingsError, load_settings


def test_local_stage_defaults_to_the_embedded_engine() -> None:
    settings = load_settings({"STAGE": "local"})
    assert settings.dynamodb_endpoint == LOCAL_DYNAMODB_ENDPOINT
    assert settings.is_local
    assert settings.metrics_enabled is False


def test_deployed_stage_has_no_endpoint_and_metrics_on() -> None:
    settings = load_settings({"STAGE": "prod", "TABLE_NAME": "t"})
    assert settings.dynamodb_endpoint is None
    assert not settings.is_local
    assert settings.metrics_enabled is True


def test_token_ttl_must_be_an_integer() -> None:
    with pytest.raises(SettingsError):
        load_settings({"TOKEN_TTL_SECONDS": "soon"})


def test_previous_secrets_are_split_on_commas() -> None:
    settings = load_settings({"JWT_PREVIOUS_SECRETS": "a,b,"})
    assert settings.jwt_previous_secrets == ("a", "b")


def test_previous_secrets_lose_the_blanks_around_them() -> None:
    # "k1, k2" is two keys, not "k1" and " k2" (a key that would verify nothing)
    settings = load_settings({"JWT_PREVIOUS_SECRETS": " a , b\t,\nc "})
    assert settings.jwt_previous_secrets == ("a", "b", "c")


@pytest.mark.parametrize(
    ("stage", "raw", "backend"), [("prod", "", "ses"), ("local", "", "file"), ("prod", " File ", "file")]
)
def test_mail_backend_is_the_stage_default_or_a_known_one(stage: str, raw: str, backend: str) -> None:
    assert load_settings({"STAGE": stage, "MAIL_BACKEND": raw}).mail.backend == backend


def test_an_unknown_mail_backend_is_refused_not_read_as_files() -> None:
    # A typo on a deployed stage would otherwise write every account mail to a file nobody reads
    with pytest.raises(SettingsError, match="MAIL_BACKEND"):
        load_settings({"STAGE": "prod", "MAIL_BACKEND": "sess"})
