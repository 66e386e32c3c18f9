"""One results table of named variants from finished run folders, each paired against a reference variant.
    python tools/variants_table.py OUT REFERENCE NAME=GLOB [NAME=GLOB ...]
Every finished run folder matching GLOB (e.g. 'runs/tables-ci/mixmm/comet-s*') becomes a row of variant NAME; OUT/results.md gets the table (cmwb.tables.aggregate:
mean ± 95% CI over seeds, paired t-tests against REFERENCE, Holm-corrected) and its legend, OUT/results.csv the rows and
OUT/tests.csv every test behind the marks (cmwb.tables.write_tables, as `cmwb compare` writes them)."""
import glob, sys
from pathlib import Path
from cmwb.tables import run_row, write_tables

out, reference, pairs = Path(sys.argv[1]), sys.argv[2], [a.split('=', 1) for a in sys.argv[3:]]
rows = [dict(run_row(f), method=name) for name, pattern in pairs for f in map(Path, sorted(glob.glob(pattern)))
        if (f/'summary.json').exists()]
print(write_tables(rows, out, reference=reference))
