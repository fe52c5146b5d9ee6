"""Use cases: each reads what it needs from storage, applies domain rules, and writes."""
