"""Pure security helpers: signing keys, tokens, password hashes."""
