"""Releases that can be undone: what `chalice package` cannot say, patched into its SAM output.

chalice has no versions or aliases. Here every function gets
- `AutoPublishAlias: live`: each deploy publishes a version and moves the alias `live`;
- `SnapStart: ApplyOn: PublishedVersions`: each published version is initialised once and
  snapshotted, new environments resume from the snapshot (hooks: chalicelib/snapstart.py);
- `DeploymentPreference`: CodeDeploy shifts the alias to the new version (canary in prod)
  while the alarms below watch, and moves it back if any of them fires. SAM creates the
  CodeDeploy application and its service role;
and API Gateway is pointed at the alias, never at $LATEST: the proxy integrations and the
authorizer's URI in the API definition, and both invoke permissions.

The alarms, one dashboard and their thresholds are code, so the template shows them and
the tests check them; docs/deployment.md explains each threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.stage import Stage

ALIAS = "live"
DASHBOARD = "ServiceDashboard"
# chalice's logical ids for its functions and their invoke permissions.
FUNCTIONS = ("APIHandler", "JwtAuth")
PERMISSIONS = {"APIHandlerInvokePermission": "APIHandler", "JwtAuthInvokePermission": "JwtAuth"}
# DynamoDB reports SystemErrors per data-plane operation; DescribeTable (readiness) is not one.
_CONTROL_PLANE = frozenset({"DescribeTable"})
PERIOD_SECONDS = 60
# The app's own EMF metrics (chalicelib/config.py: METRICS_NAMESPACE default).
EMF_NAMESPACE = "Storefront"


@dataclass(frozen=True)
class Thresholds:
    """Per stage; why each value: docs/deployment.md, "Alarms"."""

    server_error_percent: float  # API 5xx share of requests, in a minute with enough traffic
    min_requests: int  # below this many requests a minute the 5xx share is not judged
    p99_latency_ms: int  # API Gateway Latency p99
    function_errors: int  # Lambda Errors (crash, timeout, init failure) per minute
    throttles: int  # Lambda Throttles per minute
    table_throttles: int  # DynamoDB read + write throttle events per minute
    table_system_errors: int  # DynamoDB SystemErrors per minute


THRESHOLDS = {
    "dev": Thresholds(5.0, 10, 5000, 1, 10, 10, 5),
    "prod": Thresholds(2.0, 20, 2500, 1, 10, 5, 5),
}


def api_name(stage: Stage) -> str:
    """The REST API's name (the ApiName dimension of its metrics), one per stage."""
    return f"{stage.app_name}-{stage.name}"


def apply(document: dict[str, Any], stage: Stage, operations: set[str]) -> dict[str, Any]:
    """Patch chalice's SAM template in place: alias, SnapStart, canary, alarms, dashboard.

    `operations` are the DynamoDB operations the code performs (iam.required_dynamodb_operations).
    """
    resources: dict[str, Any] = document["Resources"]
    missing = [name for name in (*FUNCTIONS, *PERMISSIONS) if name not in resources]
    if missing:
        raise ValueError(f"chalice's template has no {missing}: did its logical ids change?")
    alarms = alarm_resources(stage, operations)
    for name in FUNCTIONS:
        properties = resources[name]["Properties"]
        properties["AutoPublishAlias"] = ALIAS
        properties["SnapStart"] = {"ApplyOn": "PublishedVersions"}
        properties["DeploymentPreference"] = {
            "Type": stage.deployment_type,
            "Alarms": [{"Ref": alarm} for alarm in sorted(alarms)],
        }
    for permission, function in PERMISSIONS.items():
        resources[permission]["Properties"]["FunctionName"] = {"Ref": alias_id(function)}
    body = resources["RestAPI"]["Properties"]["DefinitionBody"]
    resources["RestAPI"]["Properties"]["DefinitionBody"] = _to_alias(body)
    resources.update(alarms)
    resources[DASHBOARD] = dashboard(stage, sorted(alarms), operations)
    outputs = document.setdefault("Outputs", {})
    for name in FUNCTIONS:
        outputs[f"{name}AliasArn"] = {"Value": {"Ref": alias_id(name)}}
    return document


def alias_id(function: str) -> str:
    """The logical id SAM gives the alias it creates for `AutoPublishAlias` (documented as
    <function>Alias<alias>). Named directly rather than as `function.Alias`: SAM resolves
    both, but cfn-lint's own transform leaves `${function.Alias}` inside Fn::Sub unresolved."""
    return f"{function}Alias{ALIAS}"


