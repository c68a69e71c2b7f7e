"""`make deploy-local` / `make deploy-local-stop`: the packaged stack on MiniStack, as
`sam deploy` would put it on AWS (docs/deployment.md, "Deploy it locally").

    python -m infra.deploy_local up [--port N]   # start the emulator, package, deploy, print the URL
    python -m infra.deploy_local down            # delete the stack, stop the emulator

The zip and the template go to the emulator's S3 (the template is over CloudFormation's
51,200-byte inline limit, so `TemplateURL`, as `sam deploy` does), the JWT key to its SSM
as a SecureString, then CreateStack with the SAM transform, or a change set when the stack
exists. What differs from the AWS template is infra/emulator_template.py's one list.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra import emulator, emulator_template, mail
from infra.stage import ROOT, Stage, load_stage
from tools.run_local import create_admin_args

ARTIFACT_BUCKET = "storefront-deploy-artifacts"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
ADMIN_EMAIL = "admin@storefront.local"
# The SES identity the account mails go out from, made in the emulator as an operator would once.
MAIL_DOMAIN = "storefront.local"
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class DeployError(RuntimeError):
    """The stack could not be created, updated or deleted."""


@dataclass(frozen=True)
class Deployed:
    """What a deploy gives its user: where the API is and who may administer it."""

    stack: str
    rest_api_id: str
    base_url: str
    admin_email: str
    admin_password: str
    seconds: float


def client(endpoint: str, service: str) -> Any:
    """A boto3 client for the emulator (any credentials; one region)."""
    session = boto3.session.Session(
        aws_access_key_id=emulator.ACCESS_KEY,
        aws_secret_access_key=emulator.SECRET_KEY,
        region_name=emulator.REGION,
    )
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def stack_name(stage: Stage) -> str:
    """One stack per stage, named as the functions are."""
    return stage.api_function_name


def upload(endpoint: str, stage: Stage, package_dir: Path) -> str:
    """Zip and adjusted template into the emulator's S3; returns the TemplateURL."""
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    code = (package_dir / "deployment.zip").read_bytes()
    code_key = f"{stack_name(stage)}/{hashlib.sha256(code).hexdigest()[:16]}.zip"
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=code_key, Body=code)
    template = json.loads((package_dir / "sam.json").read_text(encoding="utf-8"))
    adjusted = emulator_template.for_emulator(template)
    body = json.dumps(emulator_template.with_code_in_s3(adjusted, ARTIFACT_BUCKET, code_key)).encode()
    template_key = f"{stack_name(stage)}/{hashlib.sha256(body).hexdigest()[:16]}.template.json"
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=template_key, Body=body)
    return f"{endpoint}/{ARTIFACT_BUCKET}/{template_key}"


def _put_secret_once(ssm: Any, name: str, value: str) -> None:
    try:
        ssm.get_parameter(Name=name)
    except ClientError:
        ssm.put_parameter(Name=name, Type="SecureString", Value=value)


def put_signing_key(endpoint: str, stage: Stage) -> None:
    """The JWT key and the payment provider's webhook secret as SecureStrings, made once (a
    re-deploy keeps them, and the sessions)."""
    ssm = client(endpoint, "ssm")
    _put_secret_once(ssm, stage.jwt_secret_param, secrets.token_urlsafe(48))
    webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    _put_secret_once(ssm, stage.payment_webhook_secret_param, webhook_secret)


