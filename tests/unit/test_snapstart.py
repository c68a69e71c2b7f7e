"""SnapStart hooks in-process: what is warmed, and what a restore renews. The same hooks run
in the unzipped package on Python 3.13 in tests/deploy/test_zip_lambda.py."""

from __future__ import annotations

import io
import json
import random
import sys
from collections.abc import Iterator

import pytest
import snapshot_restore_py
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core.recorder import AWSXRayRecorder
from pydantic import BaseModel, ConfigDict

import app  # noqa: F401 - registers the hooks, as Lambda's import of the handler does
from chalicelib import observability, snapstart
from chalicelib.api import deps
from chalicelib.api.context import RequestState
from chalicelib.api.middleware import access_fields
from chalicelib.observability import Observer, Sink
from chalicelib.observability.xray_lean import LeanUDPEmitter
from chalicelib.security.keys import get_keyring, make_key


@pytest.fixture
def fresh_collaborators() -> Iterator[None]:
    deps.reset()
    yield
    deps.reset()


def test_each_hook_is_registered_once_although_two_modules_register() -> None:
    # app.py (the API function) and chalicelib/api/auth.py (the authorizer's module) both register
    before = [f for f, _, _ in snapshot_restore_py.get_before_snapshot() if f is snapstart.before_snapshot]
    after = [f for f, _, _ in snapshot_restore_py.get_after_restore() if f is snapstart.after_restore]
    assert len(before) == len(after) == 1
    assert deps.get_table in snapstart._warmers
    assert deps.reset in snapstart._refreshers
    assert get_keyring.cache_clear in snapstart._refreshers


def test_without_the_runtime_library_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # as locally, without it
    assert snapstart.register() is False


def test_registering_again_adds_no_second_hook() -> None:
    class Library:
        calls: list[object] = []

        def register_before_snapshot(self, func: object) -> None:
            self.calls.append(func)

        register_after_restore = register_before_snapshot

    library = Library()
    assert snapstart.register(hooks=library) is True
    assert library.calls == []  # already registered once in this process: never twice


class _Deferred(BaseModel):
    model_config = ConfigDict(defer_build=True)
    name: str


def test_before_snapshot_builds_deferred_models_and_configures_the_table_client(
    fresh_collaborators: None,
) -> None:
    def complete() -> bool:  # a call, so that mypy does not narrow the class attribute
        return bool(_Deferred.__pydantic_complete__)

    assert not complete()
    assert snapstart.build_models(package=__name__) == ["_Deferred"]
    assert complete()
    steps = snapstart.before_snapshot()
    assert steps[:2] == ["runtime", "get_table"]
    assert deps.table_for.cache_info().currsize == 1  # a configured client, no request made


def test_after_restore_drops_clients_and_rereads_the_key(
    fresh_collaborators: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a table client and a key ring cached before the snapshot
    table = deps.get_table()
    old_key = make_key("a" * 40)
    monkeypatch.setenv("JWT_SECRET", "a" * 40)
    deps.reset()
    table = deps.get_table()
    assert get_keyring().current == old_key
    # When the key is rotated while the snapshot waits, and the environment is restored
    monkeypatch.setenv("JWT_SECRET", "b" * 40)
    assert get_keyring().current == old_key  # cached for the container's life, until...
    snapstart.after_restore()
    # Then the key in use is the new one and the client is a new one
    assert get_keyring().current == make_key("b" * 40)
    assert deps.get_table() is not table


def test_after_restore_reseeds_random_state_shared_with_other_restored_environments() -> None:
    random.seed(1234)
    expected = random.random()
    random.seed(1234)  # the state every environment resumed from one snapshot starts with
    snapstart.reseed_random()
    assert random.random() != expected


def test_after_restore_makes_the_next_request_a_cold_start_again() -> None:
    observability.take_cold_start()
    assert observability.take_cold_start() is False
    snapstart.reset_observability()
    assert observability.take_cold_start() is True


@pytest.fixture
def xray_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("AWS_XRAY_SDK_ENABLED")  # the variable overrides set_sdk_enabled
    global_sdk_config.set_sdk_enabled(True)  # a recorder of its own: nothing is patched
    yield
    monkeypatch.undo()
    global_sdk_config.set_sdk_enabled(None)  # back to AWS_XRAY_SDK_ENABLED (false in tests)


def test_renewing_xray_drops_trace_entities_and_opens_a_new_daemon_socket(
    xray_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = AWSXRayRecorder()
    # Configured as tracing.xray_recorder does: the lean emitter, at the snapshot's daemon
    recorder.configure(
        context_missing="IGNORE_ERROR", sampling=False, emitter=LeanUDPEmitter("127.0.0.1:2000")
    )
    segment = recorder.begin_segment("before-snapshot")
    assert recorder.current_segment() is segment
    emitter = recorder.emitter
    monkeypatch.setenv("AWS_XRAY_DAEMON_ADDRESS", "169.254.79.129:2001")  # the restored environment's
    snapstart.renew_xray(recorder)
    assert recorder.current_segment() is None
    # A new socket, from the same lean class, to the daemon the restored environment names
    assert recorder.emitter is not emitter
    assert type(recorder.emitter) is LeanUDPEmitter
    assert (recorder.emitter.ip, recorder.emitter.port) == ("169.254.79.129", 2001)


@pytest.mark.parametrize(
    ("variable", "expected"),
    [
        ("snap-start", "restore"),
        ("on-demand", "on-demand"),
        ("provisioned-concurrency", "provisioned-concurrency"),
    ],
)
def test_initialization_type_names_a_snapstart_restore(
    monkeypatch: pytest.MonkeyPatch, variable: str, expected: str
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", variable)
    assert observability.initialization_type() == expected


def test_initialization_type_is_on_demand_outside_lambda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    assert observability.initialization_type() == "on-demand"


def test_cold_start_metric_is_counted_by_initialization_type() -> None:
    stream = io.StringIO()
    Observer(service="storefront", metrics_enabled=True, sink=Sink(stream)).count_cold_start("restore")
    Observer(service="storefront", metrics_enabled=False, sink=Sink(stream)).count_cold_start("restore")
    (document,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert document["ColdStart"] in (1.0, [1.0])
    assert document["init_type"] == "restore"
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert ["init_type", "service"] in [sorted(d) for d in directive["Dimensions"]]


def test_access_line_says_which_kind_of_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    cold = RequestState(request_id="r-1", method="GET", route="/health", user_id=None, cold_start=True)
    warm = RequestState(request_id="r-2", method="GET", route="/health", user_id=None, cold_start=False)
    assert access_fields(cold, 200, 1.0, [])["init_type"] == "restore"
    assert access_fields(warm, 200, 1.0, [])["init_type"] is None
