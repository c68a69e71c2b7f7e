"""The zip that would ship, run as Lambda runs it: outside the venv, on Python 3.13.

The prod package is unzipped into an empty folder; each function the template names is
loaded by its `Handler` string in a fresh `python3.13 -I -S -B` whose only other packages
are what the Lambda python3.13 runtime provides (requirements-lambda-runtime.txt), with
the environment the template gives it plus what Lambda sets. A small API Gateway stand-in
built from the template's API definition routes requests: protected routes go through the
authorizer function first (TOKEN events; a Deny is answered by the gateway, the API
function never sees it). Everything talks to the local engine (DynamoDB and SSM).

A missing module, a wrong handler string, bytecode for another Python or a stripped
package still in use fails here; test_harness_catches_* shows the checks are not vacuous.
"""

from __future__ import annotations

import contextlib
import json
import py_compile
import re
import secrets
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import jwt
import pytest
from botocore.exceptions import ClientError

from bench.lambda_sim import proxy_event
from chalicelib.config import load_settings
from chalicelib.security.keys import KeyRing, make_key
from chalicelib.security.tokens import issue_token
from chalicelib.store.table import Table
from infra import iam, lambda_runtime, mail, release, slim
from infra.stage import load_stage
from tests.deploy.conftest import Unzipped
from tools import processes

# The deployment tests share the session-scoped packages: `make test` runs them in one process.
pytestmark = pytest.mark.slow

STAGE = load_stage("prod")
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/api/GET/users/me"
# Imports a first request must not pay for once the snapshot has been warmed.
HEAVY = ("boto3", "botocore", "pydantic", "pydantic_core", "jwt", "argon2", "aws_lambda_powertools")
PASSWORD = "correct horse battery staple"
# The stack's mail parameters (infra/mail.py) as a deployment would set them; the engine
# serves SES too, with the sender verified there (the `engine` fixture).
SENDER = "no-reply@storefront.test"
MAIL_PARAMETERS = {
    mail.FROM_ADDRESS: SENDER,
    mail.CONFIGURATION_SET: f"storefront-{STAGE.name}",
    mail.LINK_BASE: "https://shop.test",
}


def _function_env(
    resource: dict[str, Any], task_root: Path, runtime: Path, endpoint: str, table: str, init_type: str
) -> dict[str, str]:
    """The template's environment for the function plus what Lambda itself sets."""
    properties = resource["Properties"]
    refs = {"StorefrontTable": table, **MAIL_PARAMETERS}
    env = {
        key: (refs[value["Ref"]] if isinstance(value, dict) and "Ref" in value else value)
        for key, value in properties["Environment"]["Variables"].items()
    }
    assert all(isinstance(v, str) for v in env.values()), env
    env.update(
        AWS_LAMBDA_FUNCTION_NAME=properties["FunctionName"],
        AWS_LAMBDA_FUNCTION_VERSION="1",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(properties["MemorySize"]),
        AWS_LAMBDA_INITIALIZATION_TYPE=init_type,
        AWS_EXECUTION_ENV=f"AWS_Lambda_{properties['Runtime']}",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        LAMBDA_TASK_ROOT=str(task_root),
        LAMBDA_RUNTIME_DIR=str(runtime),
        _HANDLER=properties["Handler"],
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        # Every AWS call goes to the local engine (botocore's own endpoint override).
        AWS_ENDPOINT_URL=endpoint,
        AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{processes.free_port()}",
        AWS_XRAY_CONTEXT_MISSING="LOG_ERROR",
        TZ=":UTC",
        LANG="en_US.UTF-8",
        PATH="/usr/bin:/bin",
    )
    return env


