"""Observability is best effort: a broken tracer or metrics emitter never fails a request."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from chalice.test import Client

from chalicelib import observability
from chalicelib.observability import Observer, Sink, Span


class ExplodingSpan:
    def annotate(self, key: str, value: str | int | bool | None) -> None:
        raise RuntimeError("tracing backend down")

    def finish(self, status: int | None, exception: BaseException | None = None) -> None:
        raise RuntimeError("tracing backend down")


class BrokenObserver(Observer):
    """Every tracing and metrics call fails."""

    def span(self, name: str) -> AbstractContextManager[Span]:
        @contextmanager
        def broken() -> Iterator[Span]:
            yield ExplodingSpan()

        return broken()

    def count_request(self, route: str, status: int, duration_ms: float) -> None:
        raise RuntimeError("metrics backend down")


def test_a_failing_tracer_and_metrics_do_not_fail_the_request(client: Client) -> None:
    stream = io.StringIO()
    observability.install(BrokenObserver(service="storefront", metrics_enabled=True, sink=Sink(stream)))
    try:
        response = client.http.get("/health")
    finally:
        observability.install(None)
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
    assert '"message":"trace annotation failed"' in stream.getvalue()
