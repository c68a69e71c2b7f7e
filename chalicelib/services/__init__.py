"""Use cases: no chalice, no boto3."""
