"""Breaking changes between two OpenAPI 3.1 documents (pure: dicts in, messages out).

A change breaks a client that was written against the old document when it
- removes a path, an operation, a response status, or a response media type;
- removes a response property, or makes a response property optional;
- removes an enum (or const) value, in a request or a response;
- adds a required request field: a body property, a parameter, or a body where none was;
- removes a request body property or a parameter (this API answers unknown ones with 400);
- narrows a request type (fewer JSON types, a smaller maximum, a larger minimum …) or
  widens a response type (a client's parser meets a type it never saw).
Adding routes, operations, optional request fields and response properties is not breaking.
"""

from __future__ import annotations

import re
from typing import Any

Schema = dict[str, Any]
_UNIONS = ("anyOf", "oneOf")
# Request constraints that refuse more input when they grow (minimum) or shrink (maximum).
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


class _Walk:
    """Two documents compared side by side; `found` collects the breaking changes."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        self.found: list[str] = []
        self._seen: set[tuple[int, int, bool]] = set()

    def _resolve(self, doc: dict[str, Any], schema: Schema) -> Schema:
        while isinstance(schema, dict) and "$ref" in schema:
            target: Any = doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            schema = target
        return schema

    def _types(self, doc: dict[str, Any], schema: Schema) -> set[str] | None:
        """The JSON types a schema admits (None: any); integer counts as a number."""
        schema = self._resolve(doc, schema)
        if any(key in schema for key in _UNIONS):
            out: set[str] = set()
            for branch in (b for key in _UNIONS for b in schema.get(key, [])):
                types = self._types(doc, branch)
                if types is None:
                    return None
                out |= types
            return out
        if "type" in schema:
            declared = schema["type"]
            types = set(declared if isinstance(declared, list) else [declared])
        elif "properties" in schema:
            types = {"object"}
        elif "const" in schema or "enum" in schema:
            values = [schema["const"]] if "const" in schema else schema["enum"]
            types = {_json_type(v) for v in values}
        else:
            return None
        return types | ({"integer"} if "number" in types else set())

    def _values(self, doc: dict[str, Any], schema: Schema) -> list[Any] | None:
        """The enum/const values a schema admits (None: not an enumeration)."""
        schema = self._resolve(doc, schema)
        if "const" in schema:
            return [schema["const"]]
        if "enum" in schema:
            return list(schema["enum"])
        branches = [b for key in _UNIONS for b in schema.get(key, [])]
        if not branches:
            return None
        values: list[Any] = []
        for branch in branches:
            branch_values = self._values(doc, branch)
            if branch_values is None:
                if self._types(doc, branch) != {"null"}:
                    return None
                branch_values = [None]
            values += branch_values
        return values

    def _object_branch(self, doc: dict[str, Any], schema: Schema) -> Schema:
        """The one non-null branch of a nullable union (`X | None`), else the schema itself."""
        schema = self._resolve(doc, schema)
        branches = [b for key in _UNIONS for b in schema.get(key, [])]
        real = [b for b in branches if self._types(doc, b) != {"null"}]
        return self._resolve(doc, real[0]) if len(real) == 1 else schema

    def schema(self, old: Schema, new: Schema, where: str, request: bool) -> None:
        """Compare one schema; `request` says which direction narrows and which widens."""
        # Each pair of (resolved) schemas is compared once: recursive models end, and a
        # shared model (ErrorBody) reports a change once, at the first place it is met.
        key = (id(self._resolve(self.old, old)), id(self._resolve(self.new, new)), request)
        if key in self._seen:
            return
        self._seen.add(key)
        old_types, new_types = self._types(self.old, old), self._types(self.new, new)
        if request and new_types is not None and (old_types is None or not old_types <= new_types):
            self.found.append(f"{where}: request type narrowed from {_show(old_types)} to {_show(new_types)}")
        if not request and old_types is not None and (new_types is None or not new_types <= old_types):
            self.found.append(f"{where}: response type widened from {_show(old_types)} to {_show(new_types)}")
        old_values, new_values = self._values(self.old, old), self._values(self.new, new)
        if old_values is not None and new_values is not None:
            for value in old_values:
                if value not in new_values:
                    self.found.append(f"{where}: enum value {value!r} removed")
        old_s, new_s = self._object_branch(self.old, old), self._object_branch(self.new, new)
        if request:
            self._bounds(old_s, new_s, where)
        self._properties(old_s, new_s, where, request)
        if "items" in old_s and "items" in new_s:
            self.schema(old_s["items"], new_s["items"], f"{where}[]", request)

    def _bounds(self, old: Schema, new: Schema, where: str) -> None:
        for name in _LOWER_BOUNDS:
            if name in new and (name not in old or new[name] > old[name]):
                self.found.append(f"{where}: {name} raised to {new[name]}")
        for name in _UPPER_BOUNDS:
            if name in new and (name not in old or new[name] < old[name]):
                self.found.append(f"{where}: {name} lowered to {new[name]}")
        if "pattern" in new and new.get("pattern") != old.get("pattern"):
            self.found.append(f"{where}: pattern changed to {new['pattern']!r}")

    def _properties(self, old: Schema, new: Schema, where: str, request: bool) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(set(old_props) - set(new_props)):
            kind = "request field" if request else "response property"
            self.found.append(f"{where}: {kind} {name!r} removed")
        for name in sorted(set(new_props) & set(old_props)):
            self.schema(old_props[name], new_props[name], f"{where}.{name}", request)
        if request:
            for name in sorted(new_req - old_req):
                self.found.append(f"{where}: new required request field {name!r}")
        else:
            for name in sorted((old_req - new_req) & set(new_props)):
                self.found.append(f"{where}: response property {name!r} no longer required")

    def operation(self, old: dict[str, Any], new: dict[str, Any], where: str) -> None:
        self._parameters(old.get("parameters", []), new.get("parameters", []), where)
        self._request_body(old.get("requestBody"), new.get("requestBody"), where)
        for status, old_response in old.get("responses", {}).items():
            new_response = new.get("responses", {}).get(status)
            if new_response is None:
                self.found.append(f"{where}: response {status} removed")
                continue
            for media, old_content in old_response.get("content", {}).items():
                new_content = new_response.get("content", {}).get(media)
                if new_content is None:
                    self.found.append(f"{where}: response {status} no longer {media}")
                else:
                    self.schema(old_content["schema"], new_content["schema"], f"{where} {status}", False)

    def _parameters(self, old: list[Schema], new: list[Schema], where: str) -> None:
        old_by = {(p["in"], p["name"]): p for p in (self._resolve(self.old, p) for p in old)}
        new_by = {(p["in"], p["name"]): p for p in (self._resolve(self.new, p) for p in new)}
        for place, name in sorted(set(old_by) - set(new_by)):
            self.found.append(f"{where}: {place} parameter {name!r} removed")
        for key, param in sorted(new_by.items()):
            label = f"{where} {key[0]} parameter {key[1]!r}"
            if key not in old_by:
                if param.get("required"):
                    self.found.append(f"{label}: new and required")
                continue
            if param.get("required") and not old_by[key].get("required"):
                self.found.append(f"{label}: now required")
            self.schema(old_by[key].get("schema", {}), param.get("schema", {}), label, True)

    def _request_body(self, old: Schema | None, new: Schema | None, where: str) -> None:
        if new is None:
            return
        if old is None:
            if new.get("required"):
                self.found.append(f"{where}: new required request body")
            return
        if new.get("required") and not old.get("required"):
            self.found.append(f"{where}: request body now required")
        for media, old_content in old.get("content", {}).items():
            new_content = new.get("content", {}).get(media)
            if new_content is None:
                self.found.append(f"{where}: request body no longer accepts {media}")
            else:
                self.schema(old_content["schema"], new_content["schema"], f"{where} body", True)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), "string")


def _show(types: set[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types - {"integer"} if "number" in types else types))


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Every change from `old` to `new` that can break a client of `old` (empty: compatible)."""
    walk = _Walk(old, new)
    for path, old_ops in old.get("paths", {}).items():
        new_ops = new.get("paths", {}).get(path, {})
        for method, old_op in old_ops.items():
            if method not in new_ops:
                walk.found.append(f"{method.upper()} {path}: operation removed")
            else:
                walk.operation(old_op, new_ops[method], f"{method.upper()} {path}")
    return walk.found


