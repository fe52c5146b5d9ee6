"""DayZero invoicing: the code every Lambda function of the service shares (the SAM layer).

Three layers, one direction: ``http`` (request models, envelope, error mapping) is used by the
handlers in ``functions/``; ``operations`` are the use cases; ``domain`` is pure rules;
``storage`` is the only code that knows the DynamoDB table.
"""
