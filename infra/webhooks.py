"""Deployed webhook delivery, merged into the template next to infra/events.py.

A rule on the bus `storefront-<stage>` (every event of source `storefront`) → the SQS
delivery queue (SSE on; its dead-letter queue after `MAX_RECEIVES` receives) → the worker
Lambda (chalicelib/webhook_worker.handler, from the same deployment.zip as the API) through an
event source mapping with partial-batch failures. The worker fans each event out as one
message per subscription on the same queue and re-sends a failed delivery with a delay
(retries, docs/events.md "Deployed delivery"). An alarm watches the dead-letter queue.
"""

from __future__ import annotations

from typing import Any

from chalicelib.store.schema import GSI2
from infra.events import BUS, lambda_role
from infra.lambda_runtime import RUNTIME
from infra.stage import Stage

WORKER = "WebhookWorker"
WORKER_ROLE = "WebhookWorkerRole"
WORKER_LOGS = "WebhookWorkerLogGroup"
QUEUE = "WebhookDeliveryQueue"
QUEUE_POLICY = "WebhookDeliveryQueuePolicy"
DLQ = "WebhookDeliveryDLQ"
RULE = "WebhookDeliveryRule"
MAPPING = "WebhookWorkerQueueMapping"
DLQ_DEPTH_ALARM = "WebhookDeliveryDLQDepthAlarm"
ALARMS = frozenset({DLQ_DEPTH_ALARM})

HANDLER = "chalicelib.webhook_worker.handler"
# One attempt may take the 10 s POST timeout: a batch of 5 fits the function's 60 s.
BATCH_SIZE = 5
TIMEOUT_SECONDS = 60
# AWS asks for a visibility timeout of at least 6 times the function's timeout on a mapped queue.
VISIBILITY_TIMEOUT_SECONDS = 6 * TIMEOUT_SECONDS
# A message whose handling raised this many times (the table or the queue unreachable) goes to the DLQ.
MAX_RECEIVES = 5
# The most worker instances the queue's poller runs at once.
MAX_CONCURRENCY = 10


def worker_function_name(stage: Stage) -> str:
    """The deployed name of the webhook worker Lambda."""
    return f"{stage.app_name}-{stage.name}-webhook-worker"


def resources(stage: Stage, table: str) -> dict[str, Any]:
    """Every resource of deployed webhook delivery; `table` is the table's logical id."""
    return {
        DLQ: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True},
        },
        QUEUE: queue(),
        QUEUE_POLICY: queue_policy(),
        RULE: rule(),
        WORKER_LOGS: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{worker_function_name(stage)}",
                "RetentionInDays": stage.log_retention_days,
            },
        },
        WORKER_ROLE: role(stage, table),
        WORKER: function(stage, table),
        MAPPING: mapping(),
        DLQ_DEPTH_ALARM: dlq_alarm(stage),
    }


def queue() -> dict[str, Any]:
    """The delivery queue: events from the rule, deliveries and retries from the worker."""
    return {
        "Type": "AWS::SQS::Queue",
        "Properties": {
            "VisibilityTimeout": VISIBILITY_TIMEOUT_SECONDS,
            "MessageRetentionPeriod": 4 * 24 * 3600,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": {"Fn::GetAtt": [DLQ, "Arn"]},
                "maxReceiveCount": MAX_RECEIVES,
            },
        },
    }


def rule() -> dict[str, Any]:
    """Every event of the bus → the delivery queue."""
    return {
        "Type": "AWS::Events::Rule",
        "Properties": {
            "EventBusName": {"Ref": BUS},
            "EventPattern": {"source": ["storefront"]},
            "State": "ENABLED",
            "Targets": [{"Id": "WebhookDeliveryQueue", "Arn": {"Fn::GetAtt": [QUEUE, "Arn"]}}],
        },
    }


def queue_policy() -> dict[str, Any]:
    """EventBridge may send to the delivery queue, from this rule only."""
    return {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {
            "Queues": [{"Ref": QUEUE}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": {"Fn::GetAtt": [QUEUE, "Arn"]},
                        "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [RULE, "Arn"]}}},
                    }
                ],
            },
        },
    }


def function(stage: Stage, table: str) -> dict[str, Any]:
    """The worker Lambda: the API's code package, another handler."""
    return {
        "Type": "AWS::Serverless::Function",
        "DependsOn": [WORKER_LOGS],
        "Properties": {
            "FunctionName": worker_function_name(stage),
            "CodeUri": "./deployment.zip",
            "Handler": HANDLER,
            "Runtime": RUNTIME,
            "MemorySize": 256,
            "Timeout": TIMEOUT_SECONDS,
            "Tracing": "Active",
            "Role": {"Fn::GetAtt": [WORKER_ROLE, "Arn"]},
            "Environment": {
                "Variables": {
                    "STAGE": stage.name,
                    "TABLE_NAME": {"Ref": table},
                    "WEBHOOK_QUEUE_URL": {"Ref": QUEUE},
                }
            },
        },
    }


def mapping() -> dict[str, Any]:
    """The delivery queue → the worker, reporting the messages that failed one by one."""
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": [QUEUE, "Arn"]},
            "FunctionName": {"Ref": WORKER},
            "BatchSize": BATCH_SIZE,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            # Bounded: the account's concurrency pool stays for the API.
            "ScalingConfig": {"MaximumConcurrency": MAX_CONCURRENCY},
        },
    }


def role(stage: Stage, table: str) -> dict[str, Any]:
    """Least privilege: the subscriptions' partitions (HOOK#*) and gsi2, the role of a user,
    its own queue, its log group, X-Ray."""
    stack = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
    log_group = f"{stack}:log-group:/aws/lambda/{worker_function_name(stage)}"
    table_arn = {"Fn::GetAtt": [table, "Arn"]}
    statements = [
        # Only items of the HOOK#<id> partitions (dynamodb:LeadingKeys): GetItem a subscription
        # or a lane; PutItem a delivery record, a lane entry, a claim; UpdateItem a failure
        # count, a lane's step; DeleteItem a lane entry done; Query a lane's head.
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
            ],
            "Resource": table_arn,
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["HOOK#*"]}},
        },
        # The role of an `all` subscription's owner, read before it receives anything
        # (services/webhook_delivery.owner_is_admin): USER#<id> items, that attribute alone.
        {
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": table_arn,
            "Condition": {
                "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["USER#*"]},
                "ForAllValues:StringEquals": {"dynamodb:Attributes": ["pk", "sk", "role"]},
                "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
            },
        },
        # Query on gsi2 (its HOOKS partition): the enabled subscriptions (the fan-out).
        {
            "Effect": "Allow",
            "Action": "dynamodb:Query",
            "Resource": {"Fn::Sub": f"${{{table}.Arn}}/index/{GSI2}"},
        },
        {
            "Effect": "Allow",
            "Action": [
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
                "sqs:SendMessage",
            ],
            "Resource": {"Fn::GetAtt": [QUEUE, "Arn"]},
        },
        # X-Ray grants no resource-level permissions: "*" is the only resource it accepts.
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": f"{log_group}:*"},
        },
    ]
    return lambda_role("WebhookWorkerPolicy", statements)


def dlq_alarm(stage: Stage) -> dict[str, Any]:
    """Anything in the dead-letter queue: a message the worker could not handle."""
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": f"{stage.name}: webhook messages the worker gave up on (see the DLQ)",
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [DLQ, "QueueName"]}}],
            "Statistic": "Maximum",
            "Period": 60,
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    }
