#!/usr/bin/env sh
# Install amc-tf into .venv and run the main job on the embedded defaults:
# the whole chain (configs/pipeline_quick.yaml) on synthetic RadioML data, Prefect without a
# server, MLflow store under ./mlruns.
# Usage: sh scripts/run.sh [CONFIG]   (default configs/pipeline_quick.yaml)
set -eu
cd "$(dirname "$0")/.."
sh scripts/install.sh
exec .venv/bin/amc-tf run "${1:-configs/pipeline_quick.yaml}"
