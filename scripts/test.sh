#!/usr/bin/env sh
# Install amc-tf with its test extras into .venv and run the test suite (slow tests excluded;
# add `-m slow` to run only those). Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh test
exec .venv/bin/python -m pytest --durations=30 "$@"
