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
python312=$(scripts/python312.sh)
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
