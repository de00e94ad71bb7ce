#!/usr/bin/env sh
# Install amc-tf into .venv and run the main job on the embedded defaults:
# synthetic RadioML data, VT-CNN2, Prefect without a server, MLflow store under ./mlruns.
# Usage: sh scripts/run.sh [CONFIG]   (default configs/quickstart.yaml)
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec .venv/bin/amc-tf run "${1:-configs/quickstart.yaml}"
