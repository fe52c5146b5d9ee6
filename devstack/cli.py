"""``invoicing-local``: the whole service on this machine, without Docker or an AWS account.

    invoicing-local serve [--port 3000] [--host 127.0.0.1] [--no-seed]
    invoicing-local invoke FUNCTION -e events/x.json      (like ``sam local invoke``)
    invoicing-local seed                                  (the demo data, into a running stack)

The port defaults to the environment's PORT (``make local PORT=3100``), else 3000. Each stack
writes its state file, ``.devstack/<port>/stack.json``, so stacks on two ports run side by side;
``invoke``, ``seed`` and ``invoicing-admin`` use the one on ``--port``/``PORT``, else the only one.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import shlex
import signal
import sys
import traceback
import warnings
from collections.abc import Sequence
from contextlib import ExitStack, redirect_stdout
from pathlib import Path
from typing import Any

from devstack import local, runtime, seed, server, template
from devstack.events import function_of_file, target_function
from devstack.scheduler_clock import SchedulerClock
from devstack.sqs_poller import SqsPoller

log = logging.getLogger("devstack")


def _fail(message: str, code: int = 1) -> int:
    print(f"invoicing-local: {message}", file=sys.stderr)
    return code


def _curl(base_url: str, demo: seed.Demo) -> str:
    lines = [
        f"curl -sS -X POST {shlex.quote(base_url + '/api/v1/invoices')}",
        *(f"-H {shlex.quote(f'{name}: {value}')}" for name, value in demo.headers().items()),
        f"-H {shlex.quote('Content-Type: application/json')}",
        f"-d {shlex.quote(json.dumps(demo.sample_invoice()))}",
    ]
    return " \\\n  ".join(lines)


def _token_hint(business_id: str) -> str:
    return f"invoicing-admin create-token --business-id {business_id} --role owner"


# ---------------------------------------------------------------------------------------- serve
def _stop(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    # Ctrl-C, kill (TERM) and a closed terminal (HUP) all stop it cleanly; SIGINT explicitly too,
    # since a shell script's background job (`invoicing-local serve &`) starts with it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop)
    try:
        httpd = server.make_server(args.host, args.port)
    except OSError as error:
        running = local.read_state(local.state_path(args.port))
        if running is not None and local.reachable(running.endpoint_url, running.table_name, running.region):
            return _fail(f"a local stack is already running at {running.base_url} (pid {running.pid}); "
                         f"stop it first, or start another on a port of its own: --port N (make local PORT=N)")
        return _fail(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}; "
                     "choose another port: --port N (make local PORT=N)")
    with ExitStack() as stack:
        stack.callback(httpd.server_close)
        port = httpd.server_port
        base_url = f"http://{args.host}:{port}"
        path = local.state_path(port)
        running = local.read_state(path)  # only DEVSTACK_STATE_FILE can name another port's stack
        if running is not None and local.reachable(running.endpoint_url, running.table_name, running.region):
            return _fail(f"a local stack is already running at {running.base_url} (pid {running.pid}) with "
                         f"the state file {path}; stop it first")
        # moto serves every service but DynamoDB when --endpoint-url puts DynamoDB elsewhere.
        moto_url = stack.enter_context(local.MotoServer()).endpoint_url
        endpoint = args.endpoint_url or moto_url
        local.use_endpoint(endpoint, args.table, aws_endpoint_url=moto_url)
        local.ensure_table(args.table)
        queues = local.ensure_schedules(args.table, local.ensure_queues(args.table))
        local.use_endpoint(endpoint, args.table, aws_endpoint_url=moto_url, resources=queues)
        poller = SqsPoller()
        poller.start()
        stack.callback(poller.stop)
        clock = SchedulerClock()  # fires the recurring templates' schedules, in real time
        clock.start()
        stack.callback(clock.stop)
        demo = None
        if not args.no_seed:
            try:
                demo = seed.seed()
            except seed.SeedError as error:
                return _fail(f"seeding the demo data failed: {error} (--no-seed starts without it)")
        local.State(endpoint, args.table, base_url, local.REGION, os.getpid(), aws_endpoint_url=moto_url,
                    resources=queues, port=port, api_url=f"{base_url}/api/v1",
                    demo=demo.as_dict() if demo else None).write()
        stack.callback(local.remove_state, port, os.getpid())
        print(banner(base_url, endpoint, args.table, demo, path, moto_url, poller.sources), flush=True)
        try:
            httpd.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            print("\nStopping the local stack.", file=sys.stderr, flush=True)
    return 0


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (shorter to read and paste)."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def banner(base_url: str, endpoint: str, table: str, demo: seed.Demo | None, state_file: Path, moto_url: str,
           sources: Sequence[template.SqsSource]) -> str:
    """What ``serve`` prints once the stack is up (README.md shows it; tests/unit/test_devstack_cli.py
    keeps the two alike)."""
    out = [
        "",
        "DayZero invoicing - local stack",
        f"  API          {base_url}/api/v1",
        f"  Swagger UI   {base_url}/api/v1/docs",
        f"  OpenAPI      {base_url}/api/v1/openapi.json",
        f"  DynamoDB     {endpoint}   table {table}",
        f"  SQS          {moto_url}   polled: " + ", ".join(f"{s.queue} -> {s.function}" for s in sources),
        "  Scheduler    schedules fired by the local scheduler clock (RecurringRunFunction)",
        f"  State file   {_shown(state_file)}   (all of this as JSON, for scripts)",
    ]
    if demo is not None:
        out += [
            f"  Business id  {demo.business_id}   ({seed.BUSINESS_NAME}, {seed.CURRENCY}, {seed.TIMEZONE})",
            f"  Token        {demo.token}   (owner)",
            f"               (a fresh random token: {_token_hint(demo.business_id)})",
            "",
            "Create an invoice:",
            "",
            _curl(base_url, demo),
        ]
    else:
        out += ["", "No demo data (--no-seed): create a business and token with invoicing-admin."]
    out += ["", "Ctrl-C stops the stack; its data lives in memory only.", ""]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- seed
def cmd_seed(args: argparse.Namespace) -> int:
    if args.endpoint_url:
        local.use_endpoint(args.endpoint_url, args.table)
        local.ensure_table(args.table)
    else:
        try:
            state = local.running_state(args.port)
        except local.StackChoiceError as error:
            return _fail(str(error))
        if state is None:
            return _fail("no local stack is running: `invoicing-local serve` starts one (and seeds it), "
                         "or pass --endpoint-url of a local DynamoDB")
        local.use_state(state)
    try:
        demo = seed.seed()
    except seed.SeedError as error:
        return _fail(f"seeding the demo data failed: {error}")
    print(json.dumps({"created": demo.created, **demo.as_dict()}, indent=2))
    print(f"A fresh random token: {_token_hint(demo.business_id)}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------- invoke
def _function_id(name: str) -> str | None:
    functions = template.functions()
    for candidate in (name, f"{name}Function"):
        for logical_id in functions:
            if logical_id.lower() == candidate.lower():
                return logical_id
    return None


def _read_event(path: str | None) -> Any:
    if path is None:
        return {}
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    return json.loads(text)


def cmd_invoke(args: argparse.Namespace) -> int:
    try:
        event = _read_event(args.event)
    except (OSError, ValueError) as error:
        return _fail(f"cannot read the event {args.event}: {error}", 2)
    if args.function:
        function = _function_id(args.function)
    else:
        by_name = function_of_file(Path(args.event)) if args.event and args.event != "-" else None
        function = by_name or target_function(event)
    if function is None:
        known = ", ".join(sorted(template.functions()))
        if args.function:
            return _fail(f"no function {args.function!r} in template.yaml; functions: {known}", 2)
        return _fail(f"name the function: the event is for no route of template.yaml; functions: {known}", 2)
    stdout = sys.stdout
    code = 0
    # Lambda's logs go to stderr, so stdout holds the function's result only.
    try:
        state = None if args.ephemeral else local.running_state(args.port)
    except local.StackChoiceError as error:
        return _fail(str(error), 2)
    with redirect_stdout(sys.stderr), ExitStack() as stack:
        if state is not None:
            log.info("invoking against the running local stack (%s)", state.endpoint_url)
            local.use_state(state)
        else:
            log.info("no local stack is running: starting a throw-away one with the demo data")
            try:
                stack.enter_context(local.ephemeral_stack())
            except seed.SeedError as error:
                return _fail(f"seeding the demo data failed: {error}")
        try:
            result = runtime.invoke(function, event)
        except Exception as error:  # noqa: BLE001 - reported as Lambda reports a function error
            traceback.print_exc()
            result = {"errorMessage": str(error), "errorType": type(error).__name__,
                      "stackTrace": traceback.format_tb(error.__traceback__)}
            code = 1
    stdout.write(json.dumps(result, default=str) + "\n")
    stdout.flush()
    return code


# ---------------------------------------------------------------------------------------- main
_PORT_CHOICE = "the running stack on this port (default: $PORT, else the only one running)"


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number, 0-65535 (from --port or PORT)")
    return port


def loopback(text: str) -> str:
    """Only this machine may reach the stack: its demo token is in the README."""
    try:
        if text == "localhost" or ipaddress.IPv4Address(text).is_loopback:
            return text
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a loopback address (e.g. 127.0.0.1)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="invoicing-local", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API on this machine (moto in process, demo data)")
    serve.add_argument("--port", type=port_number, default=os.environ.get("PORT") or "3000",
                       help="the API's port (default: $PORT, else 3000; 0: any free port)")
    serve.add_argument("--host", type=loopback, default="127.0.0.1",
                       help="a loopback address (default 127.0.0.1): the demo token is published")
    serve.add_argument("--no-seed", action="store_true", help="start without the demo data")
    serve.add_argument("--endpoint-url", help="use this DynamoDB endpoint (e.g. DynamoDB Local) instead of moto")
    serve.add_argument("--table", default=local.LOCAL_TABLE, help="table name (created from template.yaml)")
    serve.set_defaults(run=cmd_serve)

    inv = sub.add_parser("invoke", help="run one function of template.yaml with an event, like sam local invoke")
    inv.add_argument("function", nargs="?",
                     help="logical id in template.yaml, e.g. InvoicesFunction (default: from the event file's "
                          "name, see events/README.md, or the event's route)")
    inv.add_argument("-e", "--event", help="event JSON file ('-' reads stdin; default: {})")
    inv.add_argument("--ephemeral", action="store_true",
                     help="use a throw-away stack even when a local stack is running")
    inv.add_argument("--port", type=port_number, help=_PORT_CHOICE)
    inv.set_defaults(run=cmd_invoke)

    sd = sub.add_parser("seed", help="load the demo data into the running local stack (idempotent)")
    sd.add_argument("--endpoint-url", help="a local DynamoDB endpoint instead of the running stack")
    sd.add_argument("--table", default=local.LOCAL_TABLE)
    sd.add_argument("--port", type=port_number, help=_PORT_CHOICE)
    sd.set_defaults(run=cmd_seed)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # Metrics are disabled locally; Powertools still warns on every invocation without any.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    try:
        code: int = args.run(args)
    except KeyboardInterrupt:  # Ctrl-C before serving started (e.g. while seeding): cleanup ran already
        code = 130
    if args.command == "serve":
        # The stack's data is this process's memory and goes with it. The interpreter's teardown
        # would first garbage-collect all of it, which took seconds per 5,000 invoices (most of
        # the time Ctrl-C took): cleanup has run, so leave at once.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
