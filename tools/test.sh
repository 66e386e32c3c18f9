#!/usr/bin/env bash
# Set up (tools/setup.sh --test), then check that notebooks and package agree and are clean, run every notebook
# (nbdev_test) and the pytest suite (which includes papermill runs of the experiment notebooks).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh --test
export PATH="$PWD/.venv/bin:$PATH" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONHASHSEED=0 CMWB_DATA="${CMWB_DATA:-$PWD/data}"
snap() { find "$@" -type f \( -name '*.py' -o -name '*.ipynb' \) -not -path '*/.ipynb_checkpoints/*' -print0 | sort -z | xargs -0 sha256sum; }

before=$(snap cmwb); nbdev_export; after=$(snap cmwb)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_export changed cmwb/ - the package is out of sync with nbs/. Commit the exported files:"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u; exit 1
fi
before=$(snap nbs); nbdev_clean >/dev/null; after=$(snap nbs)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev_clean changed notebooks - outputs or metadata were committed. Commit the cleaned files:"
  diff <(echo "$before") <(echo "$after") | grep '^[<>]' | awk '{print "  " $3}' | sort -u; exit 1
fi
# two notebooks at a time, one thread each: on a 2-core machine more threads only contend
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} nbdev_test --n_workers 2 --timing ${NBDEV_TEST_FLAGS:+--flags "$NBDEV_TEST_FLAGS"}
python -m pytest -q -p no:cacheprovider --durations=25 tests "$@"
# a measurement, not a test: how far this machine's figures move from the reference machine's (prints; never fails)
OMP_NUM_THREADS=1 python tools/machine_check.py 2>/dev/null || echo "machine check: could not run"
