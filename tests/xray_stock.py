"""`python -m tests.xray_stock STEPS_JSON`: bench.lambda_sim with the X-Ray SDK's own Lambda
context, UDP emitter, streaming (each subsegment sent when it closes, as in Lambda) and
parameter-name conversion put back in place of the lean ones
(chalicelib/observability/xray_lean.py), so a test can compare what each sends."""

from __future__ import annotations

import importlib
import sys
from typing import Any

from bench import lambda_sim


def use_the_sdks_own_parts() -> None:
    """Patch as the app does, then reinstall what the SDK itself would use."""
    from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
    from aws_xray_sdk.core.lambda_launcher import LambdaContext
    from aws_xray_sdk.core.streaming.default_streaming import DefaultStreaming

    from chalicelib.observability import tracing

    recorder = tracing.xray_recorder()
    assert recorder is not None, "the SDK must be enabled, in a simulated Lambda"
    emitter = UDPEmitter(f"{recorder.emitter.ip}:{recorder.emitter.port}")
    recorder.configure(
        context=LambdaContext(), emitter=emitter, streaming=DefaultStreaming(streaming_threshold=0)
    )
    boto_utils: Any = importlib.import_module("aws_xray_sdk.ext.boto_utils")
    boto_utils.to_snake_case = boto_utils.to_snake_case.__wrapped__


if __name__ == "__main__":
    use_the_sdks_own_parts()
    raise SystemExit(lambda_sim.main(sys.argv[1:]))
