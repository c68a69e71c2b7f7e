"""Storefront: a serverless store API on AWS Chalice."""

__version__ = "0.2.0"
