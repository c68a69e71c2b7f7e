"""Operator commands against the real engine."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

import manage
from chalicelib.store.schema import GSI1, GSI2, GSI3, TTL_ATTRIBUTE, create_table_params
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore
from tools.run_local import create_admin_args


def test_create_table_twice_succeeds_twice(table: Table, capsys: pytest.CaptureFixture[str]) -> None:
    assert manage.main(["create-table"], table=table) == 0
    assert manage.main(["create-table"], table=table) == 0
    assert "already exists" in capsys.readouterr().out
    description = table.client.describe_table(TableName=table.name)["Table"]
    assert {index["IndexName"] for index in description["GlobalSecondaryIndexes"]} == {GSI1, GSI2, GSI3}
    ttl = table.client.describe_time_to_live(TableName=table.name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == TTL_ATTRIBUTE


def test_create_table_creates_a_missing_table(table: Table) -> None:
    other = Table(table.client, f"t-{uuid.uuid4().hex[:8]}", table.cursors)
    try:
        assert manage.create_table(other) is True
        assert manage.create_table(other) is False
    finally:
        table.client.delete_table(TableName=other.name)


def test_create_table_adds_an_index_a_table_made_before_it_lacks(table: Table) -> None:
    # Given a table made before the orders-by-status index (gsi3) existed
    old = Table(table.client, f"t-{uuid.uuid4().hex[:8]}", table.cursors)
    params = create_table_params(old.name)
    params["GlobalSecondaryIndexes"] = [i for i in params["GlobalSecondaryIndexes"] if i["IndexName"] != GSI3]
    params["AttributeDefinitions"] = [
        a for a in params["AttributeDefinitions"] if "gsi3" not in a["AttributeName"]
    ]
    table.client.create_table(**params)
    try:
        # When create-table runs on it, Then it has every index
        assert manage.create_table(old) is False
        description = table.client.describe_table(TableName=old.name)["Table"]
        assert {index["IndexName"] for index in description["GlobalSecondaryIndexes"]} == {GSI1, GSI2, GSI3}
    finally:
        table.client.delete_table(TableName=old.name)


def test_seed_creates_demo_data_once(table: Table) -> None:
    users, products = manage.seed(table)
    assert users == len(manage.DEMO_CATALOGUE)
    assert products == sum(len(items) for items in manage.DEMO_CATALOGUE.values())
    assert manage.seed(table) == (0, 0)
    # user + e-mail claim each, and every user and product has its latest event in the outbox
    assert len(list(manage.scan_all(table))) == users * 3 + products * 2


def test_dump_then_load_restores_every_item_exactly(table: Table, tmp_path: Path) -> None:
    manage.seed(table)
    path = tmp_path / "data.jsonl"
    assert manage.main(["dump", "--file", str(path)], table=table) == 0
    other = Table(table.client, f"t-{uuid.uuid4().hex[:8]}", table.cursors)
    manage.create_table(other)
    try:
        assert manage.main(["load", "--file", str(path)], table=other) == 0

        def key(item: dict[str, dict[str, str]]) -> tuple[str, str]:
            return item["pk"]["S"], item["sk"]["S"]

        assert sorted(manage.scan_all(other), key=key) == sorted(manage.scan_all(table), key=key)
    finally:
        table.client.delete_table(TableName=other.name)


def test_load_without_a_dump_loads_nothing(
    table: Table, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert manage.main(["load", "--file", str(tmp_path / "absent.jsonl")], table=table) == 0
    assert "nothing loaded" in capsys.readouterr().out
    assert list(manage.scan_all(table)) == []


@pytest.mark.parametrize("password", ["-Zk3q_8LmN0pWx2", "--looks-like-an-option"])
def test_make_run_creates_its_admin_whatever_its_generated_password_starts_with(
    table: Table, password: str
) -> None:
    # token_urlsafe starts with "-" one time in 64: `--password -Zk…` was an argparse error
    admin = {"email": "admin@storefront.local", "password": password}
    assert manage.main(create_admin_args(admin["email"], admin["password"]), table=table) == 0
    user = UserStore(table).get_by_email(admin["email"])
    assert user is not None
    assert user.role == "admin"


def test_a_dash_password_is_parsed_as_the_value() -> None:
    # (the emulator deploy runs manage.py with these arguments too: infra/deploy_local.py)
    args = manage.build_parser().parse_args(create_admin_args("a@b.example", "-Zk3q_8L"))
    assert (args.command, args.email, args.password) == ("create-admin", "a@b.example", "-Zk3q_8L")
