"""X-Ray: one subsegment per request (Lambda's own segment is a facade that cannot be
annotated), annotations only, and botocore patched so every DynamoDB call is traced.

The SDK is imported only when tracing can work (SDK enabled and inside Lambda): its
import pulls botocore in (~100 ms cold, which DynamoDB routes pay anyway); the SDK
itself and the patch add ~40 ms (docs/observability.md).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class Span(Protocol):
    """A traced unit of work (an X-Ray subsegment, or nothing)."""

    def annotate(self, key: str, value: str | int | bool | None) -> None:
        """Attach a searchable annotation to the span."""

    def finish(self, status: int | None, exception: BaseException | None = None) -> None:
        """Close the span with the response status (and the exception behind a 5xx)."""


class NullSpan:
    """A span that records nothing (tracing disabled)."""

    def annotate(self, key: str, value: str | int | bool | None) -> None:
        """Nothing: tracing is off."""

    def finish(self, status: int | None, exception: BaseException | None = None) -> None:
        """Nothing: tracing is off."""


class XraySpan:
    """An X-Ray subsegment. Annotations (searchable) only; no request or response data."""

    def __init__(self, subsegment: Any) -> None:
        self._subsegment = subsegment

    def annotate(self, key: str, value: str | int | bool | None) -> None:
        """Attach a searchable annotation to the span."""
        if value is not None:
            self._subsegment.put_annotation(key, value)

    def finish(self, status: int | None, exception: BaseException | None = None) -> None:
        """Close the span with the response status (and the exception behind a 5xx)."""
        if status is not None:
            self._subsegment.put_http_meta("status", status)
            self._subsegment.apply_status_code(status)  # 4xx error, 429 throttle, 5xx fault
        if exception is not None:
            self._subsegment.add_exception(exception, traceback.extract_tb(exception.__traceback__))


@functools.cache
def xray_recorder() -> Any | None:
    """The X-Ray recorder with botocore patched, when tracing can work; else None.

    Outside Lambda there is no segment to attach to and the SDK only complains, so
    tracing needs both the SDK enabled (AWS_XRAY_SDK_ENABLED, read by the SDK) and the
    Lambda context the SDK detects itself.
    """
    import aws_xray_sdk  # light: the flag only

    if not aws_xray_sdk.global_sdk_config.sdk_enabled():
        return None
    from aws_xray_sdk.core import patch
    from aws_xray_sdk.core import xray_recorder as recorder
    from aws_xray_sdk.core.lambda_launcher import LambdaContext

    if not isinstance(recorder.context, LambdaContext):
        return None
    from chalicelib.observability.xray_lean import LeanUDPEmitter, MemoLambdaContext, TreeStreaming

    # The same context and emitter, without their per-call rework, and one datagram per
    # request rather than one per subsegment (xray_lean's docstring).
    emitter = LeanUDPEmitter(f"{recorder.emitter.ip}:{recorder.emitter.port}")
    recorder.configure(context=MemoLambdaContext(), emitter=emitter, streaming=TreeStreaming())
    boto_utils: Any = importlib.import_module("aws_xray_sdk.ext.boto_utils")
    # A pure function of a whitelisted parameter name (a few dozen): convert each once.
    boto_utils.to_snake_case = functools.cache(boto_utils.to_snake_case)
    # The module, not the package's `patch` function of the same name.
    botocore_patch: Any = importlib.import_module("aws_xray_sdk.ext.botocore.patch")
    botocore_patch.aws_meta_processor = with_transaction_tables(botocore_patch.aws_meta_processor)
    botocore_patch._xray_traced_botocore = only_when_sampled(botocore_patch._xray_traced_botocore)
    botocore_patch.inject_header = only_when_sampled(botocore_patch.inject_header)
    patch(["botocore"])  # every DynamoDB call of a sampled request becomes a subsegment
    return recorder


# Lambda's trace header for this invocation: Root=1-...;Parent=...;Sampled=1
TRACE_HEADER = "_X_AMZN_TRACE_ID"
_SAMPLED = re.compile(r"(?:^|;)\s*Sampled=1\s*(?:;|$)")


_last_sampled: list[tuple[str | None, bool]] = [(None, False)]  # (header, its answer)


def sampled() -> bool:
    """Whether this invocation is sampled. Lambda's facade segment takes its decision from
    the trace header alone (Sampled=1; 0, `?` or none: not sampled), and the SDK then only
    makes dummy subsegments, parsing the header again for each one; asking first costs one
    search instead (docs/performance.md), and one comparison when the header is the one
    last asked about (it is asked three times a request)."""
    header = os.environ.get(TRACE_HEADER)
    if header is None:
        return False
    last_header, last_answer = _last_sampled[0]
    if header == last_header:
        return last_answer
    answer = _SAMPLED.search(header) is not None
    _last_sampled[0] = (header, answer)
    return answer


def only_when_sampled(wrapper: Callable[..., Any]) -> Callable[..., Any]:
    """A wrapt wrapper (wrapped, instance, args, kwargs) that steps aside when the
    invocation is not sampled: the call is made as if botocore were not patched (no dummy
    subsegment, no trace header sent on to DynamoDB, which does not continue traces)."""

    @functools.wraps(wrapper)
    def maybe(wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        if not sampled():
            return wrapped(*args, **kwargs)
        return wrapper(wrapped, instance, args, kwargs)

    return maybe


_TRANSACTIONS = frozenset({"TransactWriteItems", "TransactGetItems"})


def transaction_tables(params: dict[str, Any]) -> list[str]:
    """The tables a DynamoDB transaction touches ({"Put": {"TableName": ...}}, ...)."""
    actions = params.get("TransactItems") or []
    return sorted(
        {body["TableName"] for action in actions for body in action.values() if "TableName" in body}
    )


def with_transaction_tables(processor: Callable[..., None]) -> Callable[..., None]:
    """The SDK's parameter whitelist names the table of single-item calls but not of
    transactions; add it, so that every DynamoDB subsegment carries its table."""

    @functools.wraps(processor)
    def process(**meta: Any) -> None:  # the SDK passes everything by keyword
        processor(**meta)
        args, kwargs, subsegment = meta["args"], meta["kwargs"], meta["subsegment"]
        operation = kwargs.get("operation_name") or (args[0] if args else "")
        params = kwargs.get("api_params") or (args[1] if len(args) > 1 else {})
        tables = transaction_tables(params) if operation in _TRANSACTIONS else []
        if tables and isinstance(subsegment.aws, dict):
            one = len(tables) == 1
            subsegment.aws["table_name" if one else "table_names"] = tables[0] if one else tables

    return process


@contextmanager
def span(name: str, enabled: bool = True) -> Iterator[Span]:
    """An X-Ray subsegment around the block (a no-op span when tracing is off)."""
    try:
        recorder = xray_recorder() if enabled else None  # imported and patched on first use
        recorder = recorder if recorder is not None and sampled() else None
        subsegment = recorder.begin_subsegment(name) if recorder is not None else None
    except Exception:  # tracing is best effort: the request goes on untraced
        logging.getLogger(__name__).warning("cannot open subsegment %s", name, exc_info=True)
        recorder = subsegment = None
    if recorder is None or subsegment is None:
        yield NullSpan()
        return
    try:
        yield XraySpan(subsegment)
    finally:
        recorder.end_subsegment()
