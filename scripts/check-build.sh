#!/usr/bin/env bash
# Deployability: `sam build` (no container) into .aws-sam/build, then import every function's
# handler from the build output with only its code, its layers and the Lambda python3.12
# runtime's boto3 on the path (tests/deploy/import_handlers.py).
set -euo pipefail
cd "$(dirname "$0")/.."

# boto3 as the python3.12 Lambda runtime ships it (with the botocore, s3transfer, ... it pins).
LAMBDA_BOTO3_VERSION=${LAMBDA_BOTO3_VERSION:-1.34.145}
RUNTIME_DIR=.lambda-runtime
export SAM_CLI_TELEMETRY=0

# sam build (no container) needs an interpreter of the functions' runtime on PATH.
find_python312() {
    local candidate
    for candidate in "${PYTHON312:-}" "$(command -v python3.12 || true)" \
        "$(PYENV_VERSION=3.12 pyenv which python3.12 2>/dev/null || true)" \
        "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12*/bin/python3.12; do
        if [[ -n $candidate && -x $candidate ]] \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}
if ! python312=$(find_python312); then
    echo "check-build: no Python 3.12 found (the functions' runtime is python3.12 and sam build needs it" >&2
    echo "on PATH). Install one, or set PYTHON312=/path/to/python3.12." >&2
    exit 1
fi
export PATH="$(dirname "$python312"):$PATH"
echo "Python 3.12: $python312"

stamp=$RUNTIME_DIR/.stamp-boto3-$LAMBDA_BOTO3_VERSION
if [[ ! -f $stamp ]]; then
    rm -rf "$RUNTIME_DIR"
    "$python312" -m pip install --quiet --disable-pip-version-check --no-input --target "$RUNTIME_DIR" \
        "boto3==$LAMBDA_BOTO3_VERSION"
    touch "$stamp"
fi

start=$SECONDS
.sam-venv/bin/sam build
echo "sam build took $((SECONDS - start))s"

.venv/bin/python tests/deploy/import_handlers.py --build-dir .aws-sam/build --runtime-dir "$RUNTIME_DIR" \
    --python "$python312"
