#!/usr/bin/env bash
# The README's results tables: every method x 3 seeds on the full DigitsMM, then COMET's ablations.
# Seeds run outermost, so a partial run still covers every method. Finished runs are skipped and an
# interrupted one resumes, so this can be stopped and re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1
OUT=${OUT:-runs/compare-digitsmm-full}
for seed in 0 1 2; do cmwb compare digitsmm --set data=digitsmm:full --seeds $seed --out "$OUT/methods"; done
cmwb compare digitsmm --set data=digitsmm:full --seeds 0,1,2 --out "$OUT/methods"     # the table over all seeds
for ab in "no-pmr method_settings.pmr=null" "no-growth method_settings.grow=false" "no-cmoe method_settings.cmoe=false" "frozen-codes method_settings.old_code_rate=0"; do
  set -- $ab
  cmwb compare digitsmm --methods comet --set data=digitsmm:full --set "$2" --seeds 0,1,2 --out "$OUT/ablation-$1"
done
