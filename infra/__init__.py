"""Deployment tooling: builds the CloudFormation merged into `chalice package` (not shipped to Lambda)."""
