"""``invoicing-admin``: businesses, users, memberships and API tokens, from the command line.

    invoicing-admin create-business --name "Acme" --currency USD [--timezone America/New_York]
    invoicing-admin create-token --business-id ID --role owner [--email E]
                                 [--expires-in-days N | --expires-at 2030-01-31T18:00:00+01:00]
    invoicing-admin revoke-token (--token-id ID | --token dz_...)

Which backend: boto3's own configuration. With ``AWS_ENDPOINT_URL`` (or
``AWS_ENDPOINT_URL_DYNAMODB``) set, that endpoint; otherwise the running local stack
(``invoicing-local serve``) when there is one (``--port`` or ``PORT`` picks one of several);
otherwise AWS. ``--aws`` forces AWS. On AWS the table is named by ``--table``, ``TABLE_NAME``
or ``--stack-name`` (its ``TableName`` output).
Every command prints JSON on stdout; errors print JSON on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from datetime import UTC, datetime
from typing import Any, get_args

from botocore.exceptions import BotoCoreError, ClientError

from invoicing.domain.clock import is_time_zone
from invoicing.domain.models import Currency, Role
from invoicing.errors import DomainError

CURRENCIES = get_args(Currency)
ROLES = get_args(Role)
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class UsageError(Exception):
    pass


def _stack_table(stack_name: str) -> str:
    import boto3

    stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    for output in stacks[0].get("Outputs", []):
        if output["OutputKey"] == "TableName":
            return str(output["OutputValue"])
    raise UsageError(f"stack {stack_name} has no TableName output")


def select_backend(*, force_aws: bool, table: str | None, stack_name: str | None,
                   port: int | None = None) -> dict[str, Any]:
    """Configure boto3 and TABLE_NAME for the chosen backend; describe it."""
    from devstack import local

    if force_aws:
        for name in ENDPOINT_VARIABLES:
            os.environ.pop(name, None)
    configured = next((os.environ[name] for name in ENDPOINT_VARIABLES if os.environ.get(name)), None)
    if not force_aws and configured is None:
        try:
            state = local.running_state(port)
        except local.StackChoiceError as error:
            raise UsageError(str(error)) from None
        if state is not None:
            local.use_endpoint(state.endpoint_url, table or state.table_name, state.region)
            return {"backend": "local", "endpoint_url": state.endpoint_url, "table": table or state.table_name}
        # A stack that left its state file behind is not a reason to fall through to real AWS.
        stale = local.recorded_states(port)
        if stale:
            path, state = stale[0]
            raise UsageError(f"the local stack in {path} does not answer at {state.endpoint_url}; "
                             "start it with `invoicing-local serve`, or pass --aws")
    table = table or (_stack_table(stack_name) if stack_name else None) or os.environ.get("TABLE_NAME")
    if not table:
        where = f"the endpoint {configured}" if configured else "AWS"
        raise UsageError(f"no local stack is running, so this would use {where}: name its table with --table, "
                         "TABLE_NAME or --stack-name (or start a local stack with `invoicing-local serve`)")
    os.environ["TABLE_NAME"] = table
    local.reset_clients()
    return {"backend": "endpoint" if configured else "aws", "endpoint_url": configured, "table": table}


# ---------------------------------------------------------------------------------------- commands
def validate(args: argparse.Namespace) -> None:
    """Check the arguments before any backend is touched; normalises them in place."""
    if args.command == "create-business":
        args.name = args.name.strip()
        if not args.name or len(args.name) > 200:
            raise UsageError("--name must be 1 to 200 characters")
        currency = args.currency.strip().upper()
        if currency not in CURRENCIES:
            raise UsageError(f"--currency must be one of {', '.join(CURRENCIES)}, not {args.currency!r}")
        args.currency = currency
        if not is_time_zone(args.timezone):
            raise UsageError(f"--timezone {args.timezone!r} is not an IANA time zone (e.g. UTC, America/New_York)")
    elif args.command == "create-token":
        args.business_id = args.business_id.strip().lower()
        if not UUID.match(args.business_id):
            raise UsageError(f"--business-id {args.business_id!r} is not a UUID")
        if args.expires_in_days is not None and not 1 <= args.expires_in_days <= 36500:
            raise UsageError("--expires-in-days must be between 1 and 36500")
        if args.expires_at is not None:
            args.expires_at = expiry(args.expires_at)


def expiry(text: str) -> datetime:
    """``--expires-at``: an ISO 8601 time with its time zone (``Z`` or an offset), in the future."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--expires-at {text!r} is not an ISO 8601 time, e.g. 2030-01-31T18:00:00Z") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(f"--expires-at {text!r} has no time zone: add Z or an offset such as +01:00")
    if moment <= datetime.now(UTC):
        raise UsageError(f"--expires-at {text!r} is not in the future")
    return moment


