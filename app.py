"""Wiring only: the app, its middleware and its blueprints."""

from chalice.app import Chalice

from chalicelib import snapstart
from chalicelib.api import (
    accounts,
    auth,
    deps,
    docs,
    health,
    openapi,
    orders,
    payments,
    products,
    sessions,
    sweep,
    users,
    webhooks,
)
from chalicelib.api.cors import register_preflight
from chalicelib.api.local_server import fix_chalice_local
from chalicelib.api.middleware import handle_http

app = Chalice(app_name="storefront")
app.register_middleware(handle_http, "http")
app.register_blueprint(accounts.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(docs.bp)
app.register_blueprint(health.bp)
app.register_blueprint(openapi.bp)
app.register_blueprint(orders.bp)
app.register_blueprint(payments.bp)
app.register_blueprint(products.bp)
app.register_blueprint(sessions.bp)
app.register_blueprint(sweep.bp)  # the scheduled expiry sweep (a function of its own)
app.register_blueprint(users.bp)
app.register_blueprint(webhooks.bp)
register_preflight(app)
fix_chalice_local()  # no-op outside `chalice local`
# SnapStart (the API function; the authorizer's module registers its own): warm the
# table's client, the models and argon2 before the snapshot; after a restore, drop every
# cached collaborator (clients, key ring, settings) so it is made anew on first use.
snapstart.register(
    warm=(deps.get_table, snapstart.build_models, snapstart.import_password_hashing),
    refresh=(deps.reset,),
)
