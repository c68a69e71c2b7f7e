"""Deployed event publishing, merged into the template by one line of infra/template.py.

The table's stream → an event source mapping filtered to outbox items → the publisher Lambda
(chalicelib/publisher.handler, from the same deployment.zip as the API) → EventBridge bus
`storefront-<stage>`. A batch that keeps failing is bisected to the failing record, retried a
bounded number of times, then described to an SQS dead-letter queue (the records stay in the
stream for 24 h; the DLQ message says which). Alarms watch the iterator age (the publisher
falling behind) and the DLQ's depth (anything in it means events were not published).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chalicelib.store.outbox import STREAM_FILTER
from infra.lambda_runtime import RUNTIME
from infra.stage import Stage

PUBLISHER = "EventPublisher"
PUBLISHER_ROLE = "EventPublisherRole"
PUBLISHER_LOGS = "EventPublisherLogGroup"
STREAM_MAPPING = "EventPublisherStreamMapping"
BUS = "EventBus"
DLQ = "EventPublisherDLQ"
ITERATOR_AGE_ALARM = "EventPublisherIteratorAgeAlarm"
DLQ_DEPTH_ALARM = "EventPublisherDLQDepthAlarm"
# Not deployment alarms: a new API version is not rolled back because events are late.
ALARMS = frozenset({ITERATOR_AGE_ALARM, DLQ_DEPTH_ALARM})

HANDLER = "chalicelib.publisher.handler"
BATCH_SIZE = 100
MAX_RETRY_ATTEMPTS = 5
MAX_RECORD_AGE_SECONDS = 24 * 3600  # the stream's own retention: older records are gone anyway
ITERATOR_AGE_ALARM_MS = 5 * 60 * 1000


def bus_name(stage: Stage) -> str:
    """The EventBridge bus of a stage."""
    return f"storefront-{stage.name}"


def publisher_function_name(stage: Stage) -> str:
    """The deployed name of the publisher Lambda."""
    return f"{stage.app_name}-{stage.name}-event-publisher"


def resources(stage: Stage, table: str) -> dict[str, Any]:
    """Every resource of deployed publishing; `table` is the table's logical id."""
    return {
        BUS: {"Type": "AWS::Events::EventBus", "Properties": {"Name": bus_name(stage)}},
        DLQ: {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 14 * 24 * 3600, "SqsManagedSseEnabled": True},
        },
        PUBLISHER_LOGS: {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {
                "LogGroupName": f"/aws/lambda/{publisher_function_name(stage)}",
                "RetentionInDays": stage.log_retention_days,
            },
        },
        PUBLISHER_ROLE: role(stage, table),
        PUBLISHER: function(stage),
        STREAM_MAPPING: stream_mapping(table),
        **alarms(stage),
    }


def function(stage: Stage) -> dict[str, Any]:
    """The publisher Lambda: the API's code package, another handler."""
    return {
        "Type": "AWS::Serverless::Function",
        "DependsOn": [PUBLISHER_LOGS],
        "Properties": {
            "FunctionName": publisher_function_name(stage),
            "CodeUri": "./deployment.zip",
            "Handler": HANDLER,
            "Runtime": RUNTIME,
            "MemorySize": 256,
            "Timeout": 30,
            "Tracing": "Active",
            "Role": {"Fn::GetAtt": [PUBLISHER_ROLE, "Arn"]},
            "Environment": {"Variables": {"STAGE": stage.name, "EVENT_BUS_NAME": {"Ref": BUS}}},
        },
    }


def stream_mapping(table: str) -> dict[str, Any]:
    """The table's stream → the publisher: outbox items only, partial failures, bounded retries."""
    return {
        "Type": "AWS::Lambda::EventSourceMapping",
        "Properties": {
            "EventSourceArn": {"Fn::GetAtt": [table, "StreamArn"]},
            "FunctionName": {"Ref": PUBLISHER},
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": BATCH_SIZE,
            "MaximumBatchingWindowInSeconds": 1,
            # One batch per shard at a time: a resource's events stay in order.
            "ParallelizationFactor": 1,
            "FilterCriteria": {"Filters": [{"Pattern": json.dumps(STREAM_FILTER)}]},
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
            "MaximumRecordAgeInSeconds": MAX_RECORD_AGE_SECONDS,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": [DLQ, "Arn"]}}},
        },
    }


def role(stage: Stage, table: str) -> dict[str, Any]:
    """Least privilege: read this table's stream, put on this bus, send to this DLQ, log."""
    stack = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
    log_group = f"{stack}:log-group:/aws/lambda/{publisher_function_name(stage)}"
    statements = [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": {"Fn::GetAtt": [table, "StreamArn"]},
        },
        # X-Ray grants no resource-level permissions: "*" is the only resource it accepts.
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "Resource": "*"},
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": {"Fn::GetAtt": [BUS, "Arn"]}},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": [DLQ, "Arn"]}},
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": {"Fn::Sub": f"{log_group}:*"},
        },
    ]
    return lambda_role("EventPublisherPolicy", statements)


def alarms(stage: Stage) -> dict[str, Any]:
    """The publisher falling behind (iterator age), and events given up on (DLQ not empty)."""
    return {
        ITERATOR_AGE_ALARM: {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"{stage.name}: events are published more than 5 minutes late",
                "Namespace": "AWS/Lambda",
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": PUBLISHER}}],
                "Statistic": "Maximum",
                "Period": 60,
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "Threshold": ITERATOR_AGE_ALARM_MS,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
            },
        },
        DLQ_DEPTH_ALARM: {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"{stage.name}: stream batches the publisher gave up on (see the DLQ)",
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
        },
    }


def lambda_role(policy_name: str, statements: Sequence[object]) -> dict[str, Any]:
    """An IAM role a Lambda function assumes, with one inline policy of these statements
    (the functions the template adds beside chalice's: the publisher, the webhook worker)."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": policy_name,
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    }
