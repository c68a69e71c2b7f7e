"""Deployed webhook delivery in the merge template: a rule on the stage's bus → the SQS delivery
queue (SSE, a DLQ after a few receives) → the worker through a mapping with partial-batch
failures, and a role that reaches only what the worker uses."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.store.schema import GSI2
from infra import events, template, webhooks
from infra.stage import DEPLOYED_STAGES, Stage, load_stage

STAGES = [load_stage(name) for name in DEPLOYED_STAGES]


def merged(stage: Stage) -> dict[str, Any]:
    resources: dict[str, Any] = template.merge_template(stage)["Resources"]
    return resources


def statements(stage: Stage) -> list[dict[str, Any]]:
    (policy,) = merged(stage)[webhooks.WORKER_ROLE]["Properties"]["Policies"]
    found: list[dict[str, Any]] = policy["PolicyDocument"]["Statement"]
    return found


def granted(stage: Stage) -> dict[str, Any]:
    """Each action → its resource (the table's Query: the gsi2 one, see the test)."""
    return {
        action: s["Resource"]
        for s in statements(stage)
        for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_a_rule_on_the_stage_bus_sends_every_event_to_the_delivery_queue(stage: Stage) -> None:
    resources = merged(stage)
    rule = resources[webhooks.RULE]["Properties"]
    assert rule["EventBusName"] == {"Ref": events.BUS}
    assert rule["EventPattern"] == {"source": ["storefront"]}
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [webhooks.QUEUE, "Arn"]}
    (allowed,) = resources[webhooks.QUEUE_POLICY]["Properties"]["PolicyDocument"]["Statement"]
    assert (allowed["Principal"], allowed["Action"]) == (
        {"Service": "events.amazonaws.com"},
        "sqs:SendMessage",
    )
    assert allowed["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [webhooks.RULE, "Arn"]}}}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_queues_are_encrypted_and_failures_go_to_the_dead_letter_queue(stage: Stage) -> None:
    resources = merged(stage)
    queue = resources[webhooks.QUEUE]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True
    assert resources[webhooks.DLQ]["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [webhooks.DLQ, "Arn"]},
        "maxReceiveCount": webhooks.MAX_RECEIVES,
    }
    function = resources[webhooks.WORKER]["Properties"]
    # a batch of attempts (10 s each) fits the function, and the queue hides a message longer
    assert webhooks.BATCH_SIZE * 10 < function["Timeout"] <= queue["VisibilityTimeout"] / 6
    alarm = resources[webhooks.DLQ_DEPTH_ALARM]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": [webhooks.DLQ, "QueueName"]}
    assert alarm["Threshold"] == 0


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_worker_is_mapped_to_its_queue_with_partial_batch_failures(stage: Stage) -> None:
    resources = merged(stage)
    mapping = resources[webhooks.MAPPING]["Properties"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [webhooks.QUEUE, "Arn"]}
    assert mapping["FunctionName"] == {"Ref": webhooks.WORKER}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": webhooks.MAX_CONCURRENCY}
    function = resources[webhooks.WORKER]["Properties"]
    assert function["Handler"] == "chalicelib.webhook_worker.handler"
    assert function["CodeUri"] == resources[events.PUBLISHER]["Properties"]["CodeUri"]
    assert function["Environment"]["Variables"]["WEBHOOK_QUEUE_URL"] == {"Ref": webhooks.QUEUE}
    assert function["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": template.TABLE}
    assert function["Role"] == {"Fn::GetAtt": [webhooks.WORKER_ROLE, "Arn"]}


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.name)
def test_the_worker_role_is_least_privilege(stage: Stage) -> None:
    actions = granted(stage)
    table = {"Fn::GetAtt": [template.TABLE, "Arn"]}
    on_items, on_index = (s for s in statements(stage) if "dynamodb:Query" in s["Action"])
    # the items of the subscriptions' partitions only: subscriptions, attempts, lanes
    assert set(on_items["Action"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    assert on_items["Resource"] == table
    assert on_items["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["HOOK#*"]}}
    # the role of a user (an `all` subscription's owner must still be an admin), nothing else
    (on_users,) = (s for s in statements(stage) if s["Action"] == "dynamodb:GetItem")
    assert on_users["Resource"] == table
    assert on_users["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#*"]},
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "role"]},
        "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
    }
    # and the HOOKS collection of gsi2 (the fan-out)
    assert (on_index["Action"], on_index["Resource"]) == (
        "dynamodb:Query",
        {"Fn::Sub": f"${{{template.TABLE}.Arn}}/index/{GSI2}"},
    )
    assert {a for a in actions if a.startswith("dynamodb:")} == set(on_items["Action"])
    sqs = {a for a in actions if a.startswith("sqs:")}
    assert sqs == {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
    }
    assert all(actions[a] == {"Fn::GetAtt": [webhooks.QUEUE, "Arn"]} for a in sqs)
    wildcards = {action for action, resource in actions.items() if "*" in json.dumps(resource)}
    assert wildcards == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
    }
    assert actions["logs:PutLogEvents"]["Fn::Sub"].endswith(
        "/aws/lambda/" + webhooks.worker_function_name(stage) + ":*"
    )
