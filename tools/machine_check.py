"""How far this machine's figures move from the reference machine's (issue #19): DigitsMM ci, 2 epochs per stage,
seed 0, three methods (finetune, unicode, comet), compared matrix entry by matrix entry with
bench_results/reference-figures.json, which `python tools/machine_check.py --write` made on the development machine.
Prints, per method, IDENTICAL (every entry bit-equal) or the largest absolute difference per metric. It measures and
prints; it asserts nothing (tools/test.sh runs it after the tests, so CI's log records the answer)."""
import json, sys, tempfile
from pathlib import Path
import numpy as np

REF = Path(__file__).resolve().parents[1]/'bench_results'/'reference-figures.json'
METHODS = ['finetune', 'unicode', 'comet']

def run_figures() -> dict:
    "Each method's matrices (metric -> T x J list, None where not evaluated) from fresh runs on this machine."
    import torch
    from cmwb.train import compare
    torch.set_num_threads(1)                                   # the reference used one thread: sums in the same order
    with tempfile.TemporaryDirectory(prefix='cmwb-machine-check-') as folder:   # 41 MB of runs, removed after reading
        out = Path(folder)
        compare('digitsmm', METHODS, [0], out, {'train.epochs': 2})
        return {m: json.loads((out/f'{m}-s0'/'matrices.json').read_text())['metrics'] for m in METHODS}

def largest_moves(ref:dict, now:dict) -> dict:
    "Per metric, the largest absolute difference between two runs' matrices (NaN positions must agree)."
    moves = {}
    for k, a in ref.items():
        x = np.array(a, dtype=float)
        y = np.array(now.get(k, a), dtype=float)
        if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
            moves[k] = float('inf')
        elif not np.array_equal(x, y, equal_nan=True):
            moves[k] = float(np.nanmax(np.abs(x - y)))
    return moves

def main():
    from cmwb.bench import machine
    now = run_figures()
    if '--write' in sys.argv:
        REF.write_text(json.dumps(dict(machine=machine(), figures=now), indent=1) + '\n')
        print(f"reference written to {REF}")
        return
    ref = json.loads(REF.read_text())
    print(f"machine check: this machine {machine().get('cpu')}, reference {ref['machine'].get('cpu')}")
    for m in METHODS:
        moves = largest_moves(ref['figures'][m], now[m])
        worst = sorted(moves.items(), key=lambda kv: -kv[1])[:6]
        print(f"  {m}: " + ('IDENTICAL' if not moves else 'moved: ' + ', '.join(f'{k} {v:.4g}' for k, v in worst)))

if __name__ == '__main__':
    main()
