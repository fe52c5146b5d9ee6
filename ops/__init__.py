"""Operator tooling (the admin CLI). Not deployed: it runs on an operator's machine."""
