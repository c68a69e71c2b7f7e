"""Wiring only: the app, its middleware, the authorizer and the routes.

Every route is registered from the route table (api/route_table.py, generated from the
declarations by `make routes`) behind a stand-in that imports the route's module on its
first call (api/lazy_routes.py): a cold start imports the middleware, the authorizer and
the module of the route it serves, nothing else.
"""

from chalice.app import Chalice

from chalicelib import snapstart
from chalicelib.api import auth, content_types, deps, header_lookup, lazy_routes, sweep
from chalicelib.api.cors import register_preflight
from chalicelib.api.local_server import fix_chalice_local
from chalicelib.api.middleware import handle_http
from chalicelib.api.route_table import ROUTES

app = Chalice(app_name="storefront")
# Every body in and out is text (JSON; /docs serves HTML, JS and CSS): no binary media types,
# so chalice does not screen each request and response against its sixteen defaults (~3 µs a
# request), and API Gateway passes bodies through as text.
app.api.binary_types = []
content_types.install()  # chalice's three content-type matches a request, answered from memory
header_lookup.install()  # a missing header is looked up without an exception
app.register_middleware(handle_http, "http")
app.register_blueprint(auth.bp)
app.register_blueprint(sweep.bp)  # the scheduled expiry sweep (a function of its own)
lazy_routes.register(app, ROUTES, authorizers={"jwt_auth": auth.jwt_auth})
register_preflight(app)
fix_chalice_local()  # no-op outside `chalice local`


def load_routes() -> list[str]:
    """Import every route's module (and bind its blueprint) now, not on its first call."""
    return lazy_routes.load_all(app, ROUTES)


# SnapStart (the API function; the authorizer's module registers its own): warm the
# table's client, every route module, the models and argon2 before the snapshot, so a
# restored function pays no import on any route; after a restore, drop every cached
# collaborator (clients, key ring, settings) so it is made anew on first use.
snapstart.register(
    warm=(deps.get_table, load_routes, snapstart.build_models, snapstart.import_password_hashing),
    refresh=(deps.reset,),
)
