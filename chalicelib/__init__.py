"""Storefront: a serverless store API on AWS Chalice."""

__version__ = "0.1.0"
