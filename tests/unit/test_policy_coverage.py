"""The hand-written IAM policies: exactly what the Lambda code needs, on the stage's own
resources. The DynamoDB actions are discovered from the code at test time (ast), so a
new store call without its permission — or a permission nobody uses — fails here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import keys, schema
from infra import build, iam
from infra.stage import DEPLOYED_STAGES, ROOT, Stage, load_stage

STAGES = [load_stage(name) for name in DEPLOYED_STAGES]
# X-Ray's write actions have no resource-level permissions: "*" is the narrowest AWS allows.
RESOURCE_LESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def _api_policy(stage: Stage) -> dict[str, Any]:
    return iam.load_policy(stage.api_policy_file)


def _authorizer_policy(stage: Stage) -> dict[str, Any]:
    return iam.load_policy(stage.authorizer_policy_file)


def _all_policies(stage: Stage) -> list[dict[str, Any]]:
    return [_api_policy(stage), _authorizer_policy(stage)]


def _table_arn(stage: Stage) -> str:
    return f"arn:aws:dynamodb:*:*:table/{stage.table_name}"


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_api_policy_grants_exactly_the_dynamodb_actions_the_code_calls(stage: Stage) -> None:
    # Given the actions the Lambda code performs, read from its source
    needed = iam.required_dynamodb_actions(ROOT)
    # When the stage's API-handler policy is read
    granted = iam.actions(_api_policy(stage), "dynamodb")
    # Then it grants every one of them and nothing more
    assert granted == needed, f"missing {needed - granted}, unused {granted - needed}"


def test_code_discovery_finds_the_store_basics_and_no_operator_only_call() -> None:
    needed = iam.required_dynamodb_actions(ROOT)
    # The Table wrapper's calls are always there...
    assert {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "DescribeTable"} <= needed
    # ...and manage.py's operator calls are not (the Lambda never makes them).
    assert not needed & {"CreateTable", "Scan", "BatchWriteItem", "DescribeTimeToLive", "UpdateTimeToLive"}
    assert "TransactWriteItems" not in needed  # not an IAM action: items are checked one by one


def test_discovery_reads_client_calls_and_transaction_item_kinds() -> None:
    source = """
def place(table):
    table.client.batch_get_item(RequestItems={})
    table.transact_write([{"ConditionCheck": {}}, dict(Update={})])
    table.client.transact_write_items(TransactItems=[])
    settings.get_item("not a client")
