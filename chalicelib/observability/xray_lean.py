"""The X-Ray SDK's Lambda context and UDP emitter without their repeated per-call work.

Imported only by `tracing.xray_recorder()` (it imports the SDK). Both are subclasses the
SDK lets an application install (`xray_recorder.configure(context=..., emitter=...)`), and
both change what the SDK costs, never what it sends (tests/unit/test_xray_lean.py drives
them and the SDK's own classes through the same steps and compares the results; the
integration tests compare the documents the daemon receives):

* `MemoLambdaContext`: the SDK's `LambdaContext.get_trace_entity()` parses the
  `_X_AMZN_TRACE_ID` header again on every call (about twelve times per sampled request:
  each subsegment's begin and end, streaming, the botocore patch). It only does anything
  when the header names a new trace root; when the header and the segment are those it
  already checked and found current, the answer cannot change, so the parse is skipped.
* `LeanUDPEmitter`: the SDK's emitter formats the whole document into a debug message
  even when debug logging is off, and `json.dumps(..., default=str)` builds a new encoder
  for every document; this one does neither and sends the same bytes.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core.emitters.udp_emitter import PROTOCOL_DELIMITER, PROTOCOL_HEADER, UDPEmitter
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from aws_xray_sdk.core.models.entity import Entity
from aws_xray_sdk.core.models.trace_header import TraceHeader
from aws_xray_sdk.core.streaming.default_streaming import DefaultStreaming

from chalicelib import jsonio
from chalicelib.observability.tracing import TRACE_HEADER

# The SDK's own loggers: the same messages, under the same names, at the same levels.
_EMITTER_LOG = logging.getLogger("aws_xray_sdk.core.emitters.udp_emitter")

# What json.dumps(document, default=str) writes, without building an encoder on every call.
_ENCODE = jsonio.encoder(str, ensure_ascii=True, separators=(", ", ": "))

_UNSEEN = object()  # no header checked yet (None is a header value: no header at all)


class MemoLambdaContext(LambdaContext):  # type: ignore[misc]  # the SDK is untyped
    """LambdaContext that skips re-parsing a trace header it has already found current."""

    def _refresh_context(self) -> None:
        """The base class's refresh: parse the header; when its root is set and differs from
        the segment's trace id (or there is no segment yet), start a new facade segment.

        Its answer depends only on the header string and the segment: when both are the ones
        last checked and the check found nothing to do, it again finds nothing to do."""
        local = self._local
        raw = os.environ.get(TRACE_HEADER)  # the header the base class would parse
        segment = getattr(local, "segment", None)
        if (
            segment
            and segment is getattr(local, "checked_segment", None)
            and raw == getattr(local, "checked_header", _UNSEEN)
        ):
            return
        trace_header = TraceHeader.from_header_str(raw)
        if not global_sdk_config.sdk_enabled():
            trace_header._sampled = False
        if not segment or (trace_header.root and trace_header.root != segment.trace_id):
            self._initialize_context(trace_header)
            segment = local.segment
        # Remember the pair only when the base class would return at once for it.
        current = not trace_header.root or trace_header.root == segment.trace_id
        local.checked_segment = segment if current else None
        local.checked_header = raw if current else _UNSEEN


class LeanUDPEmitter(UDPEmitter):  # type: ignore[misc]  # the SDK is untyped
    """UDPEmitter that sends the same datagrams without formatting unused debug text."""

    def send_entity(self, entity: Any) -> None:
        """Serialise the entity as `Entity.serialize` does and send it to the daemon."""
        try:
            if type(entity).serialize is Entity.serialize:
                body = _ENCODE(entity.to_dict())
            else:  # an entity that serialises itself its own way
                body = entity.serialize()
            message = f"{PROTOCOL_HEADER}{PROTOCOL_DELIMITER}{body}"
            if _EMITTER_LOG.isEnabledFor(logging.DEBUG):
                _EMITTER_LOG.debug("sending: %s to %s:%s.", message, self._ip, self._port)
            self._send_data(message)
        except Exception:
            _EMITTER_LOG.exception("Failed to send entity to Daemon.")


# The SDK's threshold outside Lambda: a tree with more open and closed subsegments than this
# streams its closed ones before its top closes (a bounded datagram for long requests).
STREAM_THRESHOLD = 30


class TreeStreaming(DefaultStreaming):  # type: ignore[misc]  # the SDK is untyped
    """Streams each top-level subsegment (the request's) with everything under it, once it closes.

    In Lambda the SDK streams every subsegment the moment it closes (threshold 0): a GET
    sends its DynamoDB call and then its request subsegment, two datagrams and two walks of
    the tree. X-Ray takes subsegments nested in their parent as well as sent on their own,
    so this sends the same subsegments, ids and parents as one document per request; past
    STREAM_THRESHOLD subsegments the closed ones go out early, as the SDK does.
    """

    def __init__(self) -> None:
        super().__init__(streaming_threshold=STREAM_THRESHOLD)

    def is_eligible(self, segment: Any) -> bool:
        """Sampled, and no top-level subsegment is still open (or the tree is large)."""
        if not segment or not segment.sampled:
            return False
        if segment.get_total_subsegments_size() > self.streaming_threshold:
            return True
        return not any(child.in_progress for child in segment.subsegments)
