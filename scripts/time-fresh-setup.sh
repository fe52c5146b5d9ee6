#!/usr/bin/env bash
# How long a newcomer waits: from `git clone` to the curl that `make local` prints answering 201,
# with an empty uv cache (every package downloaded), as the README quotes it.
#   scripts/time-fresh-setup.sh [REPO] [PORT]    (default: this checkout, port 3000)
# Clones into a temporary folder, runs `make local` there (PORT passed through), pastes the
# printed curl, prints the seconds, then stops the stack and removes the folder.
set -euo pipefail

repo=${1:-$(cd "$(dirname "$0")/.." && pwd)}
export PORT=${2:-${PORT:-3000}}
work=$(mktemp -d)
stack_pid=
stop() {
    # make and the stack it exec'd run in their own process group (setsid below): end that group.
    [[ -n $stack_pid ]] && kill -TERM -- "-$stack_pid" 2>/dev/null && wait "$stack_pid" 2>/dev/null
    rm -rf "$work"
}
trap stop EXIT

export UV_CACHE_DIR=$work/uv-cache
start=$(date +%s.%N)
git clone --quiet "$repo" "$work/clone"
cd "$work/clone"
setsid make local >"$work/local.log" 2>&1 &
stack_pid=$!

# The printed curl: from the line starting `curl ` to the first line not ending in a backslash.
curl_command=
until [[ -n $curl_command ]]; do
    if ! kill -0 "$stack_pid" 2>/dev/null; then
        cat "$work/local.log" >&2
        echo "make local exited before printing the curl" >&2
        exit 1
    fi
    sleep 0.2
    curl_command=$(awk '/^curl /{on=1} on{print; if ($0 !~ /\\$/) exit}' "$work/local.log")
    [[ $curl_command =~ \\$ ]] && curl_command=  # not all of it printed yet
done
status=$(eval "$curl_command -o '$work/answer.json' -w '%{http_code}'")
end=$(date +%s.%N)

echo "make local printed its curl; it answered $status ($(head -c 120 "$work/answer.json")...)"
printf 'git clone -> 201: %.1f s (empty uv cache, uv %s)\n' "$(python3 -c "print($end - $start)")" \
    "$(uv --version 2>/dev/null | cut -d' ' -f2 || echo 'from PyPI')"
[[ $status == 201 ]]
