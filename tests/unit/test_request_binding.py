"""chalice keeps `current_request` in one attribute of the app, shared by every thread; under
`chalice local` (threaded) a view could read another request's body and claims. ApiBlueprint
reads the request the middleware bound to this thread instead."""

from __future__ import annotations

import json
import threading

from chalice.app import Chalice
from chalice.test import Client

from chalicelib.api.http import ApiBlueprint
from chalicelib.api.middleware import handle_http


def make_app() -> tuple[Chalice, threading.Event, threading.Event]:
    app = Chalice(app_name="binding")
    bp = ApiBlueprint(__name__)
    entered, release = threading.Event(), threading.Event()

    @bp.route("/echo", methods=["POST"])
    def echo() -> dict[str, str]:
        if bp.current_request.headers.get("x-wait") == "yes":
            entered.set()
            assert release.wait(10)
        body: dict[str, str] = json.loads(bp.current_request.raw_body)
        return body

    app.register_middleware(handle_http, "http")
    app.register_blueprint(bp)
    return app, entered, release


def test_a_view_reads_its_own_request_while_another_is_served() -> None:
    app, entered, release = make_app()
    results: dict[str, object] = {}
    with Client(app, stage_name="test") as client:  # "dev" would cache dev settings (SSM key)

        def slow() -> None:
            response = client.http.post(
                "/echo",
                body=b'{"who": "first"}',
                headers={"Content-Type": "application/json", "X-Wait": "yes"},
            )
            results["first"] = json.loads(response.body)

        worker = threading.Thread(target=slow)
        worker.start()
        assert entered.wait(10)
        # While the first view is paused, a second request replaces chalice's shared attribute.
        second = client.http.post(
            "/echo", body=b'{"who": "second"}', headers={"Content-Type": "application/json"}
        )
        release.set()
        worker.join(10)
    assert json.loads(second.body) == {"who": "second"}
    assert results["first"] == {"who": "first"}
