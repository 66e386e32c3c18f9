#!/usr/bin/env bash
# Full size: every method x 5 seeds on a full dataset, then (DigitsMM) COMET's ablations (hours on 2 CPU cores).
# The README's tables come from tools/compare_tables.sh (ci size).
#   bash tools/compare_full.sh               # DigitsMM, modality-incremental, plus ablations
#   bash tools/compare_full.sh fashionsound  # FashionSound, class-incremental
# Seeds run outermost, so a partial run still covers every method. Finished runs are skipped and an
# interrupted one resumes, so this can be stopped and re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1
CONFIG=${1:-digitsmm}
OUT=${OUT:-runs/compare-$CONFIG-full}
for seed in 0 1 2 3 4; do cmwb compare "$CONFIG" --set data=$CONFIG:full --seeds $seed --out "$OUT/methods"; done
cmwb compare "$CONFIG" --set data=$CONFIG:full --seeds 0,1,2,3,4 --out "$OUT/methods"     # the table over all seeds
[ "$CONFIG" = digitsmm ] || exit 0
# COMET's ablations (the same script as at ci size; its `all` variant re-runs comet under its own folder)
OUT=$OUT/ablations bash tools/compare_ablations.sh comet full
