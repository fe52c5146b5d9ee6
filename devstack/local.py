"""The local stack's AWS side: moto's server in this process (loopback, random port), the table
and the queues from template.yaml, and the state file through which other commands (``invoke``, ``seed``, the
admin CLI) find a running stack.

boto3 reaches the emulated services through its own ``AWS_ENDPOINT_URL``: the functions' code
has no local switch of its own.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from devstack import moto_patches, runtime, template

REGION = "us-east-1"
LOCAL_TABLE = "dayzero-invoicing-local"
# moto accepts any credentials; fixed fake ones keep real ones from ever reaching a local server.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

log = logging.getLogger("devstack")


class StackChoiceError(LookupError):
    """Several local stacks run and none was chosen."""


def state_root() -> Path:
    """``.devstack/`` in the project (gitignored); ``DEVSTACK_STATE_DIR`` overrides it."""
    override = os.environ.get("DEVSTACK_STATE_DIR")
    return Path(override) if override else template.ROOT / ".devstack"


def state_path(port: int) -> Path:
    """The state file of the stack on ``port``: ``<state root>/<port>/stack.json``, so stacks on
    two ports keep theirs apart. ``DEVSTACK_STATE_FILE`` pins one file for whichever stack runs."""
    override = os.environ.get("DEVSTACK_STATE_FILE")
    return Path(override) if override else state_root() / str(port) / "stack.json"


@dataclass(frozen=True)
class State:
    """A running stack, as its state file records it (README: "The state file")."""

    endpoint_url: str  # DynamoDB's (the table's)
    table_name: str
    base_url: str | None = None
    region: str = REGION
    pid: int | None = None
    aws_endpoint_url: str | None = None  # the other services' (moto), when DynamoDB is elsewhere
    resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id (queue URLs)
    port: int | None = None
    api_url: str | None = None
    demo: dict[str, str] | None = None  # the demo business, token and ids (None with --no-seed)

    def write(self) -> Path:
        """Atomically, readable by its owner only (it holds a token)."""
        path = state_path(self.port or 0)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".stack-", suffix=".tmp")  # mode 0600
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(asdict(self), indent=2) + "\n")
        Path(tmp).replace(path)
        return path


def read_state(path: Path) -> State | None:
    try:
        raw = json.loads(path.read_text())
        return State(**{f.name: raw[f.name] for f in fields(State) if f.name in raw})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def remove_state(port: int, pid: int) -> None:
    """Remove the state file of ``port`` if it is the one process ``pid`` wrote (and its folder, if empty)."""
    path = state_path(port)
    state = read_state(path)
    if state is not None and state.pid == pid:
        path.unlink(missing_ok=True)
        if not os.environ.get("DEVSTACK_STATE_FILE"):  # a pinned file's folder is not the stack's
            with suppress(OSError):  # not empty
                path.parent.rmdir()


def reachable(endpoint_url: str, table_name: str, region: str = REGION) -> bool:
    """Whether ``endpoint_url`` answers and holds ``table_name`` (a quick check, no retries)."""
    import boto3
    from botocore.config import Config

    try:
        boto3.client(
            "dynamodb", endpoint_url=endpoint_url, region_name=region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(connect_timeout=1, read_timeout=3, retries={"max_attempts": 1}),
        ).describe_table(TableName=table_name)
    except Exception:  # noqa: BLE001 - any failure means "not a usable stack"
        return False
    return True


def default_port() -> int | None:
    """``PORT`` from the environment (what ``make local PORT=3100`` sets), if any."""
    value = os.environ.get("PORT", "").strip()
    return int(value) if value.isdigit() else None


def recorded_states(port: int | None = None) -> list[tuple[Path, State]]:
    """The state files there are (running stacks or stale ones): ``DEVSTACK_STATE_FILE``'s, else
    the one of ``port`` (default: ``PORT``), else every port's."""
    port = default_port() if port is None else port
    if os.environ.get("DEVSTACK_STATE_FILE") or port is not None:
        paths = [state_path(port or 0)]
    else:
        paths = sorted(state_root().glob("*/stack.json"))
    return [(path, state) for path in paths if (state := read_state(path)) is not None]


