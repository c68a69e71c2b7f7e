"""Stand-in for the Lambda python3.13 runtime: loads one function from an unzipped package
and invokes it, as the managed runtime does. Runs under `python3.13 -I -S -B`, so nothing
of the development venv is visible: standard library only until it puts the task root and
the runtime folder (boto3/botocore/snapshot-restore-py, nothing else) on sys.path.

    python3.13 -I -S -B lambda_harness.py TASK_ROOT RUNTIME_DIR HANDLER

Then JSON lines on stdin, one answer per line on stdout (the function's own output is
captured and returned with the answer):
  {"op": "init"}                        import the handler's module, resolve the attribute
  {"op": "invoke", "event": {...}}      call handler(event, context)
  {"op": "snapshot"}                    run the before-snapshot hooks (reverse registration order)
  {"op": "restore"}                     run the after-restore hooks (registration order)
  {"op": "probe_random", "hooks": bool} fork two "restored" environments from this one and
                                        report the first random.random() each draws
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.util
import io
import json
import os
import sys
import time
import traceback
from typing import Any

TASK_ROOT, RUNTIME_DIR, HANDLER = sys.argv[1:4]
# /var/task first, then /var/runtime, then the standard library (as Lambda orders them).
sys.path[:0] = [TASK_ROOT, RUNTIME_DIR]
CALLS: list[dict[str, Any]] = []


class _WatchBotocore(importlib.abc.MetaPathFinder):
    """Record every AWS API call the function makes (service, operation, transaction
    item kinds) once botocore.client is imported, whenever that happens."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != "botocore.client":
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        original = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            make_call, init = module.BaseClient._make_api_call, module.BaseClient.__init__

            def created(client: Any, *args: Any, **kwargs: Any) -> None:
                init(client, *args, **kwargs)
                client._harness_phase = state["phase"]  # when the client was made

            def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
                kinds = sorted({k for item in params.get("TransactItems", []) for k in item})
                service = client.meta.service_model.service_name
                phase = getattr(client, "_harness_phase", None)
                CALLS.append(
                    {"service": service, "operation": operation, "item_kinds": kinds, "client_made": phase}
                )
                return make_call(client, operation, params)

            module.BaseClient.__init__ = created
            module.BaseClient._make_api_call = recorded

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


sys.meta_path.insert(0, _WatchBotocore())


class Context:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ["AWS_LAMBDA_FUNCTION_VERSION"]
        self.memory_limit_in_mb = int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}:live"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "2026/12/01/[1]harness"
        self._deadline = time.monotonic() + 15

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def _foreign_modules() -> list[str]:
    """Loaded modules whose file is neither in the task root, the runtime folder nor the
    standard library: anything the development venv could have leaked in."""
    stdlib = os.path.realpath(os.path.dirname(os.__file__))
    allowed = (os.path.realpath(TASK_ROOT), os.path.realpath(RUNTIME_DIR))

    def foreign(path: str) -> bool:
        real = os.path.realpath(path)
        in_stdlib = real.startswith(stdlib) and "site-packages" not in real
        return not (real.startswith(allowed) or in_stdlib)

    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name != "__main__" and (path := getattr(module, "__file__", None)) and foreign(path)
    )


def _without_bytecode() -> list[str]:
    """Modules loaded from the task root with no 3.13 pyc beside them (read-only /var/task
    would recompile them on every cold start; a pyc for another Python is ignored)."""
    root = os.path.realpath(TASK_ROOT)
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if (spec := getattr(module, "__spec__", None)) is not None
        and spec.origin
        and spec.origin.endswith(".py")
        and os.path.realpath(spec.origin).startswith(root)
        and not (spec.cached and os.path.exists(spec.cached))
    )


# phase: "init", then "snapshot" while the before-snapshot hooks run, "restored" after a restore.
state: dict[str, Any] = {"handler": None, "invocations": 0, "phase": "init"}


def _init(_command: dict[str, Any]) -> dict[str, Any]:
    module_name, _, attribute = HANDLER.rpartition(".")
    started = time.perf_counter()
    module = importlib.import_module(module_name)
    state["handler"] = getattr(module, attribute)
    return {"init_ms": round((time.perf_counter() - started) * 1000, 1)}


def _invoke(command: dict[str, Any]) -> dict[str, Any]:
    state["invocations"] += 1
    os.environ["_X_AMZN_TRACE_ID"] = (
        f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Parent={os.urandom(8).hex()};Sampled=1"
    )
    before = set(sys.modules)
    result = state["handler"](command["event"], Context(f"req-{state['invocations']}"))
    return {"result": result, "new_modules": sorted(set(sys.modules) - before)}


def _run_hooks(which: str) -> dict[str, Any]:
    import snapshot_restore_py as hooks

    if which == "snapshot":
        registry = list(reversed(hooks.get_before_snapshot()))
    else:
        registry = list(hooks.get_after_restore())
    state["phase"] = "snapshot" if which == "snapshot" else "restored"
    for func, args, kwargs in registry:
        func(*args, **kwargs)
    return {"hooks": [getattr(func, "__qualname__", repr(func)) for func, _, _ in registry]}


def _probe_random(command: dict[str, Any]) -> dict[str, Any]:
    import random

    # A restore resumes the snapshot's memory as it was; a fork does too, except that
    # CPython reseeds `random` in a forked child (os.register_at_fork). Put the snapshot's
    # state back in the child, so the child is what a restored environment would be.
    snapshot = random.getstate()
    values = []
    for _ in range(2):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a "restored" environment
            os.close(read)
            random.setstate(snapshot)
            with contextlib.redirect_stdout(io.StringIO()):
                if command["hooks"]:
                    _run_hooks("restore")
                os.write(write, repr(random.random()).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            values.append(float(pipe.read()))
        os.waitpid(pid, 0)
    return {"values": values}


OPS = {
    "init": _init,
    "invoke": _invoke,
    "snapshot": lambda c: _run_hooks("snapshot"),
    "restore": lambda c: _run_hooks("restore"),
    "probe_random": _probe_random,
}


def main() -> None:
    out = sys.stdout
    for line in sys.stdin:
        command = json.loads(line)
        captured = io.StringIO()
        CALLS.clear()
        try:
            with contextlib.redirect_stdout(captured):
                answer = {"ok": True, **OPS[command["op"]](command)}
        except BaseException:
            answer = {"ok": False, "error": traceback.format_exc()}
        answer.update(
            output=captured.getvalue().splitlines(),
            calls=list(CALLS),
            foreign_modules=_foreign_modules(),
            without_bytecode=_without_bytecode(),
            python=list(sys.version_info[:2]),
        )
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()


main()
