"""The CORS header lists: what browsers may send and read. Not a route module, so the
template (infra/template.py) and the middleware and preflights take them from one place."""

from __future__ import annotations

# What a cross-origin request may send (the preflight's Access-Control-Allow-Headers).
ALLOWED_HEADERS = "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id"
# What a cross-origin script may read of a response (Access-Control-Expose-Headers).
EXPOSED_HEADERS = "X-Request-Id, ETag, Location, Retry-After"
# How long a browser may keep a preflight's answer (Access-Control-Max-Age).
MAX_AGE_SECONDS = 600
