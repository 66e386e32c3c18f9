"""Every method under two conditions (two folders of runs on the same seeds), paired per method.
    python tools/condition_table.py OUT A=FOLDER B=FOLDER [--methods a,b,...] [--metrics final_r1,...]
For each method with finished runs `FOLDER/METHOD-sN` in both folders, and each figure: the mean over the seeds both
conditions ran under A and under B, with B's mark from a paired t-test of B against A over those seeds, Holm-corrected
over the methods (▲/▼: B above/below A, p < 0.05; no mark: no difference shown), and the chance level under B where
the figure has one. OUT/results.md gets the table; it is printed too. The runs must differ only by the condition
(e.g. `--set encoders.audio=logmel-sounding` against the default): the tool reads the figures, not the configs."""
import argparse, glob, math, re
from pathlib import Path
from cmwb.core import write_text
from cmwb.stats import holm, paired_p
from cmwb.tables import COLUMNS, run_row

DEFAULT_METRICS = ['final_r1', 'forget_r1', 'unseen_r1', 'unseen_transfer', 'code_agree_learned', 'code_r1',
                   'unseen_code_transfer']
NAMES = dict(COLUMNS)

def runs_of(folder:str) -> dict:
    "method -> seed -> its figures, from the finished runs (those with summary.json) in `folder`."
    out = {}
    for f in sorted(glob.glob(f'{folder}/*-s*')):
        if re.fullmatch(r'.+-s\d+', f) and Path(f, 'summary.json').exists():
            row = run_row(f)
            out.setdefault(row['method'], {})[row['seed']] = row
    return out

def mean(values) -> float:
    "Mean of the finite values (NaN if none)."
    xs = [v for v in values if v is not None and not math.isnan(v)]
    return sum(xs) / len(xs) if xs else math.nan

def condition_table(a:tuple, b:tuple, methods:list|None=None, metrics:list=DEFAULT_METRICS) -> str:
    "The Markdown table of every method under conditions `a` and `b` ((name, folder) each), B paired against A."
    (na, fa), (nb, fb) = a, b
    ra, rb = runs_of(fa), runs_of(fb)
    both = [m for m in (methods or ra) if m in ra and m in rb]
    if not both: raise SystemExit(f"no method has finished runs in both {fa} and {fb}")
    seeds = {m: sorted(set(ra[m]) & set(rb[m])) for m in both}
    cells = {m: {} for m in both}
    for k in metrics:
        xa = {m: [ra[m][s].get(k) for s in seeds[m]] for m in both}
        xb = {m: [rb[m][s].get(k) for s in seeds[m]] for m in both}
        ps = holm([paired_p(xb[m], xa[m]) for m in both])
        for m, p in zip(both, ps):
            up = mean(xb[m]) > mean(xa[m])
            mark = '' if not p < 0.05 else ' ▲' if up else ' ▼'
            chance = mean([rb[m][s].get(f'{k}_chance') for s in seeds[m]])
            tail = f' ({chance:.3f})' if not math.isnan(chance) else ''
            cells[m][k] = '–' if math.isnan(mean(xa[m])) else f'{mean(xa[m]):.3f} → {mean(xb[m]):.3f}{mark}{tail}'
    head = ['method', 'seeds', *[f'{NAMES.get(k, k)}: {na} → {nb}' for k in metrics]]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join([m, str(len(seeds[m])), *[cells[m][k] for k in metrics]]) + ' |' for m in both]
    legend = (f"Means over the seeds both conditions ran. ▲/▼: {nb} above/below {na} in a paired t-test over those "
              f"seeds, Holm-corrected over the methods per figure, p < 0.05; no mark: no difference shown. In brackets: "
              f"the figure's chance level under {nb}. {na}: `{fa}`; {nb}: `{fb}`.")
    return '\n'.join(lines) + '\n\n' + legend

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out')
    ap.add_argument('a', help='NAME=FOLDER, the condition compared against')
    ap.add_argument('b', help='NAME=FOLDER, the condition tested')
    ap.add_argument('--methods', help='comma-separated (default: every method in both folders)')
    ap.add_argument('--metrics', default=','.join(DEFAULT_METRICS), help='comma-separated run_row keys')
    args = ap.parse_args()
    pair = lambda s: tuple(s.split('=', 1)) if '=' in s else ap.error(f"{s!r}: give NAME=FOLDER")
    table = condition_table(pair(args.a), pair(args.b), args.methods and args.methods.split(','),
                            args.metrics.split(','))
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write_text(Path(args.out)/'results.md', table + '\n')
    print(table)

if __name__ == '__main__':
    main()