def running_state(port: int | None = None) -> State | None:
    """The local stack to use: the one on ``port`` (default: ``PORT``), else the only one running.
    Raises ``StackChoiceError`` when several run and no port says which."""
    running = [state for _, state in recorded_states(port)
               if reachable(state.endpoint_url, state.table_name, state.region)]
    if len(running) > 1:
        ports = ", ".join(str(state.port) for state in running)
        raise StackChoiceError(f"local stacks run on ports {ports}: choose one with PORT=<port> or --port")
    return running[0] if running else None


def reset_clients() -> None:
    """Forget cached settings and boto3 clients so the next call reads the environment afresh."""
    from invoicing.recurring import schedule as scheduler
    from invoicing.settings import settings
    from invoicing.storage import queue
    from invoicing.storage.table import client

    settings.cache_clear()
    client.cache_clear()
    queue.client.cache_clear()
    scheduler.client.cache_clear()


def use_endpoint(endpoint_url: str, table_name: str, region: str = REGION, *, aws_endpoint_url: str | None = None,
                 resources: dict[str, str] | None = None) -> None:
    """Point boto3 (``AWS_ENDPOINT_URL``, fake credentials, region) and every function's
    environment (from template.yaml, ``Table`` resolved to ``table_name``, other resources from
    ``resources``) at a local endpoint. ``aws_endpoint_url``: the services other than DynamoDB
    are there (moto) while DynamoDB is at ``endpoint_url`` (e.g. DynamoDB Local)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_DYNAMODB"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS, AWS_ENDPOINT_URL=aws_endpoint_url or endpoint_url, AWS_REGION=region,
                      AWS_DEFAULT_REGION=region)
    if aws_endpoint_url and aws_endpoint_url != endpoint_url:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint_url
    runtime.apply_environment({"Table": table_name, **(resources or {})})
    reset_clients()


def use_state(state: State) -> None:
    """Point everything at a running stack, as its state file describes it."""
    use_endpoint(state.endpoint_url, state.table_name, state.region, aws_endpoint_url=state.aws_endpoint_url,
                 resources=state.resources)


def ensure_table(table_name: str) -> bool:
    """Create the template's table unless it exists; True when it was created."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    try:
        dynamodb.describe_table(TableName=table_name)
        return False
    except dynamodb.exceptions.ResourceNotFoundException:
        template.create_table(dynamodb, table_name)
        return True


def ensure_queues(prefix: str) -> dict[str, str]:
    """Create the template's queues (``<prefix>-<LogicalId>``) unless they exist: logical id -> URL;
    and its buckets (the documents bucket): logical id -> bucket name."""
    import boto3

    return {**template.create_queues(boto3.client("sqs"), prefix),
            **template.create_buckets(boto3.client("s3"), prefix)}


def ensure_schedules(prefix: str, resources: dict[str, str]) -> dict[str, str]:
    """Create the template's schedule groups and schedules in moto unless they exist; returns
    ``resources`` with the group names and the ``<LogicalId>.Arn`` values functions refer to."""
    import boto3

    from devstack import scheduler_clock

    return {**resources, **scheduler_clock.provision(boto3.client("scheduler"), resources, prefix)}


class MotoServer:
    """moto's ``ThreadedMotoServer`` on loopback, on a free port the OS picks."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        from moto.server import ThreadedMotoServer

        moto_patches.apply()
        # Werkzeug logs every request moto serves; the stack's own log is enough.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
        self.endpoint_url = ""

    def __enter__(self) -> MotoServer:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        log.info("moto listening on %s", self.endpoint_url)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.stop()


@contextmanager
def ephemeral_stack(*, seed_demo: bool = True, table_name: str = LOCAL_TABLE) -> Iterator[str]:
    """A throw-away stack for one command: moto, the table and queues, every function's
    environment and (by default) the demo data. Yields moto's endpoint URL."""
    with MotoServer() as moto:
        use_endpoint(moto.endpoint_url, table_name)
        ensure_table(table_name)
        use_endpoint(moto.endpoint_url, table_name,
                     resources=ensure_schedules(table_name, ensure_queues(table_name)))
        if seed_demo:
            from devstack import seed

            seed.seed()
        yield moto.endpoint_url
