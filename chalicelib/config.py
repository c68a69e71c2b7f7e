"""Settings, read from the environment once, on first use (never at import)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import TypeVar

from chalicelib import __version__

# Marked clearly: this key exists so that `make run` works out of the box. Any stage
# other than `local` refuses to start with it (see security/keys.check_secrets()).
LOCAL_DEFAULT_JWT_SECRET = "local-only-insecure-jwt-secret-change-me-0123456789"  # noqa: S105
LOCAL_STAGES = frozenset({"local", "test"})
# The embedded engine `make run` starts; only the local stage falls back to it.
LOCAL_DYNAMODB_ENDPOINT = "http://127.0.0.1:8001"


class SettingsError(RuntimeError):
    """The environment does not describe a runnable service."""


@dataclass(frozen=True)
class MailSettings:
    """How account mails go out: SES when deployed, `.eml` files locally (docs/accounts.md)."""

    backend: str = "file"  # "ses" | "file"
    sender: str = "Storefront <no-reply@storefront.invalid>"
    configuration_set: str | None = None
    ses_endpoint: str | None = None  # an SES emulator; None: the region's endpoint
    directory: str = ".local/mail"
    echo: bool = False  # print each mail's link on the console (`make run` only)
    link_base: str = "http://127.0.0.1:8000"
    # A reset request answers no sooner than this (seconds), mail or no mail: SES's latency
    # would otherwise tell a registered address from an unregistered one (docs/accounts.md).
    reset_floor_seconds: float = 0.0


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    stage: str
    app_version: str
    table_name: str
    region: str
    dynamodb_endpoint: str | None
    jwt_secret: str | None
    jwt_previous_secrets: tuple[str, ...]
    jwt_secret_param: str | None
    jwt_issuer: str
    jwt_audience: str
    token_ttl_seconds: int
    refresh_ttl_seconds: int
    log_level: str
    cors_allow_origin: str | None
    metrics_enabled: bool
    metrics_namespace: str
    service_name: str
    # The most a request may spend on DynamoDB (seconds), kept under the function's timeout
    # (15 s, .chalice/config.json) so that the API answers its own 503 rather than being killed.
    request_budget_seconds: float = 12.0
    max_body_bytes: int = 64 * 1024
    # Events: the local bus (one JSON line per event) and the deployed EventBridge bus.
    events_file: str = ".local/events.jsonl"
    event_bus_name: str = "storefront-local"
    # How long a placed order holds its stock before it expires (docs/orders.md).
    order_payment_window_seconds: int = 1800
    # How often `chalice local` sweeps expired orders (deployed: the scheduled function, 1 min).
    order_sweep_seconds: float = 60.0
    # The payment provider's Standard Webhooks secrets (`whsec_<base64>`), current first; or
    # the SSM parameter that holds them (deployed). See services/payments.py.
    payment_webhook_secrets: tuple[str, ...] = ()
    payment_webhook_secret_param: str | None = None
    mail: MailSettings = field(default_factory=lambda: MailSettings())
    # POST /orders refuses callers whose e-mail address is not verified (deployed stages).
    require_verified_email: bool = False
    # How long a container keeps a public product list page (api/list_cache.py); 0 (local,
    # test) turns the cache off, so a write is seen by the next read (docs/performance.md).
    list_cache_seconds: float = 0.0
    # The first retry of a failed webhook delivery waits this long, then doubling (chalicelib/webhooks.py).
    webhook_retry_base_seconds: float = 30.0
    # Deployed: the SQS queue the webhook worker re-enqueues retries on (chalicelib/webhook_worker.py).
    webhook_queue_url: str | None = None
    # Webhook URLs to http://127.0.0.1 on a deployed stage: set only by the emulator's
    # template (infra/emulator_template.py), so tests/deployed/ can receive; never on AWS.
    webhook_allow_loopback: bool = False

    @property
    def is_local(self) -> bool:
        """True for the stages that run on a developer's machine or in tests."""
        return self.stage in LOCAL_STAGES

    @property
    def webhook_urls_local(self) -> bool:
        """True where webhook URLs may be `http://127.0.0.1` (local stages, the emulator's stack)."""
        return self.is_local or self.webhook_allow_loopback


N = TypeVar("N", int, float)


