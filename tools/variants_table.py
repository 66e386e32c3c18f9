"""One results table of named variants from finished run folders, each paired against a reference variant.
    python tools/variants_table.py OUT REFERENCE NAME=GLOB [NAME=GLOB ...]
Every finished run folder matching GLOB (e.g. 'runs/tables-ci/mixmm/comet-s*') becomes a row of variant NAME (a NAME
given twice gathers both GLOBs' runs, e.g. seeds from two folders); OUT/results.md gets the table (cmwb.tables.aggregate:
mean ± 95% CI over seeds, paired t-tests against REFERENCE, Holm-corrected) and its legend, OUT/results.csv the rows and
OUT/tests.csv every test behind the marks and, with codebook methods, OUT/discrete.md their discrete space and codebook
health (cmwb.tables.write_tables, as `cmwb compare` writes them).
A NAME=GLOB that matches no finished run, or a REFERENCE that is none of the NAMEs, is refused before anything is written."""
import sys
from pathlib import Path
from cmwb.tables import finished_runs, run_row, write_tables

if len(sys.argv) < 4 or not all('=' in a for a in sys.argv[3:]):
    sys.exit(__doc__)
out, reference, pairs = Path(sys.argv[1]), sys.argv[2], [a.split('=', 1) for a in sys.argv[3:]]
runs, empty = {}, []
for name, pattern in pairs:
    found = finished_runs(pattern)
    runs.setdefault(name, []).extend(found)
    if not found:
        empty.append(f'{name}={pattern}')
if empty:
    sys.exit(f"variants_table: no finished run folder (one with a COMPLETE marker) matches {', '.join(empty)}; "
             "check the path, or finish those runs first")
if reference not in runs:
    sys.exit(f"variants_table: the reference {reference!r} is none of the variants given ({', '.join(runs)})")
rows = [dict(run_row(f), method=name) for name, folders in runs.items() for f in folders]
print(write_tables(rows, out, reference=reference))
