"""The one expression builder: conditions and updates with generated placeholders.

Stores describe what must hold and what changes; this module writes the DynamoDB
expression text and its `#n`/`:v` placeholders, so no store concatenates strings:

    condition = exists() & eq("owner_id", caller_id)
    update = Update().set("name", "Mug").increment("version")
    params = render(update=update, condition=condition)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store.codec import to_attributes


@dataclass
class Placeholders:
    """Collects the names and values an expression refers to, each under a fresh placeholder."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        """`#nK` for an attribute name (reused when the same name appears twice)."""
        for placeholder, known in self.names.items():
            if known == attribute:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        """`:vK` for a value (a new placeholder every time)."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = value
        return placeholder


Renderer = Callable[[Placeholders], str]


@dataclass(frozen=True)
class Condition:
    """A condition expression, rendered on demand; combine with `&` and `|`."""

    render: Renderer

    def __and__(self, other: Condition) -> Condition:
        return Condition(lambda p: f"({self.render(p)} AND {other.render(p)})")

    def __or__(self, other: Condition) -> Condition:
        return Condition(lambda p: f"({self.render(p)} OR {other.render(p)})")


def exists(attribute: str = "pk") -> Condition:
    """The item exists (its partition key attribute is there)."""
    return Condition(lambda p: f"attribute_exists({p.name(attribute)})")


def not_exists(attribute: str = "pk") -> Condition:
    """The item (or the attribute) is absent."""
    return Condition(lambda p: f"attribute_not_exists({p.name(attribute)})")


def _compare(operator: str, attribute: str, value: Any) -> Condition:
    return Condition(lambda p: f"{p.name(attribute)} {operator} {p.value(value)}")


def eq(attribute: str, value: Any) -> Condition:
    """attribute = value."""
    return _compare("=", attribute, value)


def ne(attribute: str, value: Any) -> Condition:
    """attribute <> value (false when the attribute is absent: pair it with not_exists)."""
    return _compare("<>", attribute, value)


def lt(attribute: str, value: Any) -> Condition:
    """attribute < value."""
    return _compare("<", attribute, value)


def le(attribute: str, value: Any) -> Condition:
    """attribute <= value."""
    return _compare("<=", attribute, value)


def gt(attribute: str, value: Any) -> Condition:
    """attribute > value."""
    return _compare(">", attribute, value)


def ge(attribute: str, value: Any) -> Condition:
    """attribute >= value."""
    return _compare(">=", attribute, value)


def is_type(attribute: str, kind: str) -> Condition:
    """attribute_type(attribute, kind): the attribute holds that DynamoDB type ("L", "SS", ...)."""
    return Condition(lambda p: f"attribute_type({p.name(attribute)}, {p.value(kind)})")


def size_lt(attribute: str, value: int) -> Condition:
    """size(attribute) < value: fewer elements (a list, set or map) or bytes (a string)."""
    return Condition(lambda p: f"size({p.name(attribute)}) < {p.value(value)}")


def is_in(attribute: str, values: Iterable[Any]) -> Condition:
    """attribute IN (values...); at least one value is required."""
    members = list(values)
    if not members:
        raise ValueError("is_in needs at least one value")
    return Condition(lambda p: f"{p.name(attribute)} IN ({', '.join(p.value(v) for v in members)})")


def key_range(
    partition_attribute: str, partition: str, sort_attribute: str, after: str | None, upto: str | None
) -> Condition:
    """A key condition: one partition, sort key > `after` and <= `upto` (either may be None).

    Rendered without the parentheses `&` adds, which a KeyConditionExpression does not take.
    """

    def rendered(p: Placeholders) -> str:
        parts = [f"{p.name(partition_attribute)} = {p.value(partition)}"]
        sort = p.name(sort_attribute) if after is not None or upto is not None else ""
        if after is not None and upto is not None:
            # BETWEEN is inclusive: `after` itself is excluded by the caller's strict check.
            parts.append(f"{sort} BETWEEN {p.value(after)} AND {p.value(upto)}")
        elif after is not None:
            parts.append(f"{sort} > {p.value(after)}")
        elif upto is not None:
            parts.append(f"{sort} <= {p.value(upto)}")
        return " AND ".join(parts)

    return Condition(rendered)


def key_prefix(partition_attribute: str, partition: str, sort_attribute: str, prefix: str) -> Condition:
    """A key condition: one partition, sort keys that start with `prefix` (no parentheses)."""
    return Condition(
        lambda p: (
            f"{p.name(partition_attribute)} = {p.value(partition)}"
            f" AND begins_with({p.name(sort_attribute)}, {p.value(prefix)})"
        )
    )


def all_of(conditions: Iterable[Condition]) -> Condition:
    """Every condition holds (at least one condition is required)."""
    items = list(conditions)
    result = items[0]
    for condition in items[1:]:
        result = result & condition
    return result


@dataclass(frozen=True)
class Update:
    """An update expression: SET and ADD clauses, built by chaining (immutable)."""

    sets: tuple[Renderer, ...] = ()
    adds: tuple[Renderer, ...] = ()

    def set(self, attribute: str, value: Any) -> Update:
        """SET attribute = value."""
        return Update((*self.sets, lambda p: f"{p.name(attribute)} = {p.value(value)}"), self.adds)

    def set_all(self, values: Mapping[str, Any]) -> Update:
        """SET each attribute (in sorted order, so the expression is stable)."""
        update = self
        for attribute in sorted(values):
            update = update.set(attribute, values[attribute])
        return update

    def set_if_absent(self, attribute: str, value: Any) -> Update:
        """SET attribute = if_not_exists(attribute, value)."""
        return Update(
            (
                *self.sets,
                lambda p: f"{p.name(attribute)} = if_not_exists({p.name(attribute)}, {p.value(value)})",
            ),
            self.adds,
        )

    def increment(self, attribute: str, by: int | Any = 1) -> Update:
        """SET attribute = attribute + by (the attribute must exist)."""
        return Update(
            (*self.sets, lambda p: f"{p.name(attribute)} = {p.name(attribute)} + {p.value(by)}"), self.adds
        )

    def append(self, attribute: str, values: list[Any]) -> Update:
        """SET attribute = list_append(attribute or [], values): a list grows in the same write."""
        return Update(
            (
                *self.sets,
                lambda p: (
                    f"{p.name(attribute)} = list_append("
                    f"if_not_exists({p.name(attribute)}, {p.value([])}), {p.value(values)})"
                ),
            ),
            self.adds,
        )

    def add(self, attribute: str, value: Any) -> Update:
        """ADD attribute value (a missing number attribute counts from 0)."""
        return Update(self.sets, (*self.adds, lambda p: f"{p.name(attribute)} {p.value(value)}"))

    def render(self, p: Placeholders) -> str:
        """The UpdateExpression text."""
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(r(p) for r in self.sets))
        if self.adds:
            clauses.append("ADD " + ", ".join(r(p) for r in self.adds))
        return " ".join(clauses)


def render(
    *,
    update: Update | None = None,
    condition: Condition | None = None,
    key_condition: Condition | None = None,
) -> dict[str, Any]:
    """The request parameters for these expressions (values already in wire format)."""
    p = Placeholders()
    params: dict[str, Any] = {}
    if key_condition is not None:
        params["KeyConditionExpression"] = key_condition.render(p)
    if update is not None:
        params["UpdateExpression"] = update.render(p)
    if condition is not None:
        params["ConditionExpression"] = condition.render(p)
    if p.names:
        params["ExpressionAttributeNames"] = p.names
    if p.values:
        params["ExpressionAttributeValues"] = to_attributes(p.values)
    return params
