"""Deployed publishing in the merge template: stream → filtered mapping → publisher → bus,
with partial-batch failures, bisection, bounded retries, a DLQ, alarms and a narrow role."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.store.outbox import STREAM_FILTER
from infra import events, template
from infra.stage import DEPLOYED_STAGES, Stage, load_stage

STAGES = [load_stage(name) for name in DEPLOYED_STAGES]


def merged(stage: Stage) -> dict[str, Any]:
    resources: dict[str, Any] = template.merge_template(stage)["Resources"]
    return resources


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_stream_mapping_takes_only_outbox_items_and_fails_partially(stage: Stage) -> None:
    mapping = merged(stage)[events.STREAM_MAPPING]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [template.TABLE, "StreamArn"]}
    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == STREAM_FILTER
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 < mapping["MaximumRetryAttempts"] <= 10
    assert mapping["ParallelizationFactor"] == 1  # order per resource
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [events.DLQ, "Arn"]}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_publisher_puts_on_the_stage_bus(stage: Stage) -> None:
    resources = merged(stage)
    assert resources[events.BUS]["Properties"]["Name"] == f"storefront-{stage.name}"
    function = resources[events.PUBLISHER]["Properties"]
    assert function["Handler"] == "chalicelib.publisher.handler"
    assert function["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": events.BUS}
    assert function["Role"] == {"Fn::GetAtt": [events.PUBLISHER_ROLE, "Arn"]}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_publisher_role_is_least_privilege(stage: Stage) -> None:
    (policy,) = merged(stage)[events.PUBLISHER_ROLE]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    granted = {
        action: s["Resource"]
        for s in statements
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    # no wildcard but the log streams of its own log group (and X-Ray, which has no resources)
    wildcards = {action for action, resource in granted.items() if "*" in json.dumps(resource)}
    assert wildcards == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    assert granted["logs:PutLogEvents"]["Fn::Sub"].endswith(
        "/aws/lambda/" + events.publisher_function_name(stage) + ":*"
    )
    assert granted["events:PutEvents"] == {"Fn::GetAtt": [events.BUS, "Arn"]}
    assert granted["sqs:SendMessage"] == {"Fn::GetAtt": [events.DLQ, "Arn"]}
    assert granted["dynamodb:GetRecords"] == {"Fn::GetAtt": [template.TABLE, "StreamArn"]}
    assert not any("dynamodb:PutItem" in json.dumps(s["Action"]) for s in statements)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_alarms_watch_the_iterator_age_and_the_dead_letter_queue(stage: Stage) -> None:
    resources = merged(stage)
    age = resources[events.ITERATOR_AGE_ALARM]["Properties"]
    depth = resources[events.DLQ_DEPTH_ALARM]["Properties"]
    assert (age["MetricName"], age["Dimensions"][0]["Value"]) == ("IteratorAge", {"Ref": events.PUBLISHER})
    assert (depth["MetricName"], depth["Threshold"]) == ("ApproximateNumberOfMessagesVisible", 0)
    assert depth["Dimensions"][0]["Value"] == {"Fn::GetAtt": [events.DLQ, "QueueName"]}
