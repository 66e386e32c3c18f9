"""Every method under two conditions (two folders of runs on the same seeds), paired per method.
    python tools/condition_table.py OUT A=FOLDER B=FOLDER [--methods a,b,...] [--metrics final_r1,...]
For each method with finished runs `FOLDER/METHOD-sN` in both folders, and each figure: the mean over the seeds both
conditions ran under A and under B, with B's mark from a paired t-test of B against A over those seeds, Holm-corrected
over the methods (▲/▼: B above/below A, p < 0.05; no mark: no difference shown), and the chance level under B where
the figure has one. OUT/results.md gets the table; it is printed too. The runs must differ only by the condition
(e.g. `--set encoders.audio=logmel-sounding` against the default): the tool reads the figures, not the configs."""
import argparse, glob, math, re, sys
from pathlib import Path
from cmwb.core import CmwbError, write_text
from cmwb.stats import holm, mean_ci, paired_p
from cmwb.tables import COLUMNS, run_row

DEFAULT_METRICS = ['final_r1', 'forget_r1', 'unseen_r1', 'unseen_transfer', 'code_agree_learned', 'code_r1',
                   'unseen_code_transfer']
NAMES = dict(COLUMNS)
CHANCE = {'code_agree_final': 'code_agree_chance'}          # the chance key of a figure, where it is not FIGURE_chance

def runs_of(folder:str) -> dict:
    "method -> seed -> its figures, from the finished runs `METHOD-sSEED` (with summary.json) in `folder`; others skipped, said on stderr."
    out = {}
    for f in sorted(glob.glob(f'{folder}/*-s*')):
        if not (re.fullmatch(r'.+-s\d+', Path(f).name) and Path(f, 'summary.json').exists()):
            continue
        try:
            row = run_row(f)
        except CmwbError as e:
            print(f"skipped {f}: {e}", file=sys.stderr)
            continue
        if Path(f).name != f"{row['method']}-s{row['seed']}":
            print(f"skipped {f}: it holds {row['method']} seed {row['seed']}", file=sys.stderr)
            continue
        out.setdefault(row['method'], {})[row['seed']] = row
    return out

def finite(v) -> bool:
    "Whether a figure is there (not None, not NaN)."
    return v is not None and not math.isnan(v)

def mean(values) -> float:
    "Mean of the finite values (NaN if none): `cmwb.stats.mean_ci`'s."
    return mean_ci(list(values))[0]

def condition_table(a:tuple, b:tuple, methods:list|None=None, metrics:list=DEFAULT_METRICS) -> str:
    "The Markdown table of every method under conditions `a` and `b` ((name, folder) each), B paired against A."
    (na, fa), (nb, fb) = a, b
    ra, rb = runs_of(fa), runs_of(fb)
    both = [m for m in (methods or ra) if m in ra and m in rb]
    for m in set(methods or ra) - set(both):
        print(f"left out {m}: no finished runs in {fb if m in ra else fa}", file=sys.stderr)
    if not both: raise SystemExit(f"no method has finished runs in both {fa} and {fb}")
    seeds = {m: sorted(set(ra[m]) & set(rb[m])) for m in both}
    cells = {m: {} for m in both}
    for k in metrics:
        # per method, the seeds where both conditions have the figure: the means and the test read the same pairs
        pairs = {m: [(ra[m][s].get(k), rb[m][s].get(k)) for s in seeds[m]] for m in both}
        pairs = {m: [(x, y) for x, y in v if finite(x) and finite(y)] for m, v in pairs.items()}
        ps = holm([paired_p([y for _, y in pairs[m]], [x for x, _ in pairs[m]]) for m in both])
        for m, p in zip(both, ps):
            if not pairs[m]:
                cells[m][k] = '–'
                continue
            a_mean, b_mean = mean(x for x, _ in pairs[m]), mean(y for _, y in pairs[m])
            mark = '' if not (p < 0.05 and a_mean != b_mean) else ' ▲' if b_mean > a_mean else ' ▼'
            chance = mean([rb[m][s].get(CHANCE.get(k, f'{k}_chance')) for s in seeds[m]])
            tail = f' ({chance:.3f})' if finite(chance) else ''
            cells[m][k] = f'{a_mean:.3f} → {b_mean:.3f}{mark}{tail}'
    head = ['method', 'seeds', *[f'{NAMES.get(k, k)}: {na} → {nb}' for k in metrics]]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join([m, str(len(seeds[m])), *[cells[m][k] for k in metrics]]) + ' |' for m in both]
    legend = (f"Means over the seeds both conditions ran (with the figure). ▲/▼: {nb} above/below {na} in a paired t-test over those "
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
