"""Test tooling: in-memory ports and a fast conversation client for flow tests."""
