#!/usr/bin/env bash
# The body of `make test`: every check CI runs, in order, each timed. A failing check does not
# stop the later ones (one CI run reports everything); the exit status is non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

export SAM_CLI_TELEMETRY=0
# sam validate and cfn-lint need a region; dummy credentials keep anything from looking further.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"

PYTEST_ARGS=${PYTEST_ARGS:-"-n auto"}
summary=()
failed=()

phase() {
    local name=$1
    shift
    echo
    echo "==> ${name}: $*"
    local start=$SECONDS status=0
    "$@" || status=$?
    local took=$((SECONDS - start))
    if ((status == 0)); then
        summary+=("$(printf '  %-22s %4ds  ok' "$name" "$took")")
    else
        summary+=("$(printf '  %-22s %4ds  FAILED (exit %d)' "$name" "$took" "$status")")
        failed+=("$name")
    fi
}

report() {
    echo
    echo "==> make test: time per phase"
    printf '%s\n' "${summary[@]}"
    echo "  total                  $((SECONDS))s"
}

# The venvs install in parallel (uv, from the locks); nothing else can run without them, so a
# failure here stops.
phase install make --no-print-directory -j3 --output-sync=target install sam ministack PYTHON="${PYTHON:-python3}"
if ((${#failed[@]})); then
    report
    exit 1
fi

phase "locks up to date" make --no-print-directory -s lock-check PYTHON="${PYTHON:-python3}"
phase "ruff check" .venv/bin/ruff check .
phase mypy .venv/bin/mypy
phase cfn-lint .venv/bin/cfn-lint template.yaml
phase "sam validate --lint" .sam-venv/bin/sam validate --lint
phase "sam validate" .sam-venv/bin/sam validate --region us-east-1
phase "sam build + imports" scripts/check-build.sh
phase "openapi drift" .venv/bin/python -m devstack.openapi --check
# shellcheck disable=SC2086 # PYTEST_ARGS is a list of words
phase pytest .venv/bin/pytest $PYTEST_ARGS

# The integration suite again, with DynamoDB on AWS's DynamoDB Local instead of moto: a real
# engine (its own concurrency, 25-item BatchWriteItem, expression rules). The race tests and the
# local stack served on DynamoDB Local (marker dynamodb_local) only run here.
on_dynamodb_local() {
    local endpoint status=0
    endpoint=$(scripts/dynamodb-local.sh start) || return 1
    # shellcheck disable=SC2086
    DYNAMODB_LOCAL_ENDPOINT=$endpoint .venv/bin/pytest $PYTEST_ARGS tests/integration \
        tests/e2e/test_batch_local_stack.py::test_with_dynamodb_local_the_queues_stay_on_moto || status=$?
    scripts/dynamodb-local.sh stop
    return "$status"
}
trap 'scripts/dynamodb-local.sh stop' EXIT
phase "pytest on DynamoDB Local" on_dynamodb_local

# The deployable artefact, deployed: sam build + sam deploy of template.yaml to MiniStack, then
# the e2e suite against the deployed stage (scripts/deploy-check.sh; `make deploy-check` alone).
phase "deploy check" scripts/deploy-check.sh

report
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "All checks passed."
