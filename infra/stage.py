"""One deployed stage as `.chalice/config.json` describes it, plus the few settings
chalice has no key for (API throttling, table deletion protection)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHALICE_DIR = ROOT / ".chalice"
DEPLOYED_STAGES = ("dev", "prod")
AUTHORIZER = "jwt_auth"


@dataclass(frozen=True)
class GatewayLimits:
    """Stage-wide API Gateway throttling (requests per second, burst bucket size)."""

    rate: int
    burst: int


# dev is a shared sandbox: low limits keep a runaway script cheap. prod: well above the
# traffic one 1024 MB function sustains comfortably, well below the account's 10k rps.
_LIMITS = {"dev": GatewayLimits(rate=20, burst=40), "prod": GatewayLimits(rate=200, burst=400)}


@dataclass(frozen=True)
class Stage:
    """What the template builder needs to know about one stage."""

    name: str
    app_name: str
    table_name: str
    jwt_secret_param: str
    payment_webhook_secret_param: str
    cors_allow_origin: str
    log_retention_days: int
    api_policy_file: Path
    authorizer_policy_file: Path
    limits: GatewayLimits

    @property
    def protected(self) -> bool:
        """Production data survives a mistaken `delete-stack` or a replacement."""
        return self.name == "prod"

    @property
    def deployment_type(self) -> str:
        """How CodeDeploy shifts traffic to a new version (docs/deployment.md, "Releases").

        prod: 10 % for 5 minutes while the alarms watch, then the rest; dev: at once (the
        alarms still roll back a version that trips them after the switch)."""
        return "Canary10Percent5Minutes" if self.protected else "AllAtOnce"

    @property
    def api_function_name(self) -> str:
        """The deployed name of the API handler Lambda."""
        # The names `chalice deploy` gives; the policies' log-group ARNs rely on them.
        return f"{self.app_name}-{self.name}"

    @property
    def sweep_function_name(self) -> str:
        """The deployed name of the scheduled expiry sweep (api/sweep.py; it shares the API's policy)."""
        return f"{self.app_name}-{self.name}-expire_orders"

    @property
    def authorizer_function_name(self) -> str:
        """The deployed name of the authorizer Lambda."""
        return f"{self.app_name}-{self.name}-{AUTHORIZER}"


def load_config(chalice_dir: Path = CHALICE_DIR) -> dict[str, Any]:
    """The parsed `.chalice/config.json`."""
    config: dict[str, Any] = json.loads((chalice_dir / "config.json").read_text(encoding="utf-8"))
    return config


def load_stage(name: str, chalice_dir: Path = CHALICE_DIR) -> Stage:
    """The deployed stage `name` (dev or prod)."""
    if name not in DEPLOYED_STAGES:
        raise ValueError(f"unknown deployed stage {name!r}; expected one of {DEPLOYED_STAGES}")
    config = load_config(chalice_dir)
    stage = config["stages"][name]
    env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}
    authorizer = stage.get("lambda_functions", {}).get(AUTHORIZER, {})
    return Stage(
        name=name,
        app_name=config["app_name"],
        table_name=env["TABLE_NAME"],
        jwt_secret_param=env["JWT_SECRET_PARAM"],
        payment_webhook_secret_param=env["PAYMENT_WEBHOOK_SECRET_PARAM"],
        cors_allow_origin=env.get("CORS_ALLOW_ORIGIN", "*"),
        log_retention_days=int(stage["log_retention_in_days"]),
        api_policy_file=chalice_dir / stage["iam_policy_file"],
        authorizer_policy_file=chalice_dir / authorizer["iam_policy_file"],
        limits=_LIMITS[name],
    )
