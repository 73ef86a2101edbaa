"""GraphQL for corrections, erasure and the access log."""
