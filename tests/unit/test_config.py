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
