"""What every API handler shares: the resolver, the envelope, request types, error mapping."""
