"""How far a results table's figures move when the same runs are made on another CPU code path (issue #19).
    python tools/machine_moves.py REFERENCE_DIR OTHER_DIR [OUT.md]
Both folders hold finished `cmwb compare` runs (METHOD-sSEED) of one config. For every method and figure present in
both, on the seeds both ran, it prints the move of the mean over those seeds (other minus reference), the largest
single-seed move, the reference's 95% CI half-width over the same seeds, whether the mean's move stays inside it, and
the code commits each side's runs were made by (a move is a machine's only if the code made the same figures: say
so where the commits differ). Writes the table to OUT.md if given.
Make OTHER_DIR by re-running the table with another kernel path, e.g.
    ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 cmwb compare digitsmm ... --out OTHER_DIR
(the code path a CPU without AVX-512, e.g. an AMD EPYC before Zen 4, takes: other rounding in matrix products)."""
import sys
from pathlib import Path
import numpy as np
from cmwb.tables import finished_runs, run_row
from cmwb.core import write_text
from cmwb.stats import mean_ci

FIGURES = ['final_r1', 'forget_r1', 'unseen_r1', 'unseen_transfer', 'code_agree_final', 'code_r1',
           'unseen_code_transfer']

def finished_rows(folder:Path) -> dict:
    "(method, supervision, seed) -> the run's row, for every finished run in `folder`."
    return {(r['method'], r['supervision'], r['seed']): r for r in map(run_row, finished_runs(folder/'*-s*'))}

def commits(rows:list) -> str:
    "The short commits of `rows`, each once."
    return ' '.join(sorted({(r['commit'] or '?')[:7] + ('+dirty' if 'dirty' in (r['commit'] or '') else '') for r in rows}))

def moves(ref:dict, other:dict) -> list[dict]:
    "One record per (method, figure) both folders have on the same seeds."
    out = []
    for group in sorted({k[:2] for k in ref} & {k[:2] for k in other}):
        seeds = sorted(k[2] for k in ref if k[:2] == group and k in other)
        name = group[0] if group[1] == 'pairs' else f'{group[0]} ({group[1]})'
        sides = [commits([ref[(*group, s)] for s in seeds]), commits([other[(*group, s)] for s in seeds])]
        for f in FIGURES:
            a = [ref[(*group, s)].get(f) for s in seeds]
            b = [other[(*group, s)].get(f) for s in seeds]
            if not seeds or any(v is None for v in a + b):
                continue
            d = np.array(b, dtype=float) - np.array(a, dtype=float)
            ci = mean_ci(a)[1]                                     # as cmwb compare prints it
            out.append(dict(method=name, figure=f, seeds=len(seeds), mean_move=float(d.mean()),
                            largest_seed_move=float(np.abs(d).max()), ci=ci, inside=bool(abs(d.mean()) <= ci),
                            commits=sides))
    return out

def markdown(recs:list[dict]) -> str:
    "The records as a markdown table, with the count of means inside their CI."
    if not recs:
        return 'No method ran on the same seeds in both folders: nothing to compare.'
    lines = ['| method | figure | seeds | move of the mean | largest move of one seed | reference 95% CI ± | inside | '
             'commits (reference / other) |', '|---|---|---|---|---|---|---|---|']
    for r in recs:
        inside = 'n/a (one seed)' if np.isnan(r['ci']) else 'yes' if r['inside'] else '**no**'
        lines.append(f"| {r['method']} | {r['figure']} | {r['seeds']} | {r['mean_move']:+.3f} | "
                     f"{r['largest_seed_move']:.3f} | {r['ci']:.3f} | {inside} | {r['commits'][0]} / {r['commits'][1]} |")
    inside = sum(r['inside'] for r in recs)
    identical = sum(r['largest_seed_move'] == 0 for r in recs)
    lines.append('')
    lines.append(f"{inside} of {len(recs)} means moved less than their 95% CI half-width; {identical} figures did not "
                 f"move at all; largest move of a mean {max(abs(r['mean_move']) for r in recs):.3f}.")
    return '\n'.join(lines)

def main():
    ref, other = finished_rows(Path(sys.argv[1])), finished_rows(Path(sys.argv[2]))
    text = markdown(moves(ref, other))
    print(text)
    if len(sys.argv) > 3:
        write_text(Path(sys.argv[3]), text + '\n')

if __name__ == '__main__':
    main()
