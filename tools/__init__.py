"""Developer tooling: the embedded DynamoDB engine and the `make run` supervisor."""
