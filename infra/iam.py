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
# In chalicelib/store/ with the other DynamoDB calls, but imported by no function: the
# operator's table (create, scan, batch-write; manage.py). tests/unit/test_import_budget.py
# checks that neither entry point loads it.
OPERATOR_ONLY = ("chalicelib/store/operator.py",)

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


def required_actions_in(sources: Iterable[str]) -> set[str]:
    """`required_dynamodb_actions` for source texts."""
    operations: set[str] = set()
    item_kinds: set[str] = set()
    for source in sources:
        tree = ast.parse(source)
        operations |= _client_operations(tree)
        item_kinds |= _transact_item_kinds(tree)
    needed = operations - _PER_ITEM_OPERATIONS
    if "TransactWriteItems" in operations:
        needed |= {TRANSACT_ITEM_ACTIONS[kind] for kind in item_kinds}
    if "TransactGetItems" in operations:
        needed.add("GetItem")
    return needed


def required_dynamodb_operations(root: Path = ROOT) -> set[str]:
    """The DynamoDB API operations (TransactWriteItems, not its item actions) the Lambda code
    calls: what its alarms watch per operation."""
    found: set[str] = set()
    for path in _python_files(root):
        found |= _client_operations(ast.parse(path.read_text(encoding="utf-8")))
    return found


def reachable_dynamodb_actions(module: str, root: Path = ROOT) -> set[str]:
    """The IAM actions of the code one Lambda function can run: its handler module and
    every project module that module imports, transitively (deferred imports included).

    Lambda imports only the module its `Handler` names, so the authorizer
    (`chalicelib.api.auth.jwt_auth`) never loads the routes; an action its code cannot
    reach has no place in its policy. An upper bound: reaching a module is not calling it.
    """
    sources = [path.read_text(encoding="utf-8") for path in module_closure(module, root)]
    return required_actions_in(sources)


def module_closure(module: str, root: Path = ROOT) -> list[Path]:
    """The files of `module`, its parent packages, and every project module they import."""
    seen: dict[str, Path] = {}
    pending = [module]
    while pending:
        name = pending.pop()
        for candidate in _with_parents(name):
            path = _module_path(candidate, root)
            if path is None or candidate in seen:
                continue
            seen[candidate] = path
            pending.extend(_imports(ast.parse(path.read_text(encoding="utf-8")), candidate, path))
    return sorted(set(seen.values()))


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _module_path(name: str, root: Path) -> Path | None:
    """The project file of a module (None for the standard library and dependencies)."""
    if name.split(".")[0] not in {Path(entry).stem for entry in LAMBDA_CODE}:
        return None
    base = root.joinpath(*name.split("."))
    return next((p for p in (base.with_suffix(".py"), base / "__init__.py") if p.is_file()), None)


def _imports(tree: ast.AST, module: str, path: Path) -> list[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]  # `from pkg import module`
    return found


@functools.cache
def _dynamodb_operations() -> dict[str, str]:
    """boto3 method name → API operation name, from botocore's own service model."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model("dynamodb")
    return {xform_name(name): name for name in model.operation_names}


def _python_files(root: Path) -> Iterator[Path]:
    operator_only = {root / entry for entry in OPERATOR_ONLY}
    for entry in LAMBDA_CODE:
        path = root / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        yield from (file for file in files if file not in operator_only)


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