class Gateway:
    """API Gateway, as far as this test needs it: routes from the template's definition,
    the TOKEN authorizer on protected routes, proxy events to the API function."""

    def __init__(self, template: dict[str, Any], authorizer: Any, api: Any) -> None:
        definition = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]
        self.routes = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "([^/]+)", path) + "$"), path, methods)
            for path, methods in definition["paths"].items()
        ]
        self.authorizer, self.api = authorizer, api
        self.answers: list[dict[str, Any]] = []

    def authorize(self, token: str) -> dict[str, Any]:
        answer = self.authorizer.call(
            "invoke", event={"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}
        )
        self.answers.append(answer)
        assert answer["ok"], answer.get("error")
        result: dict[str, Any] = answer["result"]
        return result

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        resource, params, operation = self._route(method, path)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        authorizer_context = None
        if operation.get("security"):
            if token is None:
                return 401, {}
            headers["Authorization"] = f"Bearer {token}"
            decision = self.authorize(headers["Authorization"])
            if decision["policyDocument"]["Statement"][0]["Effect"] != "Allow":
                return 403, {}  # the gateway answers; the template maps it to the documented 401
            authorizer_context = {"principalId": decision["principalId"], **decision.get("context", {})}
        event = proxy_event(
            {
                "method": method,
                "path": path,
                "resource": resource,
                "path_params": params or None,
                "headers": headers,
                "request_id": f"apigw-{secrets.token_hex(4)}",
                "authorizer": authorizer_context,
                "body": body,
            }
        )
        answer = self.api.call("invoke", event=event)
        self.answers.append(answer)
        assert answer["ok"], answer.get("error")
        result = answer["result"]
        return result["statusCode"], json.loads(result["body"]) if result.get("body") else {}

    def _route(self, method: str, path: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        for pattern, resource, methods in self.routes:
            match = pattern.match(path)
            if match and method.lower() in methods:
                names = re.findall(r"\{([^/]+)\}", resource)
                return resource, dict(zip(names, match.groups(), strict=True)), methods[method.lower()]
        raise AssertionError(f"no route for {method} {path} in the template")


@pytest.fixture
def engine(table: Table, engine_endpoint: str) -> dict[str, str]:
    """The engine with this test's table and the stage's JWT key in SSM (SecureString)."""
    secret = secrets.token_urlsafe(48)
    _put_secret(engine_endpoint, secret)
    _set_up_ses(engine_endpoint)
    return {"endpoint": engine_endpoint, "table": table.name, "secret": secret}


def _set_up_ses(endpoint: str) -> None:
    """What an operator does once per account: verify the identity, make the configuration set."""
    kwargs: Any = {
        "region_name": "us-east-1",
        "endpoint_url": endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    boto3.client("ses", **kwargs).verify_email_identity(EmailAddress=SENDER)
    with contextlib.suppress(ClientError):  # made by an earlier test on this engine
        boto3.client("sesv2", **kwargs).create_configuration_set(
            ConfigurationSetName=MAIL_PARAMETERS[mail.CONFIGURATION_SET]
        )


def _mailed_token(endpoint: str, user_id: str) -> str:
    """The verification token SES (the engine) was asked to send to this user."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:  # noqa: S310
        sent = answer.read().decode()
    tokens = re.findall(rf"token=({re.escape(user_id)}\.[A-Za-z0-9_-]{{43}})", sent)
    assert tokens, "no verification mail went out through SES"
    return str(tokens[-1])


def _put_secret(endpoint: str, value: str) -> None:
    ssm = boto3.client(
        "ssm",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ssm.put_parameter(Name=STAGE.jwt_secret_param, Value=value, Type="SecureString", Overwrite=True)


def _functions(unzipped: Unzipped) -> dict[str, dict[str, Any]]:
    """The functions behind API Gateway (the scheduled sweep is run by the test below)."""
    return {
        name: resource
        for name, resource in unzipped.template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function" and name in release.FUNCTIONS
    }


def _start(
    spawn: Any, python: str, unzipped: Unzipped, runtime: Path, engine: dict[str, str], init_type: str
) -> dict[str, Any]:
    started = {}
    for name, resource in _functions(unzipped).items():
        env = _function_env(
            resource, unzipped.task_root, runtime, engine["endpoint"], engine["table"], init_type
        )
        started[name] = spawn(python, unzipped.task_root, runtime, resource["Properties"]["Handler"], env)
    return started


def _assert_clean(answer: dict[str, Any]) -> None:
    """The answer came from 3.13, loaded nothing from outside the zip, the runtime and the
    standard library, and found 3.13 bytecode for every module of the zip it loaded."""
    assert answer["ok"], answer.get("error")
    assert answer["python"] == [3, 13]
    assert answer["foreign_modules"] == []
    assert answer["without_bytecode"] == []


def _lines(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines = []
    for answer in answers:
        for line in answer["output"]:
            if line.startswith("{"):
                lines.append(json.loads(line))
    return lines


def _iam_actions(calls: list[dict[str, Any]]) -> set[str]:
    actions = set()
    for call in calls:
        if call["operation"] == "TransactWriteItems":
            actions |= {f"dynamodb:{iam.TRANSACT_ITEM_ACTIONS[k]}" for k in call["item_kinds"]}
        else:
            service = "ses" if call["service"] == "sesv2" else call["service"]  # IAM's prefix
            actions.add(f"{service}:{call['operation']}")
    return actions


def _shop(gateway: Gateway, engine: dict[str, str]) -> dict[str, Any]:
    """register → verify the address (prod requires it to order) → token → create product →
    order → cancel, through the gateway."""
    email = f"zip-{secrets.token_hex(4)}@example.com"
    status, user = gateway.request("POST", "/users", {"email": email, "password": PASSWORD, "name": "Zip"})
    assert status == 201, user
    mailed = {"token": _mailed_token(engine["endpoint"], user["id"])}
    verified = gateway.request("POST", "/auth/verify-email", mailed)
    assert verified[0] == 204, verified
    status, tokens = gateway.request("POST", "/auth/token", {"email": email, "password": PASSWORD})
    assert status == 200, tokens
    token = tokens["access_token"]
    status, product = gateway.request(
        "POST", "/products", {"name": "Teapot", "price": 19.99, "stock": 3}, token=token
    )
    assert status == 201, product
    assert product["owner_id"] == user["id"]
    order_body = {"items": [{"product_id": product["id"], "quantity": 2}]}
    status, order = gateway.request("POST", "/orders", order_body, token=token)
    assert status == 201, order
    assert order["status"] == "placed"
    status, cancelled = gateway.request("POST", f"/orders/{order['id']}/cancel", token=token)
    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled"
    status, restocked = gateway.request("GET", f"/products/{product['id']}")
    assert status == 200
    assert restocked["stock"] == 3
    return {"user": user, "token": token}


def test_the_zip_serves_the_shop_flow_through_the_authorizer_against_the_engine(
    python313: str, unzipped: Unzipped, standin_runtime: Path, engine: dict[str, str], spawn: Any
) -> None:
    # Given each function the template names, loaded from the zip by its Handler string
    functions = _start(spawn, python313, unzipped, standin_runtime, engine, "on-demand")
    assert set(functions) == set(release.FUNCTIONS)
    for name, function in functions.items():
        assert _functions(unzipped)[name]["Properties"]["Runtime"] == lambda_runtime.RUNTIME
        _assert_clean(function.call("init"))
    gateway = Gateway(unzipped.template, functions["JwtAuth"], functions["APIHandler"])
    # When a customer registers, logs in, lists a product, orders it and cancels the order
    session = _shop(gateway, engine)
    # Then the authorizer allowed the real token and denies anything else (TOKEN events)
    allowed = gateway.authorize(f"Bearer {session['token']}")
    assert allowed["principalId"] == session["user"]["id"]
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    for bad in ("Bearer not-a-jwt", "Basic abc", f"Bearer {session['token']}x"):
        assert gateway.authorize(bad)["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert gateway.request("GET", "/users/me", token="not-a-jwt")[0] == 403
    for answer in gateway.answers:
        _assert_clean(answer)
    # ...the first request paid for the imports a SnapStart snapshot saves (see below)
    assert {"boto3", "argon2"} <= set(_first_invoke(functions["APIHandler"])["new_modules"])
    assert "jwt" in _first_invoke(functions["JwtAuth"])["new_modules"]
    # ...each cold start says it was an on-demand one, in the log line and the metric
    lines = _lines(gateway.answers)
    access = [line for line in lines if line.get("message") == "request"]
    assert access[0]["cold_start"] is True
    assert access[0]["init_type"] == "on-demand"
    assert all(line["cold_start"] is False and "init_type" not in line for line in access[1:])
    cold = [line for line in lines if "ColdStart" in line]
    assert sorted(line["init_type"] for line in cold) == ["on-demand", "on-demand"]  # API, authorizer
    # ...and every AWS call each function made is granted by that function's own policy
    policies = {"APIHandler": STAGE.api_policy_file, "JwtAuth": STAGE.authorizer_policy_file}
    for name, policy_file in policies.items():
        made = _iam_actions([call for a in functions[name].answers for call in a["calls"]])
        policy = iam.load_policy(policy_file)
        granted = {f"{service}:{a}" for service in ("dynamodb", "ssm") for a in iam.actions(policy, service)}
        if name == "APIHandler":  # the template's own mail policy (infra/mail.py)
            mail_policy = unzipped.template["Resources"][mail.MAIL_POLICY]["Properties"]["PolicyDocument"]
            granted |= {f"ses:{a}" for a in iam.actions(mail_policy, "ses")}
            assert "ses:SendEmail" in made  # registration mailed through SES
        assert "ssm:GetParameter" in made  # the JWT key, read from SSM as deployed
        assert made <= granted, f"{policy_file.name} lacks {sorted(made - granted)}"


def _first_invoke(function: Any) -> dict[str, Any]:
    answer: dict[str, Any] = next(a for a in function.answers if "new_modules" in a)
    return answer


def test_snapstart_hooks_warm_before_the_snapshot_and_renew_after_a_restore(
    python313: str, unzipped: Unzipped, standin_runtime: Path, engine: dict[str, str], spawn: Any
) -> None:
    # Given both functions initialised as SnapStart does when a version is published
    functions = _start(spawn, python313, unzipped, standin_runtime, engine, "snap-start")
    api, authorizer = functions["APIHandler"], functions["JwtAuth"]
    for function in functions.values():
        _assert_clean(function.call("init"))
        # When the runtime runs the before-snapshot hooks (one per function, registered once)
        snapshot = function.call("snapshot")
        _assert_clean(snapshot)
        assert snapshot["hooks"] == ["before_snapshot"]
    # Then environments resumed from one snapshot share the random state unless the
    # after-restore hooks run: with them, each draws its own numbers
    same = api.call("probe_random", hooks=False)
    assert same["ok"], same.get("error")
    assert same["values"][0] == same["values"][1]
    renewed = api.call("probe_random", hooks=True)
    assert renewed["ok"], renewed.get("error")
    assert renewed["values"][0] != renewed["values"][1]
    # Given the JWT key rotated in SSM while the snapshot waited, then a restore
    old_secret, new_secret = engine["secret"], secrets.token_urlsafe(48)
    _put_secret(engine["endpoint"], new_secret)
    for function in functions.values():
        restore = function.call("restore")
        _assert_clean(restore)
        assert restore["hooks"] == ["after_restore"]
    # When the restored environments serve the shop flow
    gateway = Gateway(unzipped.template, authorizer, api)
    session = _shop(gateway, engine)
    # Then their first requests imported none of what the snapshot had warmed
    for function in functions.values():
        first = _first_invoke(function)
        assert not set(first["new_modules"]) & {*HEAVY, "aws_xray_sdk"}, first["new_modules"]
        # ...and every AWS call went through a client made after the restore (none of the
        # snapshot's clients, connections or credentials survived)
        calls = [call for answer in function.answers for call in answer["calls"]]
        assert calls
        assert {call["client_made"] for call in calls} == {"restored"}, calls
    # ...the key in use is the one in SSM at restore time: tokens signed with the old key fail
    settings = load_settings({"STAGE": "prod", "JWT_SECRET_PARAM": STAGE.jwt_secret_param})
    live_session = jwt.decode(session["token"], options={"verify_signature": False})["sid"]
    old_ring = KeyRing(make_key(old_secret))
    stale, _ = issue_token(session["user"]["id"], "user", old_ring, settings, session_id=live_session)
    assert gateway.authorize(f"Bearer {stale}")["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert gateway.authorize(f"Bearer {session['token']}")["principalId"] == session["user"]["id"]
    # ...and each first request reports a cold start of kind "restore" (log line and metric)
    lines = _lines(gateway.answers)
    access = [line for line in lines if line.get("message") == "request"]
    assert (access[0]["cold_start"], access[0]["init_type"]) == (True, "restore")
    authorizer_lines = [line for line in lines if line.get("message") == "authorizer"]
    assert (authorizer_lines[0]["cold_start"], authorizer_lines[0]["init_type"]) == (True, "restore")
    assert sorted(line["init_type"] for line in lines if "ColdStart" in line) == ["restore", "restore"]
    for answer in gateway.answers:
        _assert_clean(answer)


def test_harness_catches_a_wrong_handler_a_missing_module_and_bytecode_for_another_python(
    python313: str, standin_runtime: Path, tmp_path: Path, spawn: Any
) -> None:
    # Given a package whose module has bytecode only for this (3.11) interpreter, one that
    # imports a library the runtime does not provide (stripped from the zip), and a
    # handler string naming an attribute that does not exist
    task = tmp_path / "task"
    (task / "pkg").mkdir(parents=True)
    (task / "pkg" / "__init__.py").write_text("", encoding="utf-8")
    (task / "pkg" / "good.py").write_text(
        "def handler(event, context):\n    return event\n", encoding="utf-8"
    )
    (task / "pkg" / "stripped.py").write_text("import wrapt\n", encoding="utf-8")
    for module in ("__init__", "good"):
        py_compile.compile(str(task / "pkg" / f"{module}.py"), doraise=True)  # cpython-311 pycs
    env = {"PATH": "/usr/bin:/bin"}

    def init(handler: str) -> dict[str, Any]:
        answer: dict[str, Any] = spawn(python313, task, standin_runtime, handler, env).call("init")
        return answer

    # Then each is reported: the 3.11 bytecode as missing 3.13 bytecode...
    loaded = init("pkg.good.handler")
    assert loaded["ok"]
    assert loaded["foreign_modules"] == []
    assert loaded["without_bytecode"] == ["pkg", "pkg.good"]
    assert slim.bytecode_gaps(["pkg/good.py", "pkg/__pycache__/good.cpython-311.pyc"], "cpython-313") == [
        "pkg/good.py"
    ]
    # ...the wrong handler string and the stripped library as failed inits
    assert "AttributeError" in init("pkg.good.handle")["error"]
    assert "No module named 'wrapt'" in init("pkg.stripped.handler")["error"]


def test_the_packaged_sweep_expires_an_overdue_order_when_the_schedule_calls_it(
    python313: str,
    unzipped: Unzipped,
    standin_runtime: Path,
    engine: dict[str, str],
    spawn: Any,
    table: Table,
) -> None:
    # Given an overdue placed order holding 2 units, in the engine's table
    from datetime import timedelta
    from decimal import Decimal

    from chalicelib.clock import utc_now
    from chalicelib.models.orders import OrderItem, OrderLine, StatusChange
    from chalicelib.models.products import ProductItem
    from chalicelib.store import keys
    from chalicelib.store.orders import OrderStore
    from chalicelib.store.products import ProductStore

    now = utc_now()
    product = ProductItem(
        id="P1", owner_id="u1", name="Mug", description="", price=Decimal("2.50"), currency="USD",
        stock=8, version=1, created_at=now, updated_at=now,
    )  # fmt: skip
    assert ProductStore(table).put_new(product)
    line = OrderLine(product_id="P1", name="Mug", unit_price=Decimal("2.50"), quantity=2)
    order = OrderItem(
        id="O1", user_id="u2", items=[line], total=Decimal("5.00"), currency="USD", status="placed",
        status_history=[StatusChange(status="placed", at=now - timedelta(hours=1))],
        payment_due_at=now - timedelta(minutes=30), created_at=now - timedelta(hours=1),
    )  # fmt: skip
    assert OrderStore(table).put_new(order)
    # When EventBridge calls the packaged ExpireOrders function (its handler, its environment)
    resource = unzipped.template["Resources"]["ExpireOrders"]
    env = _function_env(
        resource, unzipped.task_root, standin_runtime, engine["endpoint"], engine["table"], "on-demand"
    )
    sweep = spawn(python313, unzipped.task_root, standin_runtime, resource["Properties"]["Handler"], env)
    _assert_clean(sweep.call("init"))
    event = {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "id": "e1",
             "time": "2026-12-04T04:00:00Z", "region": "us-east-1", "resources": [], "detail": {},
             "account": "123456789012"}  # fmt: skip
    answer = sweep.call("invoke", event=event)
    # Then the order is expired and its units are back, in the one run
    assert answer["result"] == {"expired": 1}, answer
    assert table.get(keys.order_key("O1"))["status"] == "expired"  # type: ignore[index]
    assert table.get(keys.product_key("P1"))["stock"] == 10  # type: ignore[index]
