"""The template's mail pieces: the SES identity and configuration set are parameters (never
created by the stack), and the API function alone may send, exactly from them."""

from __future__ import annotations

from typing import Any

import pytest

from infra import mail, template
from infra.stage import DEPLOYED_STAGES, Stage, load_config, load_stage

STAGES = [load_stage(name) for name in DEPLOYED_STAGES]


def _document(stage: Stage) -> dict[str, Any]:
    return template.merge_template(stage)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_sender_identity_and_configuration_set_are_parameters_not_resources(stage: Stage) -> None:
    document = _document(stage)
    assert set(document["Parameters"]) >= {mail.IDENTITY, mail.FROM_ADDRESS, mail.CONFIGURATION_SET}
    assert "Default" not in document["Parameters"][mail.IDENTITY]  # chosen on purpose, per account
    types = {resource.get("Type", "") for resource in document["Resources"].values()}
    assert not any(t.startswith("AWS::SES::") for t in types)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_only_the_api_role_may_send_and_only_from_that_identity_and_set(stage: Stage) -> None:
    policy = _document(stage)["Resources"][mail.MAIL_POLICY]
    assert policy["Type"] == "AWS::IAM::Policy"
    assert policy["Properties"]["Roles"] == [{"Ref": template.API_HANDLER_ROLE}]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "ses:SendEmail"
    resources = [r["Fn::Sub"] for r in statement["Resource"]]
    assert [r.rsplit(":", 1)[1] for r in resources] == [
        "identity/${MailSenderIdentity}",
        "configuration-set/${MailConfigurationSet}",
    ]
    assert "*" not in "".join(resources)
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": mail.FROM_ADDRESS}}}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_api_function_gets_the_mail_settings_and_the_authorizer_none(stage: Stage) -> None:
    resources = _document(stage)["Resources"]
    api = resources[template.API_HANDLER]["Properties"]["Environment"]["Variables"]
    assert api["MAIL_SENDER"] == {"Ref": mail.FROM_ADDRESS}
    assert api["MAIL_CONFIGURATION_SET"] == {"Ref": mail.CONFIGURATION_SET}
    assert api["TABLE_NAME"] == {"Ref": template.TABLE}  # merged, not replaced
    authorizer = resources[template.AUTHORIZER]["Properties"]["Environment"]["Variables"]
    assert not any(name.startswith("MAIL_") for name in authorizer)


def test_deployed_stages_require_a_verified_address_and_local_ones_do_not() -> None:
    stages = load_config()["stages"]
    for name in DEPLOYED_STAGES:
        assert stages[name]["environment_variables"]["REQUIRE_VERIFIED_EMAIL"] == "true"
    for name in ("local", "test"):
        assert "REQUIRE_VERIFIED_EMAIL" not in stages[name]["environment_variables"]
