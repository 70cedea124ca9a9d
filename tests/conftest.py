"""Test-suite configuration. The DynamoDB Local fixtures come from the ddbstream pytest plugin
(``pytest11`` entry point); pytester is used to test that plugin."""

pytest_plugins = ["pytester"]
