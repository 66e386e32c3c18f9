#!/usr/bin/env bash
# The README's results tables: every method x 5 seeds on DigitsMM, FashionSound and MixMM, with `cmwb compare`.
#   bash tools/compare_tables.sh            # ci size (the README's tables)
#   bash tools/compare_tables.sh full       # full size (hours on 2 CPU cores)
# Two workers split the seeds (finished runs are reused, an interrupted one resumes), then one `cmwb compare` over
# all five seeds writes each table: OUT/CONFIG/results.md, results.csv and tests.csv (mean ± 95% CI, paired tests vs finetune),
# and OUT/CONFIG-vs-unicode/results.md (COMET and CMG against Uni-Code on the same runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SIZE=${1:-ci}
OUT=${OUT:-runs/tables-$SIZE}
# every method but comet-cmg: CMG's parts need sequences (configs/digitsmm-seq-cmg.yaml), and cmg itself is here to
# show what its recipe does with pooled features
METHODS=${METHODS:-finetune,joint,ewc,lwf,er,dns,unicode,comet,cma,comm,cmg}
for config in ${CONFIGS:-digitsmm fashionsound mixmm}; do
  cmwb compare "$config" --methods $METHODS --set data=$config:$SIZE --seeds 0,2,4 --out "$OUT/$config" > /dev/null &
  cmwb compare "$config" --methods $METHODS --set data=$config:$SIZE --seeds 1,3 --out "$OUT/$config" > /dev/null
  wait
  cmwb compare "$config" --methods $METHODS --set data=$config:$SIZE --seeds 0,1,2,3,4 --out "$OUT/$config"
  # the paper's comparison: COMET against static Uni-Code (ours and CMG's), paired over the same runs
  rm -rf "$OUT/$config-vs-unicode" && cp -r "$OUT/$config" "$OUT/$config-vs-unicode"
  cmwb compare "$config" --set data=$config:$SIZE --methods unicode,comet,cmg --reference unicode --seeds 0,1,2,3,4 \
    --out "$OUT/$config-vs-unicode"
done
