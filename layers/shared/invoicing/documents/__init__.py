"""Invoice and receipt PDFs: rendered from the table's current state (``render``, pure), kept in
the stack's private bucket, one object per invoice version and per payment (``publish``)."""
