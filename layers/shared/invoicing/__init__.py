"""DayZero invoicing: the code every Lambda function of the service shares (the SAM layer).

One direction, top to bottom (``tests/unit/test_layering.py`` fails on an arrow back)::

    handlers (functions/*/app.py)
      -> http          the resolver, envelope, error mapping, idempotency, body and list-query parsing
      -> operations    the use cases; beside them the engines invoicing.batches and invoicing.recurring
      -> storage       the only code that knows the DynamoDB table (and the queue, the scheduler)
      -> domain        pure rules and the records

``schemas`` (the request bodies) sits just above ``domain``: every level but ``domain`` may
import it, so an operation takes a body without importing ``http``. ``errors``, ``settings``
and ``observability`` are shared utilities below everything.
"""
