"""emf_line writes exactly the text json.dumps(emf_document(...)) writes (the compact
separators the Observer uses), for the documents the app makes and for the edge cases
where a template would go wrong."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import pytest

from chalicelib.observability.metrics import _aws_tail, emf_document, emf_line

REQUEST = [("Requests", "Count", 1), ("Latency", "Milliseconds", 12.345678), ("ServerErrors", "Count", 0)]


def _expected(
    namespace: str, dimensions: dict[str, str], metrics: Sequence[tuple[str, str, float]], at: int | None
) -> str:
    return json.dumps(emf_document(namespace, dimensions, metrics, at), separators=(",", ":"))


@pytest.mark.parametrize(
    ("namespace", "dimensions", "metrics"),
    [
        (
            "Storefront",
            {"route": "GET /products/{product_id}", "status_class": "2xx", "service": "s"},
            REQUEST,
        ),
        ("Storefront", {"init_type": "on-demand", "service": "s"}, [("ColdStart", "Count", 1)]),
        ("Storefront", {"service": "s"}, [("OrderPlaced", "Count", 2), ("ProductCreated", "Count", 1)]),
        ('Shöp "quoted"', {"route": 'GET /é/"x"\\\n\u2028'}, [("Latency", "Milliseconds", 1e-7)]),
        (
            "Shop",
            {"route": "-"},
            [("A", "Count", math.nan), ("B", "Count", math.inf), ("C", "Count", -math.inf)],
        ),
        ("Shop", {"route": "-"}, [("Big", "Count", 10**20), ("Neg", "Count", -0.0), ("Bool", "Count", True)]),
        ("Shop", {}, [("Requests", "Count", 1)]),
        ("Shop", {"route": "-"}, []),
        # Keys that collide: the dict keeps one of each, where it first appeared.
        ("Shop", {"Requests": "x"}, [("Requests", "Count", 1)]),
        ("Shop", {"route": "-"}, [("Requests", "Count", 1), ("Requests", "Count", 2)]),
        ("Shop", {"_aws": "x"}, [("Requests", "Count", 1)]),
        ("Shop", {"route": "-"}, [("_aws", "Count", 1)]),
    ],
)
def test_the_line_is_the_documents_compact_json(
    namespace: str, dimensions: dict[str, str], metrics: list[tuple[str, str, float]]
) -> None:
    for at in (1_700_000_000_000, 0):
        assert emf_line(namespace, dimensions, metrics, at) == _expected(namespace, dimensions, metrics, at)


def test_the_current_time_is_stamped_in_milliseconds() -> None:
    line = json.loads(emf_line("Shop", {"service": "s"}, REQUEST))
    assert isinstance(line["_aws"]["Timestamp"], int)
    assert line["_aws"]["Timestamp"] > 1_700_000_000_000


def test_values_that_are_not_plain_strings_or_ints_take_the_documents_path() -> None:
    class Route(str):
        def __repr__(self) -> str:
            return "Route()"

    dimensions: dict[str, str] = {"route": Route("GET /x")}
    assert emf_line("Shop", dimensions, REQUEST, 5) == _expected("Shop", dimensions, REQUEST, 5)
    stamp: object = 1.5  # not an int: written as json writes it
    line = emf_line("Shop", {"route": "-"}, REQUEST, stamp)  # type: ignore[arg-type]
    assert line == _expected("Shop", {"route": "-"}, REQUEST, stamp)  # type: ignore[arg-type]
    assert _aws_tail("Shop", ("a", "a"), ()) is None
