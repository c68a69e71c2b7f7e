"""What-if for `BENCH_WHAT_IF=1 make bench`: Storefront with only the product routes.

The same middleware and the same products blueprint as app.py, without the users, orders,
auth-token and OpenAPI blueprints and what they import (their models, services, key and
password code). Its cold start is what lazily importing each route module's dependencies
would bring the first `GET /products/{id}` down to. Never deployed.
"""

from chalice.app import Chalice

from chalicelib.api import products
from chalicelib.api.middleware import handle_http

app = Chalice(app_name="storefront")
app.register_middleware(handle_http, "http")
app.register_blueprint(products.bp)
