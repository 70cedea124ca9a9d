"""Testing kit for code that consumes DynamoDB streams."""
