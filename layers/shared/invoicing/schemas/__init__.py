"""Request (and response) schemas: the bodies the API validates, importable by every layer
above ``domain``, so that operations take a body without importing ``http``."""
