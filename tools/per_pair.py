"""Per trained pair, means over a method's seeds in one folder of runs: R@1 when the pair is learned and after the last
stage with its chance, and for codebook methods pair code agreement when learned and at the end with the chance of
each, and the codes each side uses at the end.
  python tools/per_pair.py runs/seq-cometcmg cmg comet-cmg"""
import glob, json, statistics, sys

def pair_figures(folder:str, method:str) -> dict:
    "Trained pair -> its figures, means over the runs `folder/method-s*` (from each run's matrices.json)."
    done = sorted(glob.glob(f'{folder}/{method}-s*/COMPLETE'))
    runs = [json.load(open(f.replace('COMPLETE', 'matrices.json'))) for f in done]
    if not runs: raise SystemExit(f"no finished runs {folder}/{method}-s*")
    stages = runs[0]['stages']
    out = {}
    for j, task in enumerate(runs[0]['tasks'][:len(stages)]):
        at = lambda key, row: statistics.mean(r['metrics'][key][row][j] for r in runs)
        out[task] = dict(r1_learned=at('r1', j), r1_end=at('r1', -1), r1_chance=at('r1_chance', j))
        if 'code_agree' in runs[0]['metrics']:           # codebook methods
            out[task].update(
                agree_learned=at('code_agree', j), agree_learned_chance=at('code_agree_chance', j),
                agree_end=at('code_agree', -1), agree_end_chance=at('code_agree_chance', -1),
                codes_a=at('code_used_a', -1), codes_b=at('code_used_b', -1),
            )
        out[task]['runs'] = len(runs)
    return out

if __name__ == '__main__':
    folder, methods = sys.argv[1], sys.argv[2:]
    for m in methods:
        print(m)
        for task, f in pair_figures(folder, m).items():
            print(f"  {task:14s} " + ' '.join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in f.items()))
