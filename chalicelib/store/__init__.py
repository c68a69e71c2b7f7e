"""The only package that speaks DynamoDB."""
