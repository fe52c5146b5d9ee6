#!/usr/bin/env bash
# Prints the path of a Python 3.12, the functions' runtime: `sam build` (no container) needs one on
# PATH, and MiniStack runs the functions on its own interpreter, so its venv is made from one.
# PYTHON312 first, then python3.12 on PATH, then pyenv's (its shims answer only for the active
# version, and `uv python find` trips on them). Nothing is downloaded.
set -euo pipefail

for candidate in "${PYTHON312:-}" "$(command -v python3.12 || true)" \
    "$(PYENV_VERSION=3.12 pyenv which python3.12 2>/dev/null || true)" \
    "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.12*/bin/python3.12; do
    if [[ -n $candidate && -x $candidate ]] \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null; then
        echo "$candidate"
        exit 0
    fi
done
echo "No Python 3.12 found (the functions' runtime is python3.12). Install one, or set" \
    "PYTHON312=/path/to/python3.12." >&2
exit 1
