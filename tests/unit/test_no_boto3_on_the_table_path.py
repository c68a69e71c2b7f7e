"""The API function reaches DynamoDB through botocore alone: making the table's client and
writing and reading items never imports boto3 (its session, resources and s3transfer cost
a cold start ~15-20 ms). Anything unusual in an item still goes to boto3's own
(de)serialiser, which is then imported (store/codec.py)."""

from __future__ import annotations

from tests.helpers import run_python

PROGRAM = """
import sys
from decimal import Decimal
import app
from chalicelib.api.deps import get_table
from chalicelib.store.codec import from_attributes, to_attributes
table = get_table()
assert type(table.client).__name__ == "DynamoDB", type(table.client)
item = {"pk": "P#1", "price": Decimal("19.90"), "stock": 3, "ok": True, "tags": {"a", "b"},
        "lines": [{"qty": 2, "note": None}], "nums": {1, Decimal("2.5")}}
assert from_attributes(to_attributes(item)) == {**item, "stock": Decimal(3)}
print("boto3" in sys.modules)
from_attributes({"blob": {"B": b"x"}})  # binary is boto3's: imported now
print("boto3" in sys.modules)
"""


def test_the_table_client_and_codec_do_not_import_boto3() -> None:
    env = {"AWS_DEFAULT_REGION": "us-east-1", "TABLE_NAME": "storefront-test"}
    assert run_python(PROGRAM, env=env).split() == ["False", "True"]
