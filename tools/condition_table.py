"""Every method under two conditions (two folders of runs on the same seeds), paired per method.
    python tools/condition_table.py OUT A=FOLDER B=FOLDER [--methods a,b,...] [--metrics final_r1,...]
For each method with finished runs `FOLDER/METHOD-sN` in both folders, and each figure: the mean over the seeds both
conditions ran under A and under B, with B's mark from a paired t-test of B against A over those seeds, Holm-corrected
over the methods (▲/▼: B above/below A, p < 0.05; no mark: no difference shown), and the chance level under B where
the figure has one. OUT/results.md gets the table; it is printed too. OUT/tests.csv gets every test behind the marks,
one row per figure and method (`cmwb.stats.differences`, as `cmwb compare`'s tests.csv: pairs, mean difference B − A
and its 95% CI, seeds higher and lower, p and Holm p), and a mark is `cmwb.stats.mark` of that row. The runs must
differ only by the condition (e.g. `--set encoders.audio=logmel-sounding` against the default): the tool reads the
figures, not the configs."""
import argparse, math, re, sys
from pathlib import Path
from cmwb.core import CmwbError, write_text
from cmwb.stats import differences, holm, mark, mean_ci
from cmwb.tables import COLUMNS, finished_runs, run_row

DEFAULT_METRICS = ['final_r1', 'forget_r1', 'unseen_r1', 'unseen_transfer', 'code_agree_learned', 'code_r1',
                   'unseen_code_transfer']
NAMES = dict(COLUMNS)
CHANCE = {'code_agree_final': 'code_agree_chance'}          # the chance key of a figure, where it is not FIGURE_chance

def runs_of(folder:str) -> dict:
    "method -> seed -> its figures, from the finished runs `METHOD-sSEED` in `folder` (`cmwb.tables.finished_runs`); others skipped, said on stderr."
    out = {}
    for f in finished_runs(f'{folder}/*-s*'):
        if not re.fullmatch(r'.+-s\d+', f.name):
            continue
        try:
            row = run_row(f)
        except CmwbError as e:
            print(f"skipped {f}: {e}", file=sys.stderr)
            continue
        if f.name != f"{row['method']}-s{row['seed']}":
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

def paired_test(a:dict, b:dict, seeds:list, key:str) -> dict:
    "The paired test of figure `key` under B against A (method -> seed -> figures each) on `seeds`: `cmwb.stats.differences`'s row."
    rows = [dict(method=name, seed=s, **{key: runs[s].get(key)}) for name, runs in (('A', a), ('B', b)) for s in seeds]
    return differences(rows, key, 'A')['B']

def condition_table(a:tuple, b:tuple, methods:list|None=None, metrics:list=DEFAULT_METRICS) -> tuple[str, list]:
    "The Markdown table of every method under conditions `a` and `b` ((name, folder) each), B paired against A, and the tests behind its marks."
    (na, fa), (nb, fb) = a, b
    ra, rb = runs_of(fa), runs_of(fb)
    both = [m for m in (methods or ra) if m in ra and m in rb]
    for m in set(methods or ra) - set(both):
        print(f"left out {m}: no finished runs in {fb if m in ra else fa}", file=sys.stderr)
    seeds = {m: sorted(set(ra[m]) & set(rb[m])) for m in both}
    for m in [m for m in both if not seeds[m]]:
        print(f"left out {m}: no seed has finished runs in both {fa} and {fb}", file=sys.stderr)
    both = [m for m in both if seeds[m]]
    if not both: raise SystemExit(f"no method has finished runs in both {fa} and {fb}")
    cells, tests = {m: {} for m in both}, []
    for k in metrics:
        # per method, the seeds where both conditions have the figure: the means and the test read the same pairs
        pairs = {m: [(ra[m][s].get(k), rb[m][s].get(k)) for s in seeds[m]] for m in both}
        pairs = {m: [(x, y) for x, y in v if finite(x) and finite(y)] for m, v in pairs.items()}
        found = {m: paired_test(ra[m], rb[m], seeds[m], k) for m in both}
        for m, p in zip(both, holm([found[m]['p_raw'] for m in both])):
            if not pairs[m]:
                cells[m][k] = '–'
                continue
            test = dict(figure=k, header=NAMES.get(k, k), method=m, condition=nb, reference=na, **found[m])
            test['p_holm'] = float(p)
            tests.append(test)
            a_mean, b_mean = mean(x for x, _ in pairs[m]), mean(y for _, y in pairs[m])
            shown = mark(test['p_holm'], test['difference'])
            chance = mean([rb[m][s].get(CHANCE.get(k, f'{k}_chance')) for s in seeds[m]])
            tail = f' ({chance:.3f})' if finite(chance) else ''
            cells[m][k] = f'{a_mean:.3f} → {b_mean:.3f}{" " + shown if shown else ""}{tail}'
    head = ['method', 'seeds', *[f'{NAMES.get(k, k)}: {na} → {nb}' for k in metrics]]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    lines += ['| ' + ' | '.join([m, str(len(seeds[m])), *[cells[m][k] for k in metrics]]) + ' |' for m in both]
    legend = (f"Means over the seeds both conditions ran (with the figure). ▲/▼: {nb} above/below {na} in a paired t-test over those "
              f"seeds, Holm-corrected over the methods per figure, p < 0.05; no mark: no difference shown. In brackets: "
              f"the figure's chance level under {nb}. {na}: `{fa}`; {nb}: `{fb}`. Every test: tests.csv.")
    return '\n'.join(lines) + '\n\n' + legend, tests

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('out')
    ap.add_argument('a', help='NAME=FOLDER, the condition compared against')
    ap.add_argument('b', help='NAME=FOLDER, the condition tested')
    ap.add_argument('--methods', help='comma-separated (default: every method in both folders)')
    ap.add_argument('--metrics', default=','.join(DEFAULT_METRICS), help='comma-separated run_row keys')
    args = ap.parse_args()
    pair = lambda s: tuple(s.split('=', 1)) if '=' in s else ap.error(f"{s!r}: give NAME=FOLDER")
    table, tests = condition_table(pair(args.a), pair(args.b), args.methods and args.methods.split(','),
                                   args.metrics.split(','))
    import pandas as pd
    Path(args.out).mkdir(parents=True, exist_ok=True)
    write_text(Path(args.out)/'results.md', table + '\n')
    write_text(Path(args.out)/'tests.csv', pd.DataFrame(tests).to_csv(index=False))
    print(table)

if __name__ == '__main__':
    main()