def _number(env: dict[str, str], name: str, default: N) -> N:
    """A numeric setting of the default's type (int or float); the default when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return type(default)(raw)
    except ValueError as exc:
        kind = "an integer" if isinstance(default, int) else "a number"
        raise SettingsError(f"{name} must be {kind}, got {raw!r}") from exc


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in {"1", "true", "yes", "on"}


def load_settings(env: dict[str, str]) -> Settings:
    """Build Settings from a mapping (os.environ in production, a dict in tests)."""
    stage = env.get("STAGE", "local").strip() or "local"
    # Comma-separated; the blanks around a key are the list's, not the key's ("k1, k2").
    previous = tuple(s.strip() for s in env.get("JWT_PREVIOUS_SECRETS", "").split(",") if s.strip())
    return Settings(
        stage=stage,
        app_version=env.get("APP_VERSION", __version__),
        table_name=env.get("TABLE_NAME", "storefront-local"),
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT")
        or (LOCAL_DYNAMODB_ENDPOINT if stage == "local" else None),
        jwt_secret=env.get("JWT_SECRET") or None,
        jwt_previous_secrets=previous,
        jwt_secret_param=env.get("JWT_SECRET_PARAM") or None,
        jwt_issuer=env.get("JWT_ISSUER", "storefront"),
        jwt_audience=env.get("JWT_AUDIENCE", "storefront-api"),
        token_ttl_seconds=_number(env, "TOKEN_TTL_SECONDS", 3600),
        # A session's absolute lifetime: its refresh tokens stop working this long after login.
        refresh_ttl_seconds=_number(env, "REFRESH_TTL_SECONDS", 14 * 24 * 3600),
        log_level=env.get("LOG_LEVEL", "INFO").upper(),
        cors_allow_origin=env.get("CORS_ALLOW_ORIGIN") or None,
        metrics_enabled=_flag(env, "METRICS_ENABLED", stage not in LOCAL_STAGES),
        metrics_namespace=env.get("METRICS_NAMESPACE", "Storefront"),
        service_name=env.get("SERVICE_NAME", "storefront"),
        request_budget_seconds=_number(env, "REQUEST_BUDGET_SECONDS", 12.0),
        events_file=env.get("EVENTS_FILE") or ".local/events.jsonl",
        event_bus_name=env.get("EVENT_BUS_NAME") or f"storefront-{stage}",
        order_payment_window_seconds=_number(env, "ORDER_PAYMENT_WINDOW_SECONDS", 1800),
        order_sweep_seconds=_number(env, "ORDER_SWEEP_SECONDS", 60.0),
        # Several secrets, space- or comma-separated, while the provider's secret is rotated.
        payment_webhook_secrets=tuple(env.get("PAYMENT_WEBHOOK_SECRET", "").replace(",", " ").split()),
        payment_webhook_secret_param=env.get("PAYMENT_WEBHOOK_SECRET_PARAM") or None,
        mail=_mail(env, stage),
        require_verified_email=_flag(env, "REQUIRE_VERIFIED_EMAIL", False),
        list_cache_seconds=_number(env, "LIST_CACHE_SECONDS", 0.0),
        webhook_retry_base_seconds=_number(env, "WEBHOOK_RETRY_BASE_SECONDS", 30.0),
        webhook_queue_url=env.get("WEBHOOK_QUEUE_URL") or None,
        webhook_allow_loopback=_flag(env, "WEBHOOK_ALLOW_LOOPBACK", False),
    )


MAIL_BACKENDS = ("ses", "file")


def _mail(env: dict[str, str], stage: str) -> MailSettings:
    defaults = MailSettings()
    backend = env.get("MAIL_BACKEND", "").strip().lower() or ("file" if stage in LOCAL_STAGES else "ses")
    if backend not in MAIL_BACKENDS:
        # A typo must not quietly turn a deployed stage's mail into files nobody reads.
        raise SettingsError(f"MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, got {backend!r}")
    return MailSettings(
        backend=backend,
        sender=env.get("MAIL_SENDER") or defaults.sender,
        configuration_set=env.get("MAIL_CONFIGURATION_SET") or None,
        ses_endpoint=env.get("MAIL_SES_ENDPOINT") or None,
        directory=env.get("MAIL_DIR") or defaults.directory,
        echo=_flag(env, "MAIL_ECHO", False),
        link_base=(env.get("MAIL_LINK_BASE") or defaults.link_base).rstrip("/"),
        # Off for the test suite only (its pacing is tested with a fake clock): `make run`
        # writes an .eml in ~10 ms, enough to tell a registered address from another.
        reset_floor_seconds=_number(env, "MAIL_RESET_FLOOR_SECONDS", 0.0 if stage == "test" else 0.5),
    )


@functools.cache
def get_settings() -> Settings:
    """The process-wide Settings, read from os.environ on first call."""
    return load_settings(dict(os.environ))


def reset_settings() -> None:
    """Forget cached settings (tests and manage.py change the environment)."""
    get_settings.cache_clear()
