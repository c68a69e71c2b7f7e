"""The template's mail pieces: the SES sender identity and configuration set as
parameters (they are set up once per account, with DNS, and never created blindly by this
stack), the API function's mail settings, and a policy that lets it send exactly from that
identity through that configuration set.

Kept apart from infra/template.py: `with_mail()` adds them to the merge template.
"""

from __future__ import annotations

from typing import Any

from infra.stage import Stage

IDENTITY = "MailSenderIdentity"
FROM_ADDRESS = "MailFromAddress"
CONFIGURATION_SET = "MailConfigurationSet"
LINK_BASE = "MailLinkBase"
MAIL_POLICY = "ApiHandlerMailPolicy"


def parameters(stage: Stage) -> dict[str, Any]:
    """The stack parameters that name the (existing) SES resources."""
    return {
        IDENTITY: {
            "Type": "String",
            "MinLength": 3,
            "Description": "A verified SES identity (domain or address) the account mails go out from",
        },
        FROM_ADDRESS: {
            "Type": "String",
            "MinLength": 3,
            "Description": "The From address of account mails (within the identity)",
        },
        CONFIGURATION_SET: {
            "Type": "String",
            "Default": f"{stage.app_name}-{stage.name}",
            "Description": "An existing SES configuration set (bounce and complaint events)",
        },
        LINK_BASE: {
            "Type": "String",
            "Description": "Where the mailed links point: the front end's base URL",
        },
    }


def send_policy(role: str) -> dict[str, Any]:
    """ses:SendEmail for exactly the identity and the configuration set, from the one address."""
    arn = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}"
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": MAIL_POLICY,
            "Roles": [{"Ref": role}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "SendAccountMail",
                        "Effect": "Allow",
                        "Action": "ses:SendEmail",
                        "Resource": [
                            {"Fn::Sub": f"{arn}:identity/${{{IDENTITY}}}"},
                            {"Fn::Sub": f"{arn}:configuration-set/${{{CONFIGURATION_SET}}}"},
                        ],
                        "Condition": {"StringEquals": {"ses:FromAddress": {"Ref": FROM_ADDRESS}}},
                    }
                ],
            },
        },
    }


def function_variables() -> dict[str, Any]:
    """The API function's mail settings (read by chalicelib/config.py)."""
    return {
        "MAIL_SENDER": {"Ref": FROM_ADDRESS},
        "MAIL_CONFIGURATION_SET": {"Ref": CONFIGURATION_SET},
        "MAIL_LINK_BASE": {"Ref": LINK_BASE},
    }


def with_mail(document: dict[str, Any], stage: Stage, function: str, role: str) -> dict[str, Any]:
    """`document` (the merge template) with the mail pieces added to it."""
    document.setdefault("Parameters", {}).update(parameters(stage))
    resources = document["Resources"]
    properties = resources.setdefault(function, {}).setdefault("Properties", {})
    properties.setdefault("Environment", {}).setdefault("Variables", {}).update(function_variables())
    resources[MAIL_POLICY] = send_policy(role)
    return document
