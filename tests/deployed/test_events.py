"""Deployed event publishing on the emulator: the table's stream → the event source mapping
(filtered to outbox items) → the publisher function → PutEvents on `storefront-dev` → a rule
this test adds → an SQS queue it reads. Each committed change arrives once, as its CloudEvent;
an aborted write sends nothing. What the emulator does not prove: docs/deployment.md."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from chalicelib.models.events import SOURCE, event_id
from infra import deploy_local
from infra import events as publishing
from infra.events import bus_name
from tests.deployed.conftest import Stack
from tests.deployed.test_journey import bearer

# The publisher runs behind a stream poller and a rule: give the whole chain this long.
ARRIVAL_SECONDS = 60.0
# After the last expected event, keep reading this long for anything extra (a duplicate,
# an event of an aborted write).
QUIET_SECONDS = 5.0


@dataclass(frozen=True)
class Subscription:
    """A rule on the stack's bus and the FIFO queue it feeds (one message group: bus order)."""

    sqs: Any
    queue_url: str

    def receive(self, ours: Callable[[dict[str, Any]], bool], expected: int) -> list[dict[str, Any]]:
        """The CloudEvents that are `ours`, in arrival order, once `expected` came and a quiet
        period passed (or the time ran out)."""
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + ARRIVAL_SECONDS
        quiet_until: float | None = None
        while time.monotonic() < (quiet_until or deadline):
            found.extend(e for e in self._one_read() if ours(e))
            if quiet_until is None and len(found) >= expected:
                quiet_until = time.monotonic() + QUIET_SECONDS
        return found

    def _one_read(self) -> list[dict[str, Any]]:
        answer = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = answer.get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        envelopes = [json.loads(m["Body"]) for m in messages]
        for envelope in envelopes:  # EventBridge's own envelope around the CloudEvent
            assert envelope["source"] == "storefront"
            assert envelope["detail-type"] == envelope["detail"]["type"]
        return [envelope["detail"] for envelope in envelopes]


@pytest.fixture
def subscription(stack: Stack) -> Iterator[Subscription]:
    """A rule on `storefront-dev` matching every event of ours → a FIFO queue; both removed after."""
    events, sqs = stack.aws("events"), stack.aws("sqs")
    name = f"storefront-events-test-{uuid.uuid4().hex[:8]}"
    bus = bus_name(stack.stage)
    queue_url = sqs.create_queue(QueueName=f"{name}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        rule_arn = events.put_rule(
            Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["storefront"]})
        )["RuleArn"]
        # What AWS requires for EventBridge to send to the queue (the emulator does not check it).
        sqs.set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": json.dumps(_queue_policy(queue_arn, rule_arn))}
        )
        events.put_targets(
            Rule=name,
            EventBusName=bus,
            Targets=[{"Id": "queue", "Arn": queue_arn, "SqsParameters": {"MessageGroupId": "storefront"}}],
        )
        try:
            yield Subscription(sqs, queue_url)
        finally:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=["queue"])
            events.delete_rule(Name=name, EventBusName=bus)
    finally:
        sqs.delete_queue(QueueUrl=queue_url)


def _queue_policy(queue_arn: str, rule_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
            }
        ],
    }


def _ok(response: requests.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def test_each_committed_change_arrives_once_in_order_and_an_aborted_one_never(
    http: requests.Session, stack: Stack, subscription: Subscription
) -> None:
    # Given a user registered through the gateway (and the same address refused a second time)
    email = f"ev-{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": "password123", "name": "Ev"}
    user = _ok(http.post(stack.url("/users"), json=body), 201)
    _ok(http.post(stack.url("/users"), json=body), 409)
    token = _ok(http.post(stack.url("/auth/token"), json={"email": email, "password": "password123"}), 200)
    auth = bearer(token)
    # When they create a product, change it, fail to change it with a stale If-Match, and delete it
    created = _ok(
        http.post(stack.url("/products"), headers=auth, json={"name": "Kettle", "price": 30, "stock": 2}), 201
    )
    path = stack.url(f"/products/{created['id']}")
    v1 = f'"{created["version"]}"'
    updated = _ok(http.patch(path, headers={**auth, "If-Match": v1}, json={"stock": 5}), 200)
    _ok(http.patch(path, headers={**auth, "If-Match": v1}, json={"stock": 9}), 412)
    again = _ok(
        http.patch(path, headers={**auth, "If-Match": f'"{updated["version"]}"'}, json={"price": 31.5}), 200
    )
    _ok(http.delete(path, headers={**auth, "If-Match": f'"{again["version"]}"'}), 204)
    # Then the queue gets exactly one CloudEvent per committed change, in commit order
    user_subject, product_subject = f"users/{user['id']}", f"products/{created['id']}"
    expected = [
        ("user.registered", user_subject, user, "1"),
        ("product.created", product_subject, created, str(created["version"])),
        ("product.updated", product_subject, updated, str(updated["version"])),
        ("product.updated", product_subject, again, str(again["version"])),
        ("product.deleted", product_subject, {"id": created["id"]}, "deleted"),
    ]
    # (an event of the refused registration would name another user id, with this address)
    arrived = subscription.receive(
        lambda e: e["subject"] in {user_subject, product_subject} or e["data"].get("email") == email,
        len(expected),
    )
    assert [(e["type"], e["subject"]) for e in arrived] == [(t, s) for t, s, _, _ in expected]
    for event, (kind, _, data, _) in zip(arrived, expected, strict=True):
        # data is what the API answered for that change: the public shape, nothing stored-only
        assert event["data"] == data, kind
        assert (event["specversion"], event["source"], event["datacontenttype"]) == (
            "1.0",
            SOURCE,
            "application/json",
        )
    # and the ids are the stable ones, derived from the change (a redelivery would repeat them)
    assert [e["id"] for e in arrived] == [event_id(t, s, r) for t, s, _, r in expected]
    assert len({e["id"] for e in arrived}) == len(arrived)
    # and nothing was given up on: the publisher's dead-letter queue is empty
    dlq = stack_resource(stack, publishing.DLQ)
    depth = stack.aws("sqs").get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0"


def stack_resource(stack: Stack, logical_id: str) -> str:
    """The physical id of one of the stack's resources."""
    found = stack.aws("cloudformation").describe_stack_resource(
        StackName=deploy_local.stack_name(stack.stage), LogicalResourceId=logical_id
    )
    return str(found["StackResourceDetail"]["PhysicalResourceId"])


def test_the_stream_mapping_is_deployed_as_the_template_declares(stack: Stack) -> None:
    # Given the mapping CloudFormation made from the packaged template
    declared = publishing.stream_mapping("StorefrontTable")["Properties"]
    (mapping,) = stack.aws("lambda").list_event_source_mappings(
        FunctionName=publishing.publisher_function_name(stack.stage)
    )["EventSourceMappings"]
    # Then it reads the table's stream, outbox items only, with partial failures and bounded retries
    table = stack.aws("dynamodb").describe_table(TableName=stack.stage.table_name)["Table"]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    assert mapping["FilterCriteria"] == declared["FilterCriteria"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    for setting in (
        "BatchSize",
        "BisectBatchOnFunctionError",
        "MaximumRetryAttempts",
        "MaximumRecordAgeInSeconds",
    ):
        assert mapping[setting] == declared[setting], setting
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(":" + _queue_name(stack))


def _queue_name(stack: Stack) -> str:
    return stack_resource(stack, publishing.DLQ).rsplit("/", 1)[-1]
