"""Pydantic models, one module per resource."""
