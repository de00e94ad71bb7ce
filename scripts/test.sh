#!/usr/bin/env sh
# Install amc-tf with its test extras into .venv and run the test suite (slow tests excluded;
# add `-m slow` to run only those). Extra arguments go to pytest.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh test,dask
# The MLflow UI test renders run pages in headless Chromium: install Debian's package when it is
# missing and this shell may (root with apt-get); otherwise that one test is skipped.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing chromium for the MLflow UI test" >&2
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
    || echo "chromium could not be installed; the MLflow UI test will be skipped" >&2
fi
exec .venv/bin/python -m pytest --durations=30 "$@"
