"""Request parsing and response shaping shared by every blueprint."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from chalice.app import Blueprint, Chalice, ChaliceUnhandledError, Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api import routes
from chalicelib.errors import InvalidJsonError, ValidationFailedError
from chalicelib.jsonio import DuplicateKeyError, JsonText, dumps, loads

M = TypeVar("M", bound=BaseModel)
JSON_HEADERS = {"Content-Type": "application/json"}

# chalice keeps the current request in ONE attribute of the app, shared by every thread:
# under `chalice local` (a threaded server) two concurrent requests could read each
# other's body and claims. The middleware binds each request here, per thread/context.
_request: ContextVar[Request | None] = ContextVar("storefront_chalice_request", default=None)


def bind_request(request: Request | None) -> None:
    """Make `request` the current request of this thread (the middleware calls it)."""
    _request.set(request)


class ApiBlueprint(Blueprint):
    """A Blueprint whose views let domain errors reach the middleware.

    Chalice turns any exception a view raises into its own 500 before middleware sees
    it, except ChaliceUnhandledError; each view is wrapped so its exception travels as
    the cause of one, and the middleware maps it (api/errors.py).
    """

    def __init__(self, import_name: str, tag: str = "") -> None:
        super().__init__(import_name)
        self.tag = tag  # the default tag of this blueprint's operations

    @property
    def current_request(self) -> Request:
        """The request this thread serves (not chalice's shared attribute)."""
        request = _request.get()
        return request if request is not None else super().current_request

    def serve_from(self, app: Chalice) -> None:
        """Serve this blueprint's views from `app` without registering them again: app.py
        registers every route from the route table (api/lazy_routes.py), and binds the
        blueprint when a route's module is first loaded."""
        self._current_app = app

    def operation(
        self,
        method: str,
        path: str,
        summary: str,
        ok: int = 200,
        *,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        auth: Any = None,
        errors: tuple[int, ...] = (),
        headers: dict[str, str] | None = None,
        media_type: str = "application/json",
        not_modified: bool = False,
        tag: str | None = None,
        cache: str = "",
        documented: bool = True,
        cors: bool = True,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare a route once (api/routes.py): Chalice registers it, OpenAPI documents it.

        Every fact about the route is here: `auth` is the authorizer protecting it (None:
        public); `tag` its group (default: the blueprint's); `cache` its Cache-Control when a
        GET succeeds (api/caching.py; "": no-store); `documented=False` keeps it out of
        /openapi.json; `cors=False` refuses it to cross-origin pages.
        """
        routes.declare(
            routes.Operation(
                method=method.lower(),
                path=path,
                summary=summary,
                ok=ok,
                body=body,
                query=query,
                response=response,
                auth=auth is not None,
                errors=errors,
                headers=headers or {},
                media_type=media_type,
                not_modified=not_modified,
                authorizer=auth,
                tag=self.tag if tag is None else tag,
                cache=cache,
                documented=documented,
                cors=cors,
            )
        )
        options: dict[str, Any] = {"methods": [method.upper()]}
        if auth is not None:
            options["authorizer"] = auth
        return self.route(path, **options)

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        """Chalice's route, with the view's exceptions surfaced to the middleware."""
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(view)
            def surfaced(*args: Any, **kw: Any) -> Any:
                try:
                    return view(*args, **kw)
                except Exception as exc:
                    raise ChaliceUnhandledError("view raised") from exc

            register(surfaced)
            return view

        return decorator


def validation_details(exc: ValidationError, where: str) -> list[dict[str, Any]]:
    """Pydantic errors → contract details; never echoes the input (it may be a password)."""
    return [{"loc": [where, *err["loc"]], "msg": err["msg"]} for err in exc.errors()]


def validate(model: type[M], data: Any, where: str) -> M:
    """Validate data against a model; ValidationFailedError with details on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailedError(validation_details(exc, where)) from exc


_NOT_UTF8 = [{"loc": ["body"], "msg": "Body must be UTF-8 without a byte order mark"}]
# The byte order marks of UTF-8, UTF-32 and UTF-16 (json.loads would sniff and accept them all).
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def utf8_text(raw: bytes | str) -> str:
    """The body as text: strictly UTF-8 (RFC 8259 8.1), no BOM; ValidationFailedError otherwise.

    A NUL byte cannot occur in UTF-8 JSON text (it must be escaped), but it is in every
    UTF-16/32 encoding of it: such a body is refused as an encoding error, not as bad JSON.
    """
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if data.startswith(_BOMS) or b"\x00" in data:
        raise ValidationFailedError(_NOT_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailedError(_NOT_UTF8) from exc


def parse_body(request: Request, model: type[M]) -> M:
    """The request body as a model (numbers with fractions as Decimal, never float)."""
    raw = request.raw_body or b""
    if not raw.strip():
        raise InvalidJsonError("Request body is required")
    try:
        data = loads(utf8_text(raw))
    except DuplicateKeyError as exc:
        raise ValidationFailedError([{"loc": ["body", exc.key], "msg": "Duplicate key"}]) from exc
    except (ValueError, RecursionError) as exc:
        raise InvalidJsonError() from exc
    if not isinstance(data, dict):
        raise ValidationFailedError([{"loc": ["body"], "msg": "Body must be a JSON object"}])
    return validate(model, data, "body")


# Visible ASCII, as the IETF Idempotency-Key draft and most payment APIs allow.
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
IDEMPOTENCY_KEY_HEADER = {
    "Idempotency-Key": "Retry safely: the same key and body within 24 h returns the first response "
    "(Idempotent-Replayed: true); another body is a 409. A 503 on a write means the outcome is "
    "unknown: retry with the same key."
}


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    """The request's Idempotency-Key (None without one); 400 unless 1-255 visible ASCII characters."""
    value = headers.get("idempotency-key")
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise ValidationFailedError(
            [{"loc": ["header", "Idempotency-Key"], "msg": "Must be 1 to 255 visible ASCII characters"}]
        )
    return str(value)


def replay_headers(replayed: bool) -> dict[str, str]:
    """`Idempotent-Replayed: true` on a response that repeats the first one for its key."""
    return {"Idempotent-Replayed": "true"} if replayed else {}


ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def path_id(value: str, name: str = "id") -> str:
    """A resource id from the path: opaque, but of a bounded, key-safe alphabet."""
    if not ID_PATTERN.match(value):
        raise ValidationFailedError([{"loc": ["path", name], "msg": "Not a valid id"}])
    return value


def parse_query(request: Request, model: type[M]) -> M:
    """Query-string parameters as a model."""
    return validate(model, dict(request.query_params or {}), "query")


def json_response(
    body: BaseModel | Mapping[str, Any] | JsonText,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON response; Decimals keep their exact text."""
    if isinstance(body, JsonText):  # a store's view, written already
        text = body.json()
    else:
        text = dumps(body.model_dump(mode="python") if isinstance(body, BaseModel) else body)
    return Response(body=text, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def created(body: BaseModel, location: str, headers: Mapping[str, str] | None = None) -> Response:
    """201 with Location."""
    return json_response(body, 201, {"Location": location, **(headers or {})})


def no_content() -> Response:
    """204 with an empty body (body=None would make chalice local send `null`)."""
    return Response(body="", status_code=204, headers={})


def not_modified(etag: str) -> Response:
    """304 for a conditional GET: the ETag, no body and no Content-Type (RFC 9110 15.4.5)."""
    return Response(body="", status_code=304, headers={"ETag": etag})
