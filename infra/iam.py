"""The IAM side of a deployment: the hand-written policies, pinned to one account and
region for CloudFormation, and the DynamoDB actions the Lambda code really performs.

The policy files under `.chalice/` are what `chalice deploy` attaches as they are; IAM
cannot substitute the account or region there, so their ARNs say `*:*` in those two
fields (the table, parameter and log-group names still pin them). The packaged template
gets the same documents with `${AWS::Region}` and `${AWS::AccountId}` filled in.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The code the Lambda functions run. manage.py and tools/ are operator-only: their calls
# (CreateTable, Scan, BatchWriteItem, ...) are made with the operator's credentials.
LAMBDA_CODE = ("app.py", "chalicelib")
# The authorizer function runs only what its module imports (transitively, within
# chalicelib); the store reaches DynamoDB through the methods of store/table.py's Table.
AUTHORIZER_MODULE = "chalicelib.api.auth"
TABLE_MODULE = "chalicelib.store.table"

# A transaction is authorised item by item: IAM has no TransactWriteItems action.
TRANSACT_ITEM_ACTIONS = {
    "ConditionCheck": "ConditionCheckItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
}
_PER_ITEM_OPERATIONS = {"TransactWriteItems", "TransactGetItems"}

_ANY_REGION_AND_ACCOUNT = re.compile(r"^arn:aws:([a-z0-9-]+):\*:\*:")
_VIA_ANY_REGION = re.compile(r"^([a-z0-9-]+)\.\*\.amazonaws\.com$")


def load_policy(path: Path) -> dict[str, Any]:
    """A policy document from `.chalice/`."""
    policy: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return policy


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy's statements, each with Action and Resource as lists."""
    return [
        {**s, "Action": _as_list(s.get("Action")), "Resource": _as_list(s.get("Resource"))}
        for s in policy["Statement"]
    ]


def actions(policy: dict[str, Any], service: str) -> set[str]:
    """Every action of one service (`dynamodb`) that the policy allows, without the prefix."""
    prefix = f"{service}:"
    return {
        a.removeprefix(prefix)
        for s in statements(policy)
        if s["Effect"] == "Allow"
        for a in s["Action"]
        if a.startswith(prefix)
    }


def pin_to_stack(value: Any) -> Any:
    """The document with `arn:aws:<svc>:*:*:` and `<svc>.*.amazonaws.com` replaced by the
    stack's partition, region and account (CloudFormation Fn::Sub)."""
    if isinstance(value, dict):
        return {k: pin_to_stack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pin_to_stack(v) for v in value]
    if isinstance(value, str):
        pinned = _ANY_REGION_AND_ACCOUNT.sub(
            r"arn:${AWS::Partition}:\1:${AWS::Region}:${AWS::AccountId}:", value
        )
        pinned = _VIA_ANY_REGION.sub(r"\1.${AWS::Region}.amazonaws.com", pinned)
        return {"Fn::Sub": pinned} if pinned != value else value
    return value


def required_dynamodb_actions(root: Path = ROOT) -> set[str]:
    """The IAM actions the Lambda code needs, read from its calls: `<x>.client.<op>(...)`
    for every DynamoDB operation, and the item kinds of any transaction it builds."""
    sources = [path.read_text(encoding="utf-8") for path in _python_files(root)]
    return required_actions_in(sources)


def required_authorizer_actions(root: Path = ROOT) -> set[str]:
    """The IAM actions the authorizer function needs: the DynamoDB operations reachable
    from the modules the authorizer imports, through `table.<method>(...)` calls of the
    store's Table (each method's operations read from store/table.py) or direct client calls."""
    table_methods = table_method_operations(root)
    paths = [p for p in import_closure(root, AUTHORIZER_MODULE) if p != _module_path(root, TABLE_MODULE)]
    return required_actions_in([p.read_text(encoding="utf-8") for p in paths], table_methods)


def table_method_operations(root: Path = ROOT) -> dict[str, set[str]]:
    """Each public method of the store's Table → the DynamoDB operations it calls."""
    tree = ast.parse(_module_path(root, TABLE_MODULE).read_text(encoding="utf-8"))
    methods: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Table":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_"):
                    methods[item.name] = _client_operations(item)
    return methods


def import_closure(root: Path, module: str) -> list[Path]:
    """The files of `module` and of every chalicelib module it imports, transitively."""
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        path = _module_path(root, name)
        if name in seen or not path.is_file():
            continue
        seen[name] = path
        pending.extend(_imported_modules(ast.parse(path.read_text(encoding="utf-8"))))
    return sorted(seen.values())


def _module_path(root: Path, module: str) -> Path:
    base = root.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imported_modules(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("chalicelib")}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("chalicelib"):
            # `from chalicelib.store import keys` imports the package and its module `keys`
            found.add(str(node.module))
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def required_actions_in(sources: Iterable[str], table_methods: dict[str, set[str]] | None = None) -> set[str]:
    """`required_dynamodb_actions` for source texts; with `table_methods`, calls of those
    methods on a `table` count as the operations they make."""
    operations: set[str] = set()
    item_kinds: set[str] = set()
    for source in sources:
        tree = ast.parse(source)
        operations |= _client_operations(tree)
        operations |= _table_operations(tree, table_methods or {})
        item_kinds |= _transact_item_kinds(tree)
    needed = operations - _PER_ITEM_OPERATIONS
    if "TransactWriteItems" in operations:
        needed |= {TRANSACT_ITEM_ACTIONS[kind] for kind in item_kinds}
    if "TransactGetItems" in operations:
        needed.add("GetItem")
    return needed


@functools.cache
def _dynamodb_operations() -> dict[str, str]:
    """boto3 method name → API operation name, from botocore's own service model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("dynamodb")
    return {xform_name(name): name for name in model.operation_names}


def _python_files(root: Path) -> Iterator[Path]:
    for entry in LAMBDA_CODE:
        path = root / entry
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _is_client(node: ast.expr) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return str(name).lower().endswith("client")


def _client_operations(tree: ast.AST) -> set[str]:
    known = _dynamodb_operations()
    found = set()
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and func.attr in known and _is_client(func.value):
            found.add(known[func.attr])
    return found


def _table_operations(tree: ast.AST, table_methods: dict[str, set[str]]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        func = node.func if isinstance(node, ast.Call) else None
        if isinstance(func, ast.Attribute) and func.attr in table_methods and _is_table(func.value):
            found |= table_methods[func.attr]
    return found


def _is_table(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):  # get_table().get(...)
        node = node.func
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return str(name).lower().endswith("table")


def _transact_item_kinds(tree: ast.AST) -> set[str]:
    """`{"Put": {...}}` literals and `dict(Put=...)` calls: the kinds of transaction items."""
    kinds = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            kinds |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
            kinds |= {kw.arg for kw in node.keywords if kw.arg}
    return kinds & TRANSACT_ITEM_ACTIONS.keys()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
