"""The HTTP layer: blueprints, the authorizer, middleware, error mapping."""
