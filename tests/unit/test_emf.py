"""EMF documents are exactly what Powertools' EMF provider writes for the same metrics."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Sequence

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib.observability import Observer, Sink
from chalicelib.observability.metrics import emf_document, emf_line, request_line


def _powertools(dimensions: dict[str, str], metrics: Sequence[tuple[str, str, float]]) -> dict[str, object]:
    provider = AmazonCloudWatchEMFProvider(namespace="Shop", service="storefront")
    provider.timestamp = 1_700_000_000_000
    for name, value in dimensions.items():
        provider.add_dimension(name, value)
    for name, unit, amount in metrics:
        provider.add_metric(name, unit, amount)
    return dict(provider.serialize_metric_set())


def test_a_request_document_is_the_one_powertools_writes() -> None:
    metrics = [("Requests", "Count", 1), ("Latency", "Milliseconds", 12.34), ("ServerErrors", "Count", 0)]
    dimensions = {"route": "GET /products/{product_id}", "status_class": "2xx"}
    ours = emf_document("Shop", {**dimensions, "service": "storefront"}, metrics, 1_700_000_000_000)
    expected = _powertools(dimensions, metrics)
    assert json.dumps(ours) == json.dumps(expected)  # same keys, values and order


def test_a_business_event_document_is_the_one_powertools_writes() -> None:
    metrics = [("OrderPlaced", "Count", 2), ("ProductCreated", "Count", 1)]
    ours = emf_document("Shop", {"service": "storefront"}, metrics, 1_700_000_000_000)
    assert json.dumps(ours) == json.dumps(_powertools({}, metrics))


def test_the_observer_writes_one_compact_line_per_document() -> None:
    stream = io.StringIO()
    observer = Observer(service="storefront", metrics_enabled=True, namespace="Shop", sink=Sink(stream))
    observer.report_request(
        logging.INFO, {"status": 503}, "GET /health", 503, 1.5, None, ["order_placed"] * 2
    )
    _, request, events = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (request["status_class"], request["ServerErrors"], request["Latency"]) == ("5xx", [1.0], [1.5])
    assert events["OrderPlaced"] == [2.0]
    assert ", " not in stream.getvalue()
    assert '": ' not in stream.getvalue()


def test_a_cold_start_document_is_the_one_powertools_writes() -> None:
    ours = emf_document(
        "Shop",
        {"init_type": "snap-start", "service": "storefront"},
        [("ColdStart", "Count", 1)],
        1_700_000_000_000,
    )
    assert json.dumps(ours) == json.dumps(
        _powertools({"init_type": "snap-start"}, [("ColdStart", "Count", 1)])
    )


_names = st.sampled_from(["_aws", "route", "service", "Requests", "é", 'a"b']) | st.text(max_size=8)
_values = st.one_of(
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**9, min_value=-(10**9)),
)


@given(
    namespace=st.text(max_size=10),
    dimensions=st.dictionaries(_names, st.text(max_size=10), max_size=4),
    metrics=st.lists(st.tuples(_names, st.sampled_from(["Count", "Milliseconds"]), _values), max_size=4),
    timestamp=st.integers(min_value=0, max_value=2**50),
)
@example("Shop", {"service": "storefront"}, [("service", "Count", 1)], 1)  # a metric named as a dimension
@example("Shop", {}, [("Requests", "Count", 1), ("Requests", "Count", 2)], 1)  # one metric twice
@example("Shop", {"_aws": "x"}, [], 1)
@example(
    "Shop", {}, [("a", "Count", float("nan")), ("b", "Count", float("inf")), ("c", "Count", -float("inf"))], 1
)
def test_a_line_is_the_document_as_compact_json(
    namespace: str,
    dimensions: dict[str, str],
    metrics: list[tuple[str, str, float]],
    timestamp: int,
) -> None:
    # The line is written from a kept frame; the document is the reference.
    expected = json.dumps(emf_document(namespace, dimensions, metrics, timestamp), separators=(",", ":"))
    assert emf_line(namespace, dimensions, metrics, timestamp) == expected
    assert emf_line(namespace, dimensions, metrics, timestamp) == expected  # the frame kept


def test_a_line_without_a_timestamp_is_stamped_now() -> None:
    before = int(time.time() * 1000)
    line = emf_line("Shop", {"service": "storefront"}, [("Requests", "Count", 1)])
    after = int(time.time() * 1000)
    document = json.loads(line)
    assert before <= document["_aws"]["Timestamp"] <= after
    assert document["Requests"] == [1.0]


@given(
    namespace=st.text(max_size=10),
    route=st.text(max_size=12),
    status=st.integers(100, 599),
    service=st.text(max_size=10),
    duration=st.floats() | st.integers(0, 10**6),
    timestamp=st.integers(min_value=0, max_value=2**50),
)
@example("Shop", "GET /x", 200, "storefront", float("nan"), 1)
@example("Shop", "GET /x", 503, "storefront", float("inf"), 1)
def test_a_request_line_is_its_documents_line(
    namespace: str, route: str, status: int, service: str, duration: float, timestamp: int
) -> None:
    # The request document's text around its latency is kept per route and status class.
    status_class = f"{status // 100}xx"
    dimensions = {"route": route, "status_class": status_class, "service": service}
    values = [
        ("Requests", "Count", 1),
        ("Latency", "Milliseconds", duration),
        ("ServerErrors", "Count", int(status >= 500)),
    ]
    expected = emf_line(namespace, dimensions, values, timestamp)
    assert (
        request_line(namespace, route, status_class, service, duration, status >= 500, timestamp) == expected
    )
    assert (
        request_line(namespace, route, status_class, service, duration, status >= 500, timestamp) == expected
    )


def test_the_observer_writes_a_request_line_stamped_now() -> None:
    stream = io.StringIO()
    observer = Observer(service="storefront", metrics_enabled=True, namespace="Shop", sink=Sink(stream))
    before = int(time.time() * 1000)
    observer.report_request(logging.INFO, {"status": 200}, "GET /products/{product_id}", 200, 2.5, None, [])
    after = int(time.time() * 1000)
    line, text = stream.getvalue().splitlines()
    document = json.loads(text)
    assert before <= document["_aws"]["Timestamp"] <= after
    stamp = document["_aws"]["Timestamp"]
    dimensions = {"route": "GET /products/{product_id}", "status_class": "2xx", "service": "storefront"}
    values = [("Requests", "Count", 1), ("Latency", "Milliseconds", 2.5), ("ServerErrors", "Count", 0)]
    assert text == emf_line("Shop", dimensions, values, stamp)
    assert json.loads(line)["message"] == "request"
