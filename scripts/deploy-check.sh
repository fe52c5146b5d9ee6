#!/usr/bin/env bash
# The deployable artefact, deployed: `sam build` and `sam deploy` the unchanged template.yaml to
# MiniStack (a local AWS emulator, run from .ministack-venv on Python 3.12, bound to loopback),
# create a business and an owner token with the admin CLI, then run the e2e suite against the
# deployed stage (tests/e2e in its E2E_BASE_URL mode; tests/e2e/ministack_divergences.py lists
# where MiniStack is not AWS and probes each). Stops all it started, by PID. `make deploy-check`;
# a phase of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

STACK_NAME=${DEPLOY_CHECK_STACK:-dayzero-invoicing}  # samconfig.toml's
REGION=us-east-1
export SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=$REGION AWS_REGION=$REGION
# Any credentials do for MiniStack; these keep boto3 and the SAM CLI from looking for real ones.
export AWS_ACCESS_KEY_ID=deploy-check AWS_SECRET_ACCESS_KEY=deploy-check
unset AWS_SESSION_TOKEN AWS_PROFILE

python312=$(scripts/python312.sh)
export PATH="$(dirname "$python312"):$PATH"  # sam build (no container) needs the runtime's Python

# MiniStack unpacks the layer for each function (some 80 MB each, 0.9 GB in all): on tmpfs when
# there is one, where writing it and removing it cost no disk time (on disk, removing it alone
# took 40-75 s here).
scratch=/dev/shm
[[ -d $scratch && -w $scratch ]] || scratch=${TMPDIR:-/tmp}
work=$(mktemp -d "$scratch/deploy-check.XXXXXX")
ministack_pid=
stop() {
    local status=$?
    if [[ -n $ministack_pid ]]; then
        # MiniStack leads a process group of its own (setsid): it and the function workers it started.
        kill -TERM -- "-$ministack_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 -- "-$ministack_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$ministack_pid" 2>/dev/null || true
        ((status == 0)) || { echo "--- MiniStack's log (last 60 lines)"; tail -n 60 "$work/ministack.log"; } >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap stop EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port

# What it may listen on: loopback only. Its IoT mTLS and SFTP listeners stay off; its pid file,
# log and the functions' unpacked code go to $work. Its function workers inherit its environment
# (ministack_divergences: environment), so it gets nothing of this shell's but PATH and HOME, and
# the functions' tracer is off (xray: there is no X-Ray daemon to send to).
start=$SECONDS
env -i PATH="$PATH" HOME="$HOME" TMPDIR="$work" BIND_HOST=127.0.0.1 GATEWAY_PORT="$port" IOT_MTLS_ENABLED=0 \
    SFTP_ENABLED=0 LOG_LEVEL=WARNING POWERTOOLS_TRACE_DISABLED=true \
    setsid .ministack-venv/bin/ministack >"$work/ministack.log" 2>&1 &
ministack_pid=$!
until python3 -c "import urllib.request; urllib.request.urlopen('$endpoint/_ministack/health', timeout=1)" 2>/dev/null; do
    kill -0 "$ministack_pid" 2>/dev/null || { echo "MiniStack exited" >&2; exit 1; }
    ((SECONDS - start < 60)) || { echo "MiniStack did not answer in 60 s" >&2; exit 1; }
    sleep 0.2
done
echo "MiniStack $(.ministack-venv/bin/python -c 'import importlib.metadata as m; print(m.version("ministack"))') on $endpoint (pid $ministack_pid), up in $((SECONDS - start))s"

# Every socket the processes of MiniStack's session listen on (TCP) or may receive on (UDP) is
# on loopback; prints them.
only_loopback() {
    local pids listening
    command -v ss >/dev/null || { echo "ss (iproute2) is needed to see what MiniStack listens on" >&2; return 1; }
    pids=$(ps -o pid= -s "$ministack_pid" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
    listening=$(ss -Hltunp | grep -E "pid=(${pids//,/|})," || true)
    echo "$listening" | awk 'NF {print "  listening: " $1 " " $5}'
    if echo "$listening" | awk 'NF {print $5}' | grep -vE '^(127\.[0-9.]+|\[::1\]):[0-9]+$' | grep -q .; then
        echo "MiniStack listens beyond loopback" >&2
        return 1
    fi
}
only_loopback

step=$SECONDS
.sam-venv/bin/sam build
echo "sam build took $((SECONDS - step))s"

# samconfig.toml's defaults (capabilities, resolve_s3), without the changeset prompt. The one
# override is for a probe (ministack_divergences: parameter_overrides).
step=$SECONDS
probed_ttl=$(.venv/bin/python -c 'import sys; sys.path.insert(0, "tests/e2e")
from ministack_divergences import PROBED_TOKEN_CACHE_SECONDS; print(PROBED_TOKEN_CACHE_SECONDS)')
AWS_ENDPOINT_URL=$endpoint .sam-venv/bin/sam deploy --stack-name "$STACK_NAME" --region "$REGION" \
    --no-confirm-changeset --no-progressbar --parameter-overrides "TokenCacheSeconds=$probed_ttl" \
    >"$work/deploy.log" 2>&1 || { cat "$work/deploy.log" >&2; exit 1; }
grep -E '^(Successfully|Value )' "$work/deploy.log" || true
echo "sam deploy took $((SECONDS - step))s"

export AWS_ENDPOINT_URL=$endpoint
# The stage's URL on MiniStack: ApiUrl names AWS's host, https://<api>.execute-api.<region>...
# /<stage>/api/v1; MiniStack serves the same stage at /_aws/execute-api/<api>/<stage>/api/v1.
base_url=$(.venv/bin/python - "$STACK_NAME" "$endpoint" <<'EOF'
import sys
from urllib.parse import urlsplit

import boto3

stack_name, endpoint = sys.argv[1:]
outputs = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]["Outputs"]
api_url = urlsplit(next(o["OutputValue"] for o in outputs if o["OutputKey"] == "ApiUrl"))
print(f"{endpoint}/_aws/execute-api/{api_url.hostname.split('.')[0]}{api_url.path}")
EOF
)
json_field() { .venv/bin/python -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
business=$(.venv/bin/invoicing-admin create-business --name "Deploy check" --currency USD --timezone UTC \
    --stack-name "$STACK_NAME" | json_field id)
token=$(.venv/bin/invoicing-admin create-token --business-id "$business" --role owner \
    --email deploy-check@example.com --stack-name "$STACK_NAME" | json_field token)
echo "API $base_url, business $business"

# Two workers, a file each at a time (the schedule probes share what they watch): the files
# that mostly wait (a schedule firing in a minute, MiniStack's scheduler ticks) overlap the rest.
# TMPDIR: where the workers share what was probed before the tests (tests/e2e/conftest.py).
step=$SECONDS
status=0
E2E_BASE_URL=$base_url E2E_TOKEN=$token E2E_BUSINESS_ID=$business E2E_STACK_NAME=$STACK_NAME \
    E2E_MINISTACK_URL=$endpoint TMPDIR=$work .venv/bin/pytest -n 2 --dist loadfile -rs --durations=8 tests/e2e \
    || status=$?
echo "the e2e suite on the deployed stack took $((SECONDS - step))s"

only_loopback || status=1  # again, now that the functions' workers run
echo "deploy check took $((SECONDS - start))s"
exit "$status"
