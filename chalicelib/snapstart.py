"""Lambda SnapStart runtime hooks: warm before the snapshot, renew after a restore.

With SnapStart, Lambda initialises a published version once, runs the before-snapshot
hooks, and snapshots the environment's memory; new environments resume from that
snapshot. So whatever the first request needs should be built before the snapshot
(imports, models, configured clients), and whatever must be unique to one environment,
or may have gone stale since the snapshot was taken, is made anew after each restore:

- the `random` module's state (identical in every environment resumed from one
  snapshot; botocore draws its retry jitter from it). IDs and tokens use os.urandom;
- the AWS clients and their pooled connections (the table's, the probe's): dropped,
  re-made on first use with the restored environment's credentials;
- the JWT key ring and the settings: dropped, re-read on first use (a rotated key takes
  effect without a redeploy; no secret is in the snapshot, as none is read before it);
- the X-Ray context (trace entities, the daemon socket) and the cold-start flag, so the
  first request after a restore reports `cold_start: true, init_type: restore`;
- cached time: nothing here caches a clock reading; every timestamp is read per use.

Hooks are registered with `snapshot_restore_py`, which the Python managed runtimes
provide (not shipped in the zip); where it is absent (locally) nothing is registered.
Each Lambda function imports only its handler's module, so each module that is a
handler (app.py, the authorizer's module) registers what its function needs.
"""

from __future__ import annotations

import importlib
import logging
import random
import threading
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib import observability
from chalicelib.config import get_settings

logger = logging.getLogger(__name__)

_warmers: list[Callable[[], object]] = []
_refreshers: list[Callable[[], object]] = []
_registered = threading.Event()


def register(
    *,
    warm: Iterable[Callable[[], object]] = (),
    refresh: Iterable[Callable[[], object]] = (),
    hooks: Any | None = None,
) -> bool:
    """Add warmers (run before the snapshot) and refreshers (after a restore); the two
    runtime hooks are registered once per process. `hooks` is the snapshot_restore_py
    module (looked up when not given). False when the runtime has no hook library."""
    _warmers.extend(w for w in warm if w not in _warmers)
    _refreshers.extend(r for r in refresh if r not in _refreshers)
    library = hooks if hooks is not None else _hook_library()
    if library is None:
        return False
    if not _registered.is_set():
        _registered.set()
        library.register_before_snapshot(before_snapshot)
        library.register_after_restore(after_restore)
    return True


def _hook_library() -> Any | None:
    try:
        return importlib.import_module("snapshot_restore_py")
    except ImportError:
        return None


def before_snapshot() -> list[str]:
    """Warm what a first request needs; returns the names of the steps that ran."""
    done = [_step("runtime", warm_runtime)]
    done += [_step(getattr(w, "__qualname__", repr(w)), w) for w in list(_warmers)]
    return done


def after_restore() -> list[str]:
    """Renew what one environment must not share with another; returns the steps that ran."""
    done = [_step("random", reseed_random), _step("observability", reset_observability)]
    done += [_step(getattr(r, "__qualname__", repr(r)), r) for r in list(_refreshers)]
    return done


def _step(name: str, action: Callable[[], object]) -> str:
    action()
    logger.debug("snapstart step %s done", name)
    return name


def warm_runtime() -> None:
    """What both functions need on their first request: settings, the JSON log formatter,
    PyJWT, X-Ray with botocore patched (in Lambda), and
    boto3 with the SSM model loaded (deployed, the key is read from SSM after a restore)."""
    settings = get_settings()
    if settings.jwt_secret_param:
        import boto3

        # Imports and loads the service model; a client makes no request until called.
        boto3.session.Session().client("ssm", region_name=settings.region)
    observer = observability.get_observer()
    observer.logger()
    importlib.import_module("jwt")
    observability.xray_recorder()


def build_models(package: str = "chalicelib.") -> list[str]:
    """Build every loaded project model's validator now (they defer it to first use)."""
    from pydantic import BaseModel

    built = []
    pending: list[type[BaseModel]] = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith(package) and not model.__pydantic_generic_metadata__["parameters"]:
            model.model_rebuild(force=True)
            built.append(model.__qualname__)
    return sorted(set(built))


def import_password_hashing() -> None:
    """argon2 and its cffi binding (~25 ms), imported on the first login otherwise."""
    importlib.import_module("argon2")


def reseed_random() -> None:
    """Every environment resumed from one snapshot would draw the same numbers."""
    random.seed()


def reset_observability() -> None:
    """The next request is the cold start; X-Ray (if it was set up) starts afresh."""
    observability.reset_cold_start()
    if observability.xray_recorder.cache_info().currsize:
        recorder = observability.xray_recorder()
        if recorder is not None:
            renew_xray(recorder)


def renew_xray(recorder: Any) -> None:
    """No trace entity of the snapshot's moment survives, and segments go out through a
    new socket to the restored environment's daemon (AWS_XRAY_DAEMON_ADDRESS, which the
    SDK's emitter reads when it is made), from an emitter of the same class: the lean one
    that tracing.xray_recorder installed stays installed."""
    recorder.clear_trace_entities()
    recorder.emitter = type(recorder.emitter)()