"""
    assert iam.required_actions_in([source]) == {"BatchGetItem", "ConditionCheckItem", "UpdateItem"}


def test_discovery_ignores_transaction_shapes_when_no_transaction_is_made() -> None:
    source = 'client.get_item(Key={})\nspec = {"Put": 1, "Delete": 2}\n'
    assert iam.required_actions_in([source]) == {"GetItem"}


def test_discovery_covers_the_operator_table_when_asked(tmp_path: Path) -> None:
    # Given the operator's table placed where Lambda code lives, its calls are found: the
    # exclusion is a matter of which files are read, not of the parser missing them.
    (tmp_path / "chalicelib").mkdir()
    source = (ROOT / "chalicelib" / "store" / "operator.py").read_text(encoding="utf-8")
    (tmp_path / "app.py").write_text(source, encoding="utf-8")
    found = iam.required_dynamodb_actions(tmp_path)
    assert {"CreateTable", "Scan", "BatchWriteItem"} <= found


def test_the_operator_table_is_left_out_of_the_functions_code() -> None:
    # Its calls are the operator's; a function that imported it would fail the import budget.
    assert not {"CreateTable", "Scan", "BatchWriteItem"} & iam.required_dynamodb_actions(ROOT)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_dynamodb_statements_name_only_the_stage_table_and_its_indexes(stage: Stage) -> None:
    table = _table_arn(stage)
    indexes = {f"{table}/index/{gsi['IndexName']}" for gsi in schema.GLOBAL_SECONDARY_INDEXES}
    dynamo = [s for s in iam.statements(_api_policy(stage)) if s["Action"][0].startswith("dynamodb:")]
    resources = {r for s in dynamo for r in s["Resource"]}
    assert resources == {table} | indexes
    for statement in dynamo:
        if set(statement["Resource"]) & indexes:
            # An index can only be read by Query (or Scan): nothing else belongs there.
            assert set(statement["Action"]) == {"dynamodb:Query"}
            assert set(statement["Resource"]) == indexes


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_authorizer_policy_grants_only_getitem_on_session_items(stage: Stage) -> None:
    # The authorizer's one call is the session GetItem (tests/integration/test_sessions_writes.py
    # records its real calls and checks them against this policy)
    assert iam.actions(_authorizer_policy(stage), "dynamodb") == {"GetItem"}
    dynamo = [s for s in iam.statements(_authorizer_policy(stage)) if s["Action"][0].startswith("dynamodb:")]
    assert len(dynamo) == 1
    assert dynamo[0]["Resource"] == [_table_arn(stage)]  # the table, never an index
    # dynamodb:LeadingKeys pins the partition key: a session's, never a user's (password hash)
    leading = dynamo[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert leading == [keys.user_sessions_partition("*")]
    assert not keys.user_key("x")["pk"].startswith(keys.SESSION_PREFIX)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_authorizer_policy_grants_no_dynamodb_action_its_code_cannot_reach(stage: Stage) -> None:
    # Lambda loads only the authorizer's handler module (and what it imports), so that code
    # bounds its policy; tests/deploy/test_zip_lambda.py checks each call it makes is granted.
    reachable = iam.reachable_dynamodb_actions(build.AUTHORIZER_MODULE, ROOT)
    granted = iam.actions(_authorizer_policy(stage), "dynamodb")
    assert granted <= reachable, f"never called by the authorizer's code: {granted - reachable}"


def test_the_authorizer_module_is_the_one_its_handler_string_names() -> None:
    from app import app

    (authorizer,) = app.builtin_auth_handlers
    assert authorizer.handler_string.rpartition(".")[0] == build.AUTHORIZER_MODULE


def test_the_api_handler_reaches_all_lambda_code_and_the_authorizer_no_store(tmp_path: Path) -> None:
    # The API handler (app.py) imports every route, so its reach is all Lambda code...
    assert iam.reachable_dynamodb_actions("app", ROOT) == iam.required_dynamodb_actions(ROOT)
    closure = {p.relative_to(ROOT).as_posix() for p in iam.module_closure(build.AUTHORIZER_MODULE, ROOT)}
    assert {"chalicelib/__init__.py", "chalicelib/api/__init__.py", "chalicelib/api/auth.py"} <= closure
    assert "app.py" not in closure


def test_closure_follows_relative_deferred_and_from_imports(tmp_path: Path) -> None:
    # Given a handler module that reaches a store call only through a deferred relative import
    package = tmp_path / "chalicelib"
    (package / "store").mkdir(parents=True)
    for init in (package / "__init__.py", package / "store" / "__init__.py"):
        init.write_text("", encoding="utf-8")
    (package / "handler.py").write_text("def run():\n    from .store import items\n", encoding="utf-8")
    (package / "store" / "items.py").write_text(
        "def get(c):\n    c.client.get_item(Key={})\n", encoding="utf-8"
    )
    (package / "unrelated.py").write_text("def put(c):\n    c.client.put_item(Item={})\n", encoding="utf-8")
    # Then its reach has the store's call and not the unrelated module's
    assert iam.reachable_dynamodb_actions("chalicelib.handler", tmp_path) == {"GetItem"}


def _with_parameters(stage: Stage) -> list[tuple[dict[str, Any], list[str]]]:
    """Each function's policy and the SSM parameters it may read: both the JWT key; the API
    also the payment webhook secret (POST /payments/webhook)."""
    jwt = f"arn:aws:ssm:*:*:parameter{stage.jwt_secret_param}"
    webhook = f"arn:aws:ssm:*:*:parameter/storefront/{stage.name}/payment-webhook-secret"
    return [(_api_policy(stage), [jwt, webhook]), (_authorizer_policy(stage), [jwt])]


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_functions_read_only_the_stage_parameters(stage: Stage) -> None:
    assert stage.jwt_secret_param == f"/storefront/{stage.name}/jwt-secret"
    for policy, parameters in _with_parameters(stage):
        ssm = [s for s in iam.statements(policy) if any(a.startswith("ssm:") for a in s["Action"])]
        assert [(s["Action"], s["Resource"]) for s in ssm] == [(["ssm:GetParameter"], parameters)]


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_kms_decrypt_only_through_ssm_for_those_parameters(stage: Stage) -> None:
    for policy, parameters in _with_parameters(stage):
        kms = [s for s in iam.statements(policy) if any(a.startswith("kms:") for a in s["Action"])]
        assert len(kms) == 1
        assert kms[0]["Action"] == ["kms:Decrypt"]
        conditions = kms[0]["Condition"]["StringLike"]
        assert conditions["kms:ViaService"] == "ssm.*.amazonaws.com"
        expected = parameters[0] if len(parameters) == 1 else parameters
        assert conditions["kms:EncryptionContext:PARAMETER_ARN"] == expected


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_logs_go_only_to_each_function_own_log_group(stage: Stage) -> None:
    # The scheduled sweep runs with the API's policy (infra/template.py), so that one names both.
    for policy, functions in (
        (_api_policy(stage), (stage.api_function_name, stage.sweep_function_name)),
        (_authorizer_policy(stage), (stage.authorizer_function_name,)),
    ):
        logs = [s for s in iam.statements(policy) if any(a.startswith("logs:") for a in s["Action"])]
        assert {a for s in logs for a in s["Action"]} == {"logs:CreateLogStream", "logs:PutLogEvents"}
        assert {r for s in logs for r in s["Resource"]} == {
            f"arn:aws:logs:*:*:log-group:/aws/lambda/{function}:*" for function in functions
        }


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_no_wildcard_action_and_no_star_resource_where_aws_allows_narrower(stage: Stage) -> None:
    for policy in _all_policies(stage):
        for statement in iam.statements(policy):
            assert statement["Effect"] == "Allow"
            assert not [a for a in statement["Action"] if "*" in a]
            if "*" in statement["Resource"]:
                assert set(statement["Action"]) <= RESOURCE_LESS_ACTIONS


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_both_functions_may_write_traces(stage: Stage) -> None:
    for policy in _all_policies(stage):
        assert iam.actions(policy, "xray") == {"PutTraceSegments", "PutTelemetryRecords"}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_pinned_policy_names_the_stack_account_and_region_everywhere(stage: Stage) -> None:
    pinned = iam.pin_to_stack(_api_policy(stage))
    text = repr(pinned)
    assert not re.search(r"arn:aws:[a-z0-9-]+:\*:\*:", text)
    assert "ssm.*.amazonaws.com" not in text
    table = f"arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/{stage.table_name}"
    assert {"Fn::Sub": table} in [s["Resource"] for s in pinned["Statement"]]
