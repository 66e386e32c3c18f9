"""Where a sequence modality's clip-level code agreement is lost: in each finished run's saved test items after the last
stage, against the code most of the partner's items of the same concept pick (a proxy for the paired figure, since the
saved items of two modalities are not the same pairs). Per run: `modal` (the clip's modal code, ties to the smallest,
is the partner's), `best_tie` (the partner's code is among the tied modal codes), `tied` (the clip's modal code is
tied), `per_position` (share of time steps on the partner's code), `one_code` (every time step on one code), and
`at_0`, `at_1`, ... (share of clips whose step 0, 1, ... is on the partner's code).
    python tools/modal_ties.py 'runs/tables-full/digitsmm/comet-s*' audio text"""
import collections, glob, statistics, sys
from safetensors.torch import load_file
from cmwb.tables import finished_runs

def tie_figures(run:str, a:str, b:str) -> dict:
    "The figures above for modality `a` against partner `b` in `run`'s last saved stage."
    last = sorted(glob.glob(f'{run}/embeddings/stage*.safetensors'))[-1]
    saved = load_file(last)
    codes, labels = saved[f'{a}.code'].long(), saved[f'{a}.label'].long()
    partner, partner_labels = saved[f'{b}.code'].long()[:, 0], saved[f'{b}.label'].long()
    usual = {int(c): collections.Counter(partner[partner_labels == c].tolist()).most_common(1)[0][0]
             for c in partner_labels.unique()}
    counts = dict(modal=0, best_tie=0, tied=0, per_position=0., one_code=0)
    kept = [(row, usual[int(c)]) for row, c in zip(codes.tolist(), labels.tolist()) if int(c) in usual]
    for row, target in kept:
        n = collections.Counter(row)
        top = max(n.values())
        tied = sorted(k for k, v in n.items() if v == top)
        counts['modal'] += tied[0] == target
        counts['best_tie'] += target in tied
        counts['tied'] += len(tied) > 1
        counts['per_position'] += row.count(target) / len(row)
        counts['one_code'] += len(n) == 1
        for t, code in enumerate(row):
            counts[f'at_{t}'] = counts.get(f'at_{t}', 0) + (code == target)
    return {k: v / len(kept) for k, v in counts.items()}

if __name__ == '__main__':
    pattern, a, b = sys.argv[1:4]
    runs = [str(r) for r in finished_runs(pattern)]
    if not runs: sys.exit(f"no finished runs match {pattern}")
    per_run = [tie_figures(r, a, b) for r in runs]
    for k in per_run[0]:
        print(f"{k:13s} mean {statistics.mean(f[k] for f in per_run):.3f}  per run " + ' '.join(f"{f[k]:.2f}" for f in per_run))