def version_key(version: str) -> tuple[int, ...]:
    """`1.2.3` → (1, 2, 3), for ordering release numbers."""
    if not re.fullmatch(r"\d+(\.\d+)*", version):
        raise ValueError(f"not a release number: {version!r}")
    return tuple(int(part) for part in version.split("."))


def changelog_section(changelog: str, version: str) -> str | None:
    """The text under `## <version>` (or `## [<version>]`) in a changelog, None if absent."""
    heading = re.compile(rf"^##\s+\[?{re.escape(version)}\]?(\s|$)", re.MULTILINE)
    match = heading.search(changelog)
    if match is None:
        return None
    following = re.search(r"^##\s", changelog[match.end() :], re.MULTILINE)
    return changelog[match.end() : match.end() + following.start() if following else None]


def release_problems(old: dict[str, Any], new: dict[str, Any], changelog: str) -> list[str]:
    """Why `new` may not replace the released `old` (empty: it may).

    A breaking change needs a higher version in the new document and a `## <version>`
    section in CHANGELOG.md that says what breaks (a line with "breaking").
    """
    changes = breaking_changes(old, new)
    if not changes:
        return []
    old_version, new_version = old["info"]["version"], new["info"]["version"]
    problems = [f"breaking: {change}" for change in changes]
    if version_key(new_version) <= version_key(old_version):
        return [*problems, f"bump the version (now {new_version}, released {old_version})"]
    section = changelog_section(changelog, new_version)
    if section is None or "breaking" not in section.lower():
        return [*problems, f"record the breaking changes in CHANGELOG.md under '## {new_version}'"]
    return []
