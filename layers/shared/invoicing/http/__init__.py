"""What every API handler shares: the resolver, the envelope, error mapping, idempotency."""