def create_business(args: argparse.Namespace) -> dict[str, Any]:
    from invoicing.storage import auth

    return auth.create_business(args.name, args.currency, args.timezone).model_dump()


def create_token(args: argparse.Namespace) -> dict[str, Any]:
    from invoicing.storage import auth

    business_id = args.business_id
    business = auth.get_business(business_id)  # NotFound for an unknown business
    email = args.email or f"{args.role}+{os.urandom(4).hex()}@{business.id}.invalid"
    user_id = auth.create_user(email)
    auth.add_member(business.id, user_id, args.role)
    token = auth.create_token(user_id, expires_in_days=args.expires_in_days, expires_at=args.expires_at)
    return {**token, "business_id": business.id, "role": args.role, "email": email}


def revoke_token(args: argparse.Namespace) -> dict[str, Any]:
    from invoicing.storage import auth

    token_id = auth.revoke_token(token_id=args.token_id, secret=args.token)
    return {"token_id": token_id, "revoked": True}


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    backend = common.add_argument_group("backend")
    backend.add_argument("--aws", action="store_true", help="use AWS, even when a local stack is running")
    backend.add_argument("--table", help="the table's name (default: the local stack's, or TABLE_NAME)")
    backend.add_argument("--stack-name", help="read the table's name from this CloudFormation stack")
    backend.add_argument("--port", type=int, help="the local stack on this port (default: $PORT, else the only one)")
    top = argparse.ArgumentParser(prog="invoicing-admin", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    biz = sub.add_parser("create-business", help="create a business", parents=[common])
    biz.add_argument("--name", required=True)
    biz.add_argument("--currency", required=True, help=f"default currency: {', '.join(CURRENCIES)}")
    biz.add_argument("--timezone", default="UTC", help="IANA time zone (default UTC)")
    biz.set_defaults(run=create_business)

    tok = sub.add_parser("create-token", help="create a user with a role in a business, and its API token",
                         parents=[common])
    tok.add_argument("--business-id", required=True)
    tok.add_argument("--role", required=True, choices=ROLES)
    tok.add_argument("--email", help="the user's email (default: a placeholder)")
    expires = tok.add_mutually_exclusive_group()
    expires.add_argument("--expires-in-days", type=int, help="default: never expires")
    expires.add_argument("--expires-at", help="an exact expiry, ISO 8601 with a time zone "
                                              "(e.g. 2030-01-31T18:00:00Z; to the second)")
    tok.set_defaults(run=create_token)

    rev = sub.add_parser("revoke-token", parents=[common],
                         help="revoke a token (it stops working within the authorizer cache TTL)")
    which = rev.add_mutually_exclusive_group(required=True)
    which.add_argument("--token-id")
    which.add_argument("--token", help="the secret itself (dz_...)")
    rev.set_defaults(run=revoke_token)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        validate(args)
        backend = select_backend(force_aws=args.aws, table=args.table, stack_name=args.stack_name, port=args.port)
        where = {"local": "the local stack at ", "endpoint": "the endpoint ", "aws": "AWS"}[backend["backend"]]
        print(f"invoicing-admin: using {where}{backend['endpoint_url'] or ''}, table {backend['table']}",
              file=sys.stderr)
        result = args.run(args)
    except (UsageError, DomainError, BotoCoreError, ClientError) as error:
        print(json.dumps({"error": str(error)}), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
