"""Pure business rules: no I/O, no boto3, plain values in and out."""
