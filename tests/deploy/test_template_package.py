"""`make package` for both stages, for real: `chalice package --merge-template` (Python
3.13) without any AWS credentials, the zip slimmed, the releases patched in, and cfn-lint
(with the SAM translator) on the result. This is the same code path as
`make package STAGE=...`, so `make test` (and CI) runs it. The packages are built once per
session (tests/deploy/conftest.py) and shared with the zip test."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.store import schema
from infra import build, events, iam, lambda_runtime, release, slim, template, webhooks
from infra.stage import DEPLOYED_STAGES, load_stage

# The deployment tests share the session-scoped packages: `make test` runs them in one process.
pytestmark = pytest.mark.slow


def _resources(package: build.Package) -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(package.template.read_text(encoding="utf-8"))["Resources"]
    return resources


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_packaged_template_passes_cfn_lint_with_the_sam_transform(
    packages: dict[str, build.Package], stage: str
) -> None:
    assert build.lint(packages[stage].template) == ""


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_sam_transform_succeeds_and_its_cloudformation_passes_cfn_lint(
    packages: dict[str, build.Package], stage: str
) -> None:
    assert build.lint(packages[stage].transformed) == ""


def test_transformed_stage_is_traced_throttled_and_access_logged(packages: dict[str, build.Package]) -> None:
    # The API stage exists only after the SAM transform: check the settings reached it.
    resources = json.loads(packages["prod"].transformed.read_text(encoding="utf-8"))["Resources"]
    (stage,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["StageName"] == "api"
    assert stage["TracingEnabled"] is True
    assert stage["MethodSettings"][0]["ThrottlingRateLimit"] == load_stage("prod").limits.rate
    assert "AccessLogSetting" in stage
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert {f["Properties"]["TracingConfig"]["Mode"] for f in functions} == {"Active"}


def test_account_template_passes_cfn_lint() -> None:
    assert build.lint(build.ACCOUNT_TEMPLATE) == ""


def test_lint_reports_an_invalid_template(tmp_path: Path, packages: dict[str, build.Package]) -> None:
    # Given the prod template with a property SAM does not know
    document = json.loads(packages["prod"].template.read_text(encoding="utf-8"))
    document["Resources"]["RestAPI"]["Properties"]["TracingEnabledd"] = True
    broken = tmp_path / "sam.json"
    broken.write_text(json.dumps(document), encoding="utf-8")
    # Then cfn-lint says so (the check above is not vacuous)
    assert "TracingEnabledd" in build.lint(broken)


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_merge_only_touches_resources_chalice_generated_or_fully_defines(
    packages: dict[str, build.Package], stage: str
) -> None:
    # A merge into a logical id chalice did not generate leaves a resource without a Type.
    assert all("Type" in resource for resource in _resources(packages[stage]).values())


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_packaged_table_is_the_create_table_table(packages: dict[str, build.Package], stage: str) -> None:
    table = _resources(packages[stage])[template.TABLE]
    expected = schema.create_table_params(load_stage(stage).table_name)
    stream = expected.pop("StreamSpecification")
    assert {key: table["Properties"][key] for key in expected} == expected
    assert table["Properties"]["StreamSpecification"] == {"StreamViewType": stream["StreamViewType"]}
    assert table["Properties"]["DeletionProtectionEnabled"] is (stage == "prod")


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_each_function_role_carries_its_own_policy_file_pinned_to_the_stack(
    packages: dict[str, build.Package], stage: str
) -> None:
    config = load_stage(stage)
    resources = _resources(packages[stage])
    for role, policy_file in (
        (template.API_HANDLER_ROLE, config.api_policy_file),
        (template.AUTHORIZER_ROLE, config.authorizer_policy_file),
    ):
        (policy,) = resources[role]["Properties"]["Policies"]
        assert policy["PolicyDocument"] == iam.pin_to_stack(iam.load_policy(policy_file))
    assert resources[template.AUTHORIZER]["Properties"]["Role"] == {
        "Fn::GetAtt": [template.AUTHORIZER_ROLE, "Arn"]
    }


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_functions_are_traced_and_wired_to_table_and_jwt_parameter(
    packages: dict[str, build.Package], stage: str
) -> None:
    resources = _resources(packages[stage])
    for function in (template.API_HANDLER, template.AUTHORIZER):
        properties = resources[function]["Properties"]
        assert properties["Tracing"] == "Active"
        variables = properties["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": template.TABLE}
        assert variables["JWT_SECRET_PARAM"] == f"/storefront/{stage}/jwt-secret"
        assert variables["STAGE"] == stage


def test_api_routes_use_the_jwt_authorizer_and_gateway_responses_are_in_the_definition(
    packages: dict[str, build.Package],
) -> None:
    definition = _resources(packages["prod"])[template.REST_API]["Properties"]["DefinitionBody"]
    assert "jwt_auth" in definition["securityDefinitions"]
    # API Gateway caches each decision 60 s: the longest an ended session's token still passes
    authorizer = definition["securityDefinitions"]["jwt_auth"]["x-amazon-apigateway-authorizer"]
    assert authorizer["authorizerResultTtlInSeconds"] == 60
    assert "/health" in definition["paths"]
    assert "ACCESS_DENIED" in definition["x-amazon-apigateway-gateway-responses"]


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_zip_has_the_app_and_nothing_the_runtime_already_ships(
    packages: dict[str, build.Package], stage: str
) -> None:
    package = packages[stage]
    with zipfile.ZipFile(package.zip) as archive:
        names = archive.namelist()
    assert "app.py" in names
    assert "chalicelib/store/schema.py" in names
    assert not [n for n in names if n.split("/")[0] in {"botocore", "boto3", "s3transfer"}]
    assert not [n for n in names if n.startswith(("tests/", "infra/", "tools/", ".chalice/"))]
    assert package.zip.stat().st_size < build.ZIP_BUDGET_BYTES
    # Every module carries bytecode for the runtime's Python, and only for it
    assert slim.bytecode_gaps(names, "cpython-313") == []
    assert not [n for n in names if n.endswith(".pyc") and ".cpython-313." not in n]
    # C extensions were fetched for 3.13 (chalice picks wheels for the packaging interpreter)
    extensions = [n for n in names if n.endswith(".so") and ".abi3." not in n]
    assert extensions
    assert all(".cpython-313-x86_64-linux-gnu." in n for n in extensions), extensions


def _transformed(package: build.Package) -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(package.transformed.read_text(encoding="utf-8"))["Resources"]
    return resources


def _of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_every_function_publishes_snapstart_versions_behind_the_live_alias_and_deploys_with_alarms(
    packages: dict[str, build.Package], stage: str
) -> None:
    resources = _resources(packages[stage])
    alarms = set(_of_type(resources, "AWS::CloudWatch::Alarm")) - events.ALARMS - webhooks.ALARMS
    functions = _of_type(resources, "AWS::Serverless::Function")
    # The scheduled sweep is the one function no client waits for: no alias, canary or SnapStart;
    # nor have the event publisher (infra/events.py) and the webhook worker (infra/webhooks.py).
    assert set(functions) == {*release.FUNCTIONS, template.SWEEP, events.PUBLISHER, webhooks.WORKER}
    for name in release.FUNCTIONS:
        properties = functions[name]["Properties"]
        assert properties["Runtime"] == lambda_runtime.RUNTIME
        assert properties["AutoPublishAlias"] == release.ALIAS
        assert properties["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        preference = properties["DeploymentPreference"]
        assert preference["Type"] == ("Canary10Percent5Minutes" if stage == "prod" else "AllAtOnce")
        assert {alarm["Ref"] for alarm in preference["Alarms"]} == alarms


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_expiry_sweep_runs_every_minute_under_its_pinned_name_with_the_api_policy(
    packages: dict[str, build.Package], stage: str
) -> None:
    resources = _resources(packages[stage])
    sweep = resources[template.SWEEP]["Properties"]
    assert sweep["Handler"] == "chalicelib.api.sweep.expire_orders"
    assert sweep["FunctionName"] == load_stage(stage).sweep_function_name
    assert [event["Properties"]["Schedule"] for event in sweep["Events"].values()] == ["rate(1 minute)"]
    role = resources[template.SWEEP_ROLE]["Properties"]["Policies"][0]["PolicyDocument"]
    api_role = resources[template.API_HANDLER_ROLE]["Properties"]["Policies"][0]["PolicyDocument"]
    assert role == api_role
    log_group = resources["ExpireOrdersLogGroup"]["Properties"]["LogGroupName"]
    assert log_group == f"/aws/lambda/{load_stage(stage).sweep_function_name}"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_api_gateway_invokes_the_aliases_never_latest(packages: dict[str, build.Package], stage: str) -> None:
    # In the CloudFormation SAM makes of the template: what would really be deployed
    resources = _transformed(packages[stage])
    aliases = _of_type(resources, "AWS::Lambda::Alias")
    assert set(aliases) == {release.alias_id(f) for f in release.FUNCTIONS}
    for alias in aliases.values():
        assert alias["Properties"]["Name"] == release.ALIAS
        assert "CodeDeployLambdaAliasUpdate" in alias["UpdatePolicy"]
    (api,) = _of_type(resources, "AWS::ApiGateway::RestApi").values()
    body = json.dumps(api["Properties"]["Body"])
    targets = re.findall(r"functions/\$\{(\w+)\}/invocations", body)
    assert set(targets) == set(aliases)  # every integration and the authorizer's URI
    assert len(targets) == body.count("/invocations")
    permissions = _of_type(resources, "AWS::Lambda::Permission").values()
    from_gateway = [p for p in permissions if p["Properties"]["Principal"] == "apigateway.amazonaws.com"]
    assert sorted(p["Properties"]["FunctionName"]["Ref"] for p in from_gateway) == sorted(aliases)
    # The scheduled sweep (EventBridge calls it; no client waits) and the event publisher are
    # the functions without an alias, a canary or SnapStart.
    for name, function in _of_type(resources, "AWS::Lambda::Function").items():
        if name not in {template.SWEEP, events.PUBLISHER, webhooks.WORKER}:
            assert function["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    # CodeDeploy: one application, a deployment group per function with the alarms and
    # automatic rollback, and the service role SAM creates for it
    assert len(_of_type(resources, "AWS::CodeDeploy::Application")) == 1
    groups = _of_type(resources, "AWS::CodeDeploy::DeploymentGroup").values()
    assert len(groups) == len(release.FUNCTIONS)
    alarms = set(_of_type(resources, "AWS::CloudWatch::Alarm")) - events.ALARMS - webhooks.ALARMS
    for group in groups:
        properties = group["Properties"]
        assert properties["AlarmConfiguration"]["Enabled"] is True
        assert {a["Name"]["Ref"] for a in properties["AlarmConfiguration"]["Alarms"]} == set(alarms)
        assert "DEPLOYMENT_STOP_ON_ALARM" in properties["AutoRollbackConfiguration"]["Events"]
        role = properties["ServiceRoleArn"]["Fn::GetAtt"][0]
        assert resources[role]["Type"] == "AWS::IAM::Role"
    assert api["Properties"]["Name"] == release.api_name(load_stage(stage))


def test_alarms_watch_the_api_both_functions_and_the_table(packages: dict[str, build.Package]) -> None:
    stage = load_stage("prod")
    limits = release.THRESHOLDS["prod"]
    alarms = {
        n: r["Properties"]
        for n, r in _of_type(_resources(packages["prod"]), "AWS::CloudWatch::Alarm").items()
    }

    def watched(properties: dict[str, Any]) -> set[tuple[str, str]]:
        stats = [m["MetricStat"]["Metric"] for m in properties.get("Metrics", []) if "MetricStat" in m]
        return {(m["Namespace"], m["MetricName"]) for m in stats or [properties]}

    assert watched(alarms["Api5xxRateAlarm"]) == {("AWS/ApiGateway", "5XXError"), ("AWS/ApiGateway", "Count")}
    assert alarms["Api5xxRateAlarm"]["Threshold"] == limits.server_error_percent
    assert alarms["ApiLatencyP99Alarm"]["ExtendedStatistic"] == "p99"
    assert alarms["ApiLatencyP99Alarm"]["Threshold"] == limits.p99_latency_ms
    api_dimensions = {d["Name"]: d["Value"] for d in alarms["ApiLatencyP99Alarm"]["Dimensions"]}
    assert api_dimensions == {"ApiName": "storefront-prod", "Stage": "api"}
    for label, function in (("Api", stage.api_function_name), ("Authorizer", stage.authorizer_function_name)):
        for kind in ("Errors", "Throttles"):
            alarm = alarms[f"{label}Function{kind}Alarm"]
            assert watched(alarm) == {("AWS/Lambda", kind)}
            dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
            assert dimensions == {"FunctionName": function, "Resource": f"{function}:live"}
    assert watched(alarms["TableThrottlesAlarm"]) == {
        ("AWS/DynamoDB", "ReadThrottleEvents"),
        ("AWS/DynamoDB", "WriteThrottleEvents"),
    }
    # SystemErrors are reported per operation: every data-plane operation the code performs
    system = alarms["TableSystemErrorsAlarm"]["Metrics"]
    operations = {
        d["Value"]
        for m in system
        if "MetricStat" in m
        for d in m["MetricStat"]["Metric"]["Dimensions"]
        if d["Name"] == "Operation"
    }
    assert operations == iam.required_dynamodb_operations() - {"DescribeTable"}
    assert {"TransactWriteItems", "GetItem", "Query"} <= operations
    for properties in alarms.values():
        assert properties["TreatMissingData"] == "notBreaching"
        assert (properties["EvaluationPeriods"], properties["DatapointsToAlarm"]) == (3, 2)


def test_one_dashboard_shows_the_service_and_every_deployment_alarm(
    packages: dict[str, build.Package],
) -> None:
    resources = _resources(packages["prod"])
    (dashboard,) = _of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(
        dashboard["Properties"]["DashboardBody"]["Fn::Sub"].replace("${AWS::Region}", "us-east-1")
    )
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert any("API" in t for t in titles)
    assert any("DynamoDB" in t for t in titles)
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]
    system_errors = {m[5] for m in metrics if m[1] == "SystemErrors"}
    assert system_errors == iam.required_dynamodb_operations() - {"DescribeTable"}
    assert {m[-1] for m in metrics if m[1] == "ColdStart"} == {"restore", "on-demand"}
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarms = set(_of_type(resources, "AWS::CloudWatch::Alarm")) - events.ALARMS - webhooks.ALARMS
    assert {
        a.removeprefix("${").removesuffix(".Arn}") for a in alarm_widget["properties"]["alarms"]
    } == alarms
