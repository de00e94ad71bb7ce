#!/usr/bin/env sh
# Create .venv (Python >= 3.11) and install amc-tf with its pinned stack using uv.
# Usage: sh scripts/install.sh [extras]   e.g. sh scripts/install.sh test
set -eu
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ ! -x .venv/bin/uv ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"
fi
spec="."
if [ "${1:-}" != "" ]; then spec=".[$1]"; fi
.venv/bin/uv pip install --quiet --python .venv/bin/python -e "$spec"