def _to_alias(value: Any) -> Any:
    """`${APIHandler.Arn}` → `${APIHandlerAliaslive}` in every Fn::Sub of the API definition."""
    if isinstance(value, dict):
        return {k: _to_alias(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_alias(v) for v in value]
    if isinstance(value, str):
        for function in FUNCTIONS:
            value = value.replace(f"${{{function}.Arn}}", f"${{{alias_id(function)}}}")
    return value


def alarm_resources(stage: Stage, operations: set[str]) -> dict[str, Any]:
    """Every alarm that stops and rolls back a deployment, by logical id."""
    limits = THRESHOLDS[stage.name]
    prefix = f"{stage.app_name}-{stage.name}"
    api = {"ApiName": api_name(stage), "Stage": "api"}
    table = {"TableName": {"Ref": "StorefrontTable"}}
    functions = {"Api": stage.api_function_name, "Authorizer": stage.authorizer_function_name}
    alarms: dict[str, Any] = {
        "Api5xxRateAlarm": _alarm(
            f"{prefix}-api-5xx-rate",
            f"API 5xx responses above {limits.server_error_percent} % of requests "
            f"(minutes with at least {limits.min_requests} requests)",
            metrics=[
                _metric("errors", "AWS/ApiGateway", "5XXError", api, "Sum"),
                _metric("requests", "AWS/ApiGateway", "Count", api, "Sum"),
                _expression(
                    "rate", f"IF(requests >= {limits.min_requests}, 100 * errors / requests, 0)", "5xx %"
                ),
            ],
            threshold=limits.server_error_percent,
            comparison="GreaterThanThreshold",
        ),
        "ApiLatencyP99Alarm": _alarm(
            f"{prefix}-api-latency-p99",
            f"API Gateway latency p99 above {limits.p99_latency_ms} ms",
            single=_single("AWS/ApiGateway", "Latency", api, extended="p99"),
            threshold=limits.p99_latency_ms,
            comparison="GreaterThanThreshold",
        ),
        "TableThrottlesAlarm": _alarm(
            f"{prefix}-table-throttles",
            f"DynamoDB read + write throttle events reach {limits.table_throttles} a minute",
            metrics=[
                _metric("reads", "AWS/DynamoDB", "ReadThrottleEvents", table, "Sum"),
                _metric("writes", "AWS/DynamoDB", "WriteThrottleEvents", table, "Sum"),
                _expression("throttled", "reads + writes", "throttle events"),
            ],
            threshold=limits.table_throttles,
        ),
        "TableSystemErrorsAlarm": _alarm(
            f"{prefix}-table-system-errors",
            f"DynamoDB system errors (HTTP 500 from the service) reach {limits.table_system_errors} a minute",
            metrics=system_error_metrics(operations),
            threshold=limits.table_system_errors,
        ),
    }
    for label, function in functions.items():
        resource = {"FunctionName": function, "Resource": f"{function}:{ALIAS}"}
        alarms[f"{label}FunctionErrorsAlarm"] = _alarm(
            f"{function}-errors",
            f"{function}:{ALIAS} invocation errors (crash, timeout, failed init or restore)",
            single=_single("AWS/Lambda", "Errors", resource, statistic="Sum"),
            threshold=limits.function_errors,
        )
        alarms[f"{label}FunctionThrottlesAlarm"] = _alarm(
            f"{function}-throttles",
            f"{function}:{ALIAS} throttled invocations reach {limits.throttles} a minute",
            single=_single("AWS/Lambda", "Throttles", resource, statistic="Sum"),
            threshold=limits.throttles,
        )
    return alarms


def system_error_metrics(operations: set[str]) -> list[dict[str, Any]]:
    """SystemErrors of each data-plane operation the code performs, summed (≤ 10 metrics)."""
    data_plane = sorted(operations - _CONTROL_PLANE)
    if not 0 < len(data_plane) < 10:
        raise ValueError(f"an alarm sums at most 9 metrics plus its expression: {data_plane}")
    metrics = [
        _metric(
            f"op{i}",
            "AWS/DynamoDB",
            "SystemErrors",
            {"TableName": {"Ref": "StorefrontTable"}, "Operation": op},
        )
        for i, op in enumerate(data_plane)
    ]
    ids = ", ".join(m["Id"] for m in metrics)
    return [*metrics, _expression("errors", f"SUM([{ids}])", "system errors")]


def _dimensions(dimensions: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": name, "Value": value} for name, value in dimensions.items()]


def _metric(
    metric_id: str, namespace: str, name: str, dimensions: dict[str, Any], stat: str = "Sum"
) -> dict[str, Any]:
    return {
        "Id": metric_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": _dimensions(dimensions)},
            "Period": PERIOD_SECONDS,
            "Stat": stat,
        },
    }


def _expression(metric_id: str, expression: str, label: str) -> dict[str, Any]:
    return {"Id": metric_id, "Expression": expression, "Label": label, "ReturnData": True}


def _single(
    namespace: str, name: str, dimensions: dict[str, Any], *, statistic: str = "", extended: str = ""
) -> dict[str, Any]:
    metric: dict[str, Any] = {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": _dimensions(dimensions),
        "Period": PERIOD_SECONDS,
    }
    metric["ExtendedStatistic" if extended else "Statistic"] = extended or statistic
    return metric


def _alarm(
    name: str,
    description: str,
    *,
    threshold: float,
    comparison: str = "GreaterThanOrEqualToThreshold",
    single: dict[str, Any] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    # Two of the last three minutes: one bad minute during a 5-minute canary is enough to
    # act on, one noisy data point alone is not; no data (no traffic) is not a failure.
    properties: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": description,
        "ComparisonOperator": comparison,
        "Threshold": threshold,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 2,
        "TreatMissingData": "notBreaching",
        **(single or {}),
    }
    if metrics:
        properties["Metrics"] = metrics
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def dashboard(stage: Stage, alarms: list[str], operations: set[str]) -> dict[str, Any]:
    """One dashboard: traffic, errors, latency, both functions, the table, our EMF metrics."""
    region = "${AWS::Region}"
    api = ["ApiName", api_name(stage), "Stage", "api"]
    fn, auth = stage.api_function_name, stage.authorizer_function_name

    def graph(
        title: str, metrics: list[list[Any]], stat: str = "Sum", x: int = 0, y: int = 0
    ) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {"title": title, "region": region, "stat": stat, "period": 60, "metrics": metrics},
        }

    def per_alias(name: str, function: str, stat: str = "Sum") -> list[Any]:
        return [
            "AWS/Lambda",
            name,
            "FunctionName",
            function,
            "Resource",
            f"{function}:{ALIAS}",
            {"stat": stat},
        ]

    widgets = [
        graph(
            "API requests and errors",
            [
                ["AWS/ApiGateway", "Count", *api],
                ["AWS/ApiGateway", "4XXError", *api],
                ["AWS/ApiGateway", "5XXError", *api],
            ],
        ),
        graph(
            "API latency (ms)",
            [["AWS/ApiGateway", "Latency", *api, {"stat": p}] for p in ("p50", "p99")]
            + [["AWS/ApiGateway", "IntegrationLatency", *api, {"stat": "p99"}]],
            x=12,
        ),
        graph(
            "Functions: errors and throttles (alias live)",
            [per_alias(m, f) for f in (fn, auth) for m in ("Errors", "Throttles")],
            y=6,
        ),
        graph(
            "Functions: duration p99 and concurrency",
            [per_alias("Duration", f, "p99") for f in (fn, auth)]
            + [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", fn, {"stat": "Maximum"}]],
            x=12,
            y=6,
        ),
        graph(
            "Cold starts by kind (EMF)",
            [
                [EMF_NAMESPACE, "ColdStart", "service", stage.app_name, "init_type", kind]
                for kind in ("restore", "on-demand")
            ],
            y=12,
        ),
        graph(
            "DynamoDB throttles and system errors",
            [
                ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", stage.table_name],
                ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", stage.table_name],
            ]
            + [
                ["AWS/DynamoDB", "SystemErrors", "TableName", stage.table_name, "Operation", op]
                for op in sorted(operations - _CONTROL_PLANE)
            ],
            x=12,
            y=12,
        ),
        {
            "type": "alarm",
            "x": 0,
            "y": 18,
            "width": 24,
            "height": 4,
            "properties": {
                "title": "Deployment alarms (any in ALARM rolls a deployment back)",
                "alarms": [f"${{{a}.Arn}}" for a in alarms],
            },
        },
    ]
    body = json.dumps({"widgets": widgets}, separators=(",", ":"))
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {"DashboardName": f"{stage.app_name}-{stage.name}", "DashboardBody": {"Fn::Sub": body}},
    }
