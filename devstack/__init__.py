"""The local stack: the service on one machine without Docker or an AWS account (dev only, never deployed).

template.py reads template.yaml; runtime.py runs a function's handler in process; events.py builds
API Gateway events; gateway.py is API Gateway's part (routes, authorizer, gateway responses);
server.py the HTTP front; local.py moto's server, the table and the state file; seed.py the demo
data; cli.py the ``invoicing-local`` command (serve, invoke, seed). emulated.py is moto's in-process
mock for tests and the benchmark; openapi.py writes the OpenAPI document.
"""
