"""Business events are collected per request and handed over once."""

from __future__ import annotations

from chalicelib.observability import business_event, take_business_events


def test_events_are_taken_once_in_order() -> None:
    take_business_events()
    business_event("user_registered")
    business_event("product_created")
    assert take_business_events() == ["user_registered", "product_created"]
    assert take_business_events() == []
