"""CloudWatch embedded metric format (EMF) documents, written directly.

The document is exactly what Powertools' EMF provider serialises for the same metrics
(a unit test holds the two equal), without its per-call work: building the provider,
validating names and units that are constants here, and formatting debug messages
eagerly cost ~0.3 ms per request; this costs a few µs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence

from chalicelib import jsonio


def emf_document(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Sequence[tuple[str, str, float]],
    timestamp_ms: int | None = None,
) -> dict[str, object]:
    """One EMF document: `metrics` are (name, unit, value); `dimensions` name → value."""
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in metrics],
                }
            ],
        },
        **dimensions,
    }
    for name, _, value in metrics:
        document[name] = [float(value)]
    return document


# What json.dumps(document, separators=(",", ":")) writes, with one encoder for every document.
_encode = jsonio.encoder(ensure_ascii=True)
_FRAMES_KEPT = 256  # routes x status classes, cold start kinds, event sets: a few dozen in use


def emf_line(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Sequence[tuple[str, str, float]],
    timestamp_ms: int | None = None,
) -> str:
    """The EMF document as one compact JSON line (`json.dumps(emf_document(...),
    separators=(",", ":"))`'s text).

    Only the timestamp and the values change from one request to the next: the rest of the
    text (namespace, dimensions, metric names and units) is written once per set of them
    and kept (_frame), and each value is written as the encoder writes a float (~3 µs
    against ~7 µs; tests/unit/test_emf.py holds the text to the document's for any names
    and values)."""
    frame = _frame(namespace, tuple(dimensions.items()), tuple((name, unit) for name, unit, _ in metrics))
    if frame is None:  # a key written twice: the document's dict decides which value stays
        return _encode(emf_document(namespace, dimensions, metrics, timestamp_ms))
    head, keys = frame
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    stamp = int.__repr__(timestamp) if type(timestamp) is int else _encode(timestamp)
    values = "".join(
        [key + _float_text(float(value)) + "]" for key, (_, _, value) in zip(keys, metrics, strict=True)]
    )
    return '{"_aws":{"Timestamp":' + stamp + head + values + "}"


_INFINITY = float("inf")


def _float_text(value: float) -> str:
    """What the encoder writes for a float (json.encoder's floatstr, with allow_nan)."""
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


@functools.lru_cache(maxsize=_FRAMES_KEPT)
def _frame(
    namespace: str, dimensions: tuple[tuple[str, str], ...], metrics: tuple[tuple[str, str], ...]
) -> tuple[str, tuple[str, ...]] | None:
    """A document's constant text: from after the timestamp to the last dimension, and each
    metric's key up to its value; None when a key repeats ("_aws", a dimension, a metric)."""
    keys = ["_aws", *(name for name, _ in dimensions), *(name for name, _ in metrics)]
    if len(set(keys)) != len(keys):
        return None
    document = emf_document(namespace, dict(dimensions), [(name, unit, 0) for name, unit in metrics], 0)
    aws = _encode(document["_aws"])  # {"Timestamp":0,"CloudWatchMetrics":[...]}
    head = aws[len('{"Timestamp":0') :] + "".join(
        "," + _encode(name) + ":" + _encode(value) for name, value in dimensions
    )
    return head, tuple("," + _encode(name) + ":[" for name, _ in metrics)


# The three metrics of every request's document (Observer.report_request), in its order.
REQUEST_METRICS = (("Requests", "Count"), ("Latency", "Milliseconds"), ("ServerErrors", "Count"))


@functools.lru_cache(maxsize=_FRAMES_KEPT)
def _request_frame(namespace: str, route: str, status_class: str, service: str) -> tuple[str, str]:
    """A request document's constant text around its latency (its keys never repeat)."""
    dimensions = (("route", route), ("status_class", status_class), ("service", service))
    frame = _frame(namespace, dimensions, REQUEST_METRICS)
    assert frame is not None  # the keys above are distinct: _frame never refuses them
    head, (requests, latency, errors) = frame
    return head + requests + "1.0]" + latency, "]" + errors


def request_line(
    namespace: str,
    route: str,
    status_class: str,
    service: str,
    duration_ms: float,
    server_error: bool,
    timestamp_ms: int | None = None,
) -> str:
    """`emf_line(namespace, {"route", "status_class", "service"}, [Requests 1, Latency
    duration_ms, ServerErrors 1 or 0], timestamp_ms)`, with its text around the latency
    kept per route and status class: every request writes one, after DynamoDB answered
    (tests/unit/test_emf.py holds the two equal)."""
    before, after = _request_frame(namespace, route, status_class, service)
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    latency = _float_text(float(duration_ms))
    errors = "1.0]}" if server_error else "0.0]}"
    return '{"_aws":{"Timestamp":' + int.__repr__(timestamp) + before + latency + after + errors
