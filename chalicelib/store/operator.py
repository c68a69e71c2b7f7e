"""The operator's table: the DynamoDB calls only an operator makes (create the table and its
indexes, scan, batch-write), for manage.py and the tools.

In store/ like every DynamoDB call, but never imported by a Lambda function: infra/iam.py
leaves this module out of the code whose calls the functions' policies must grant (their
IAM policies grant none of these), and tests/unit/test_import_budget.py checks that neither
entry point loads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from chalicelib.errors import ServiceUnavailableError
from chalicelib.retry import TryAgain
from chalicelib.store.schema import TTL_ATTRIBUTE, create_table_params
from chalicelib.store.table import Table, translate_errors


class OperatorTable(Table):
    """The table with the calls only an operator makes (never the Lambda: its IAM policy
    grants none of them)."""

    def create(self, wait_seconds: float = 60, sleep: Callable[[float], None] = time.sleep) -> bool:
        """Create the table, its indexes and TTL; True if created, False if it already existed."""
        client = self.client
        created = True
        with translate_errors():
            try:
                client.create_table(**create_table_params(self.name))
            except client.exceptions.ResourceInUseException:
                created = False
            deadline = time.monotonic() + wait_seconds
            while client.describe_table(TableName=self.name)["Table"]["TableStatus"] != "ACTIVE":
                if time.monotonic() > deadline:
                    raise TimeoutError(f"table {self.name} did not become ACTIVE")
                sleep(0.5)
            stream = client.describe_table(TableName=self.name)["Table"].get("StreamSpecification", {})
            if not stream.get("StreamEnabled"):  # a table made before events existed
                client.update_table(
                    TableName=self.name,
                    StreamSpecification=create_table_params(self.name)["StreamSpecification"],
                )
            self._add_missing_indexes(deadline, sleep)
            ttl = client.describe_time_to_live(TableName=self.name)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") not in {"ENABLED", "ENABLING"}:
                client.update_time_to_live(
                    TableName=self.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
                )
        return created

    def _add_missing_indexes(self, deadline: float, sleep: Callable[[float], None]) -> None:
        """A table made before an index existed (e.g. gsi3, orders by status) gains it, one at a time."""
        params = create_table_params(self.name)
        while True:
            table = self.client.describe_table(TableName=self.name)["Table"]
            present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
            busy = any(
                index.get("IndexStatus") not in (None, "ACTIVE")
                for index in table.get("GlobalSecondaryIndexes", [])
            )
            missing = [
                index for index in params["GlobalSecondaryIndexes"] if index["IndexName"] not in present
            ]
            if not missing and not busy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"table {self.name}: indexes did not become ACTIVE")
            if missing and not busy and table["TableStatus"] == "ACTIVE":
                self.client.update_table(
                    TableName=self.name,
                    AttributeDefinitions=params["AttributeDefinitions"],
                    GlobalSecondaryIndexUpdates=[{"Create": missing[0]}],
                )
            sleep(0.5)

    def scan_all(self) -> Iterator[dict[str, Any]]:
        """Every item in wire format. Operator use only: no request path ever scans."""
        params: dict[str, Any] = {"TableName": self.name}
        while True:
            with translate_errors():
                page = self.client.scan(**params)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put_wire_items(self, items: list[dict[str, Any]]) -> None:
        """BatchWriteItem of items in wire format, 25 a call, unprocessed ones retried (Retry)."""
        for start in range(0, len(items), 25):
            requests: Any = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
            pending: Any = {self.name: requests}

            def attempt(_: int) -> None:
                nonlocal pending
                with translate_errors():
                    pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems", {})
                if pending:
                    raise TryAgain()

            self.retry.run(attempt, lambda: ServiceUnavailableError(retry_after=1))


def operator_table(table: Table) -> OperatorTable:
    """The same table (client, name, cursors, retry) with the operator's calls."""
    if isinstance(table, OperatorTable):
        return table
    return OperatorTable(table.client, table.name, table.cursors, table.retry)
