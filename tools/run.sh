#!/usr/bin/env bash
# The main job: set everything up, then run the demo on the embedded default data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/cmwb demo "$@"