def prepare_mail(endpoint: str, stage: Stage) -> list[dict[str, str]]:
    """The SES pieces an account sets up once (the template names them, never creates them):
    the sender identity and the configuration set; the stack parameters naming them."""
    ses = client(endpoint, "sesv2")
    configuration_set = f"{stage.app_name}-{stage.name}"
    try:
        ses.create_email_identity(EmailIdentity=MAIL_DOMAIN)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
            raise
    try:
        ses.create_configuration_set(ConfigurationSetName=configuration_set)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
            raise
    values = {
        mail.IDENTITY: MAIL_DOMAIN,
        mail.FROM_ADDRESS: f"no-reply@{MAIL_DOMAIN}",
        mail.CONFIGURATION_SET: configuration_set,
        mail.LINK_BASE: f"https://{MAIL_DOMAIN}",
    }
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def apply_stack(
    endpoint: str,
    stage: Stage,
    template_url: str,
    parameters: list[dict[str, str]],
    timeout: float = 300,
) -> None:
    """CreateStack the first time; afterwards a change set, executed unless it is empty."""
    cfn = client(endpoint, "cloudformation")
    name = stack_name(stage)
    if _stack_status(cfn, name) is None:
        cfn.create_stack(
            StackName=name, TemplateURL=template_url, Capabilities=CAPABILITIES, Parameters=parameters
        )
        _wait_stack(cfn, name, "CREATE_COMPLETE", timeout)
        return
    change_set = f"deploy-{int(time.time())}"
    cfn.create_change_set(
        StackName=name, ChangeSetName=change_set, TemplateURL=template_url,
        Capabilities=CAPABILITIES, ChangeSetType="UPDATE", Parameters=parameters,
    )  # fmt: skip
    status = _wait_change_set(cfn, name, change_set, timeout)
    if status.get("Status") == "FAILED":
        if any(text in status.get("StatusReason", "") for text in _NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            return
        raise DeployError(f"change set {change_set}: {status.get('StatusReason')}")
    cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
    _wait_stack(cfn, name, "UPDATE_COMPLETE", timeout)


def base_url(endpoint: str, stage: Stage) -> tuple[str, str]:
    """(REST API id, the stage's URL on the emulator's gateway, no trailing slash)."""
    cfn = client(endpoint, "cloudformation")
    resource = cfn.describe_stack_resource(StackName=stack_name(stage), LogicalResourceId="RestAPI")
    api_id = resource["StackResourceDetail"]["PhysicalResourceId"]
    return api_id, f"{endpoint}/_aws/execute-api/{api_id}/api"


def create_admin(endpoint: str, stage: Stage, email: str, password: str) -> None:
    """`manage.py create-admin` against the stack's table in the emulator."""
    env = {
        "PATH": "/usr/bin:/bin",
        # No 3.11 bytecode in chalicelib/: `chalice package` would ship it in the zip.
        "PYTHONDONTWRITEBYTECODE": "1",
        "STAGE": stage.name,
        "TABLE_NAME": stage.table_name,
        "DYNAMODB_ENDPOINT": endpoint,
        "AWS_DEFAULT_REGION": emulator.REGION,
        "AWS_ACCESS_KEY_ID": emulator.ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": emulator.SECRET_KEY,
        "AWS_XRAY_SDK_ENABLED": "false",
    }
    command = [sys.executable, "manage.py", *create_admin_args(email, password)]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DeployError(f"create-admin failed:\n{result.stdout}{result.stderr}")


def deploy(endpoint: str, stage: Stage, package_dir: Path, admin_password: str) -> Deployed:
    """Upload, key, stack, admin: the whole deploy against a running emulator. The admin
    keeps the password it was created with (a re-deploy promotes, never resets)."""
    started = time.monotonic()
    template_url = upload(endpoint, stage, package_dir)
    put_signing_key(endpoint, stage)
    apply_stack(endpoint, stage, template_url, prepare_mail(endpoint, stage))
    api_id, url = base_url(endpoint, stage)
    password = admin_password
    create_admin(endpoint, stage, ADMIN_EMAIL, password)
    return Deployed(stack_name(stage), api_id, url, ADMIN_EMAIL, password, time.monotonic() - started)


def delete(endpoint: str, stage: Stage, timeout: float = 120) -> None:
    """Delete the stack, the uploaded artifacts and the key: nothing of ours is left."""
    cfn = client(endpoint, "cloudformation")
    name = stack_name(stage)
    if _stack_status(cfn, name) is not None:
        cfn.delete_stack(StackName=name)
        _wait_stack(cfn, name, "DELETE_COMPLETE", timeout)
    s3 = client(endpoint, "s3")
    try:
        listing = s3.list_objects_v2(Bucket=ARTIFACT_BUCKET)
    except ClientError:
        listing = None
    if listing is not None:
        for item in listing.get("Contents", []):
            s3.delete_object(Bucket=ARTIFACT_BUCKET, Key=item["Key"])
        s3.delete_bucket(Bucket=ARTIFACT_BUCKET)
    ssm = client(endpoint, "ssm")
    for parameter in (stage.jwt_secret_param, stage.payment_webhook_secret_param):
        try:
            ssm.delete_parameter(Name=parameter)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ParameterNotFound":
                raise


def leftovers(endpoint: str) -> dict[str, list[str]]:
    """Whatever the emulator still holds of the kinds the stack and the deploy create."""
    found = {
        "stacks": [
            s["StackName"]
            for s in client(endpoint, "cloudformation").describe_stacks()["Stacks"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ],
        "functions": [f["FunctionName"] for f in client(endpoint, "lambda").list_functions()["Functions"]],
        "tables": client(endpoint, "dynamodb").list_tables()["TableNames"],
        "rest_apis": [a["name"] for a in client(endpoint, "apigateway").get_rest_apis()["items"]],
        "roles": [r["RoleName"] for r in client(endpoint, "iam").list_roles()["Roles"]],
        "log_groups": [
            g["logGroupName"] for g in client(endpoint, "logs").describe_log_groups()["logGroups"]
        ],
        "alarms": [a["AlarmName"] for a in client(endpoint, "cloudwatch").describe_alarms()["MetricAlarms"]],
        "dashboards": [
            d["DashboardName"] for d in client(endpoint, "cloudwatch").list_dashboards()["DashboardEntries"]
        ],
        "buckets": [b["Name"] for b in client(endpoint, "s3").list_buckets()["Buckets"]],
        "parameters": [p["Name"] for p in client(endpoint, "ssm").describe_parameters()["Parameters"]],
        "queues": client(endpoint, "sqs").list_queues().get("QueueUrls", []),
        "event_buses": [
            b["Name"]
            for b in client(endpoint, "events").list_event_buses()["EventBuses"]
            if b["Name"] != "default"
        ],
        "rules": [r["Name"] for r in client(endpoint, "events").list_rules()["Rules"]],
        "event_source_mappings": [
            m["UUID"] for m in client(endpoint, "lambda").list_event_source_mappings()["EventSourceMappings"]
        ],
    }
    return {kind: names for kind, names in found.items() if names}


def _stack_status(cfn: Any, name: str) -> str | None:
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    status: str = stacks[0]["StackStatus"]
    return None if status == "DELETE_COMPLETE" else status


def _wait_stack(cfn: Any, name: str, goal: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _stack_status(cfn, name) or "DELETE_COMPLETE"
        if status == goal:
            return
        if not status.endswith("_IN_PROGRESS"):
            raise DeployError(f"stack {name}: {status}\n{_failures(cfn, name)}")
        time.sleep(1)
    raise DeployError(f"stack {name}: not {goal} within {timeout} s")


def _failures(cfn: Any, name: str) -> str:
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    failed = [e for e in events if e.get("ResourceStatus", "").endswith("FAILED")]
    return "\n".join(f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}" for e in failed)


def _wait_change_set(cfn: Any, name: str, change_set: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described: dict[str, Any] = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
        time.sleep(1)
    raise DeployError(f"change set {change_set}: not ready within {timeout} s")


def _up(args: argparse.Namespace, stage: Stage) -> int:
    running = emulator.running()
    if running is None:
        running = emulator.start(args.port)
        print(f"MiniStack {running.endpoint} (pid {running.pid}; log {running.state_dir / 'ministack.log'})")
    deployed = deploy(running.endpoint, stage, args.package, _admin_password(running.state_dir))
    print(f"stack {deployed.stack} deployed in {deployed.seconds:.0f} s")
    print(f"API:   {deployed.base_url}")
    host = f"{deployed.rest_api_id}.execute-api.localhost"
    print(f"       or {running.endpoint}/api with 'Host: {host}' (Location headers are relative to it)")
    print(f"admin: {deployed.admin_email} / {deployed.admin_password}")
    print("stop:  make deploy-local-stop")
    return 0


def _admin_password(state_dir: Path) -> str:
    # Made once per emulator run and kept beside it, so every re-deploy prints the right one.
    record = state_dir / "admin-password"
    if not record.exists():
        record.touch(mode=0o600)
        record.write_text(secrets.token_urlsafe(18), encoding="utf-8")
    return record.read_text(encoding="utf-8").strip()


def _down(stage: Stage) -> int:
    running = emulator.running()
    if running is None:
        print("MiniStack is not running")
        return 0
    delete(running.endpoint, stage)
    left = leftovers(running.endpoint)
    emulator.stop(running)
    (running.state_dir / "admin-password").unlink(missing_ok=True)
    print(f"stack {stack_name(stage)} deleted; MiniStack (pid {running.pid}) stopped")
    if left:
        print(f"error: left behind in the emulator: {left}", file=sys.stderr)
    return 1 if left else 0


def main(argv: list[str] | None = None) -> int:
    """`up` or `down` the dev stack on the emulator."""
    parser = argparse.ArgumentParser(prog="python -m infra.deploy_local", description=__doc__)
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--port", type=int, help="the emulator's port (default: a free one)")
    parser.add_argument("--package", type=Path, default=ROOT / "out" / "dev", help="`make package` output")
    args = parser.parse_args(argv)
    stage = load_stage("dev")
    try:
        return _up(args, stage) if args.action == "up" else _down(stage)
    except (DeployError, emulator.EmulatorError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
