"""CloudWatch embedded metric format (EMF) documents, written directly.

The document is exactly what Powertools' EMF provider serialises for the same metrics
(a unit test holds the two equal), without its per-call work: building the provider,
validating names and units that are constants here, and formatting debug messages
eagerly cost ~0.3 ms per request; this costs a few µs.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring_ascii


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


_COMPACT = json.JSONEncoder(separators=(",", ":"))
_string = encode_basestring_ascii  # how that encoder writes a str (ensure_ascii)


def emf_line(
    namespace: str,
    dimensions: Mapping[str, str],
    metrics: Sequence[tuple[str, str, float]],
    timestamp_ms: int | None = None,
) -> str:
    """`json.dumps(emf_document(...), separators=(",", ":"))`, the same text, written from
    a template per metric set: a few µs less a request (a unit test holds the two equal)."""
    timestamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    names = tuple(dimensions)
    tail = _aws_tail(namespace, names, tuple((name, unit) for name, unit, _ in metrics))
    if tail is None or type(timestamp) is not int or any(type(dimensions[n]) is not str for n in names):
        return _COMPACT.encode(emf_document(namespace, dimensions, metrics, timestamp))
    parts = ['{"_aws":{"Timestamp":', int.__repr__(timestamp), tail]
    parts.extend(f",{_string(name)}:{_string(dimensions[name])}" for name in names)
    parts.extend(f",{_string(name)}:[{_number(float(value))}]" for name, _, value in metrics)
    parts.append("}")
    return "".join(parts)


@functools.lru_cache(maxsize=64)
def _aws_tail(namespace: str, names: tuple[str, ...], specs: tuple[tuple[str, str], ...]) -> str | None:
    """The "_aws" object after its timestamp, or None when the document would not be one
    key per name (a metric named like a dimension, twice, or "_aws": the dict keeps one)."""
    keys = ["_aws", *names, *(name for name, _ in specs)]
    if len(set(keys)) != len(keys) or not all(type(key) is str for key in keys):
        return None
    metrics = [{"Name": name, "Unit": unit} for name, unit in specs]
    blocks = [{"Namespace": namespace, "Dimensions": [list(names)], "Metrics": metrics}]
    return f',"CloudWatchMetrics":{_COMPACT.encode(blocks)}}}'


def _number(value: float) -> str:
    """A float as json writes it (allow_nan: NaN, Infinity, -Infinity)."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
