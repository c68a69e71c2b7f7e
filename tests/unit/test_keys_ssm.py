"""The deployed key source: an SSM SecureString, read with decryption (moto's SSM)."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from chalicelib.config import load_settings
from chalicelib.security.keys import build_keyring, make_key

CURRENT = "ssm-current-" + "c" * 40
PREVIOUS = "ssm-previous-" + "p" * 40


@mock_aws
def test_keyring_reads_the_secure_string_parameter_with_decryption() -> None:
    ssm = boto3.client("ssm", region_name="eu-west-1")
    value = json.dumps({"current": CURRENT, "previous": [PREVIOUS]})
    ssm.put_parameter(Name="/storefront/prod/jwt-secret", Value=value, Type="SecureString")
    settings = load_settings(
        {
            "STAGE": "prod",
            "JWT_SECRET_PARAM": "/storefront/prod/jwt-secret",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }
    )
    ring = build_keyring(settings)
    assert ring.current == make_key(CURRENT)
    assert ring.previous == (make_key(PREVIOUS),)
