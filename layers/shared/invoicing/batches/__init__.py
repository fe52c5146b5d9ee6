"""The batch engine: POST /invoices/batch makes each item one invoice or one failed entry, exactly
once, however often its message is delivered.

Read top to bottom: ``schemas`` (request, answer, queue message), ``rules`` (pure), ``accept``
(validate, price, write the batch, advance it inline or queue it), ``advance`` (the only writer
of item state, and why each item is written exactly once), ``records`` (its storage).
"""
