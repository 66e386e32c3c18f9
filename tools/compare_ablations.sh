#!/usr/bin/env bash
# COMET's ablations on DigitsMM (ci by default), 5 seeds each: one `cmwb compare` per variant (one switch each), then
# one table of every variant with paired tests against the full method (OUT/results.md), from cmwb.tables.
#   bash tools/compare_ablations.sh [ci|full]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
SIZE=${1:-ci}
OUT=${OUT:-runs/ablations-$SIZE}
VARIANTS=(
  "all"
  "no-pmr method_settings.pmr=null"
  "no-growth method_settings.grow=false"
  "no-cmoe method_settings.cmoe=false"
  "no-freeze method_settings.freeze=false"
  "slowed-codes method_settings.old_code_rate=0.1"
  "no-centre method_settings.center_codes=false"
  "no-partner method_settings.partner_codes=0"
)
for v in "${VARIANTS[@]}"; do
  set -- $v
  extra=(); [ $# -gt 1 ] && extra=(--set "$2")
  cmwb compare digitsmm --methods comet --set data=digitsmm:$SIZE "${extra[@]}" --seeds 0,2,4 --out "$OUT/$1" > /dev/null &
  cmwb compare digitsmm --methods comet --set data=digitsmm:$SIZE "${extra[@]}" --seeds 1,3 --out "$OUT/$1" > /dev/null
  wait
done
python - "$OUT" "${VARIANTS[@]}" <<'PY'
import sys
from pathlib import Path
from cmwb.tables import run_row, aggregate
from cmwb.core import write_text
out, names = Path(sys.argv[1]), [v.split()[0] for v in sys.argv[2:]]
rows = [dict(run_row(f), method=f'comet-{n}') for n in names for f in sorted((out/n).glob('comet-s*'))]
table = aggregate(rows, reference='comet-all')           # the table and its legend
write_text(out/'results.md', table + '\n')
print(table)
PY
