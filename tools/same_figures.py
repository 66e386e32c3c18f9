"""Does this checkout make bit-identical runs to another commit? (How a results table may keep rows of older commits.)
    python tools/same_figures.py OLD_COMMIT [METHOD ...] [--config CONFIG] [--set KEY=VALUE ...] [--added NAME ...]
Checks OLD_COMMIT out into a temporary git worktree, runs each METHOD (default: every registered method) there and
here on CONFIG (default DigitsMM ci: 4 stages; 2 epochs per stage, seed 0, one thread, with the --set overrides), and
compares, per method, the sha256 of
`matrices.json`, `summary.json` (without timings and the commit) and every tensor of the final embeddings and the
last checkpoint. Prints IDENTICAL or what differs (for the tensor files, which tensors), per method; exits 1 if any
method differs. `--added NAME` names a figure (a `matrices.json` metric) or a checkpoint tensor that this checkout adds:
where the old run lacks it, it is left out on both sides and the new run must have it; where the old run has it, it is
compared like everything else."""
import argparse, hashlib, json, os, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = ('time', 'commit', 'second', '_sha256', 'elapsed')

def sha(b:bytes) -> str:
    return hashlib.sha256(b).hexdigest()[:16]

def tensor_files(run:Path) -> list[str]:
    "The run's final embeddings and last checkpoint (of its last stage, whatever the schedule)."
    last = sorted(run.glob('embeddings/stage*.safetensors'))[-1].stem
    return [f'embeddings/{last}.safetensors', f'checkpoints/{last}-done.safetensors']

def names_in(run:Path, names) -> set:
    "Which of `names` the run has, as a `matrices.json` metric or a tensor of `tensor_files`."
    from safetensors import safe_open
    have = set(json.loads((run/'matrices.json').read_text())['metrics'])
    for name in tensor_files(run):
        with safe_open(run/name, 'np') as f: have |= set(f.keys())
    return set(names) & have

def digest(run:Path, drop=()) -> dict:
    "The figures and tensors of one finished run, as short hashes, without the metrics and tensors named in `drop`."
    from safetensors.numpy import load_file
    m = json.loads((run/'matrices.json').read_text())
    m.pop('_sha256', None)
    m['metrics'] = {k: v for k, v in m['metrics'].items() if k not in drop}
    s = json.loads((run/'summary.json').read_text())
    s = {k: v for k, v in s.items() if not any(w in k for w in VOLATILE)}
    out = dict(matrices=sha(json.dumps(m, sort_keys=True).encode()), summary=sha(json.dumps(s, sort_keys=True).encode()))
    for name in tensor_files(run):
        tensors = load_file(run/name)
        out[name] = {k: sha(v.tobytes()) for k, v in tensors.items() if k not in drop}     # per tensor: say which differ
    return out

def differences(before:dict, now:dict) -> list[str]:
    "What differs between two digests: a file's name, and for tensor files the tensors that differ (or are missing)."
    out = []
    for k, v in before.items():
        if v == now[k]: continue
        if not isinstance(v, dict): out.append(k); continue
        names = sorted(n for n in v.keys() | now[k].keys() if v.get(n) != now[k].get(n))
        out.append(f"{k} ({', '.join(names[:6])}{', …' if len(names) > 6 else ''})")
    return out

def run_at(code:Path, methods:list, out:Path, config:str='digitsmm', overrides:dict|None=None) -> dict:
    "Run `methods` on `config` with the package in `code` (a separate process, so each side imports its own cmwb); their folders."
    script = ("import sys, json, torch; torch.set_num_threads(1); from cmwb.train import compare; from pathlib import Path; "
              "compare(sys.argv[2], sys.argv[4:], [0], Path(sys.argv[1]), json.loads(sys.argv[3]))")
    env = {**os.environ, 'PYTHONPATH': str(code), 'OMP_NUM_THREADS': '1', 'PYTHONHASHSEED': '0'}
    given = json.dumps({'train.epochs': 2, **(overrides or {})})
    subprocess.run([sys.executable, '-c', script, str(out), config, given, *methods], env=env, cwd=code, check=True,
                   stdout=subprocess.DEVNULL)
    return {m: out/f'{m}-s0' for m in methods}

def compare_runs(old:Path, new:Path, added=()) -> list[str]:
    "What differs between an old and a new run, leaving out the `added` names the old run lacks (which the new must have)."
    drop = set(added) - names_in(old, added)
    missing = drop - names_in(new, drop)
    return differences(digest(old, drop), digest(new, drop)) + [f'{k} (added, but not in the new run)' for k in sorted(missing)]

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('old', help='the commit to compare with')
    ap.add_argument('methods', nargs='*', help='methods (default: every registered one)')
    ap.add_argument('--config', default='digitsmm', help='experiment config (default: digitsmm)')
    ap.add_argument('--set', action='append', default=[], metavar='KEY=VALUE', help='a config override (repeatable)')
    ap.add_argument('--added', action='append', default=[], metavar='NAME',
                    help='a metric or checkpoint tensor this checkout adds, left out of the comparison (repeatable)')
    a = ap.parse_args()
    from cmwb.core import CmwbError
    from cmwb.train import ALL_METHODS, _overrides
    try: overrides = _overrides(a)                 # `cmwb run`'s own reading of --set
    except CmwbError as e: raise SystemExit(str(e))
    old, methods = a.old, a.methods or list(ALL_METHODS)
    with tempfile.TemporaryDirectory(prefix='cmwb-same-') as tmp:
        tree = Path(tmp)/'old'
        subprocess.run(['git', '-C', str(ROOT), 'worktree', 'add', '--detach', str(tree), old], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            before = run_at(tree, methods, Path(tmp)/'runs-old', a.config, overrides)
            now = run_at(ROOT, methods, Path(tmp)/'runs-new', a.config, overrides)
        finally:
            subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(tree)], check=False)
        found = {m: compare_runs(before[m], now[m], a.added) for m in methods}
    differ = 0
    for m, bad in found.items():
        differ += bool(bad)
        print(f"{m:10s} {'IDENTICAL' if not bad else 'differs: ' + ', '.join(bad)}")
    sys.exit(1 if differ else 0)

if __name__ == '__main__':
    main()
