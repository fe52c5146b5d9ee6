#!/usr/bin/env bash
# layers/shared/requirements.txt (what `sam build` installs into the Lambda layer) is generated
# from uv.lock: the runtime dependencies, no dev or local-stack groups, every version pinned.
#   scripts/layer-requirements.sh          rewrite it (also `make layer-requirements`, `make lock`)
#   scripts/layer-requirements.sh --check  fail if it and the lock disagree (a phase of `make test`)
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-uv}
TARGET=layers/shared/requirements.txt

generate() {
    cat <<'HEADER'
# Generated from uv.lock by `make layer-requirements` (scripts/layer-requirements.sh): do not edit,
# change pyproject.toml's dependencies, then `make lock`. `make test` fails when this file and the
# lock disagree.
# The layer ships boto3 with botocore: aws-xray-sdk (Powertools' tracer) depends on botocore, and
# a layer botocore shadows the runtime's, so it must come with the boto3 that matches it.
HEADER
    "$UV" export --frozen --no-default-groups --no-emit-project --no-hashes --no-header --quiet
}

case "${1:-}" in
--check)
    if ! diff -u "$TARGET" <(generate); then
        echo "$TARGET is out of date with uv.lock: run \`make layer-requirements\`" >&2
        exit 1
    fi
    ;;
"")
    generate >"$TARGET"
    echo "wrote $TARGET"
    ;;
*)
    echo "usage: $0 [--check]" >&2
    exit 2
    ;;
esac
