"""A container's first request runs with the cyclic garbage collector paused (it builds only
what the container keeps), and collection resumes after it (api/middleware.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from chalice.app import Response

from chalicelib.api.middleware import without_collection


@pytest.fixture
def collecting() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_paused_during_the_request_and_resumes_after(collecting: None) -> None:
    seen: list[bool] = []

    def serve() -> Response:
        seen.append(gc.isenabled())
        return Response(body="", status_code=204)

    assert without_collection(serve).status_code == 204
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_the_request_raises(collecting: None) -> None:
    def serve() -> Response:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        without_collection(serve)
    assert gc.isenabled()


def test_a_collector_paused_by_the_host_stays_paused(collecting: None) -> None:
    gc.disable()
    without_collection(lambda: Response(body="", status_code=204))
    assert not gc.isenabled()
