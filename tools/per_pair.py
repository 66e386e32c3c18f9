"""Per trained pair, means over a method's seeds in one folder of runs: R@1 when the pair is learned and after the last
stage with its chance, and for codebook methods pair code agreement when learned and at the end with the chance of
each, the codes each side uses at the end, the share of each side's saved test items whose modal code no saved item of
the other side picks at the end (`off_a`, `off_b`: such an item can agree with no partner) and, where the codebook
grew, the share that pick a code grown after the first stage (`grown_a`, `grown_b`; a mediator frozen after its first
stage cannot pick one, so such an item is off its partner's code).
  python tools/per_pair.py runs/seq-cometcmg cmg comet-cmg"""
import json, statistics, sys
import torch
from cmwb.tables import finished_runs

def pair_figures(folder:str, method:str) -> dict:
    "Trained pair -> its figures, means over the runs `folder/method-s*` (from each run's matrices.json)."
    done = finished_runs(f'{folder}/{method}-s*')
    runs = [json.load(open(f/'matrices.json')) for f in done]
    if not runs: raise SystemExit(f"no finished runs {folder}/{method}-s*")
    stages = runs[0]['stages']
    codebook = 'code_agree' in runs[0]['metrics']
    shares = saved_shares(done, runs) if codebook else {}
    out = {}
    for j, task in enumerate(runs[0]['tasks'][:len(stages)]):
        at = lambda key, row: statistics.mean(r['metrics'][key][row][j] for r in runs)
        out[task] = dict(r1_learned=at('r1', j), r1_end=at('r1', -1), r1_chance=at('r1_chance', j))
        if codebook:
            out[task].update(
                agree_learned=at('code_agree', j), agree_learned_chance=at('code_agree_chance', j),
                agree_end=at('code_agree', -1), agree_end_chance=at('code_agree_chance', -1),
                codes_a=at('code_used_a', -1), codes_b=at('code_used_b', -1),
            )
            out[task].update(shares.get(task, {}))
        out[task]['runs'] = len(runs)
    return out

def saved_shares(done:list, runs:list) -> dict:
    "Trained pair -> mean shares of each side's saved test items after the last stage: `off_a`/`off_b`, and where"
    # the codebook grew `grown_a`/`grown_b` (see the module's docstring); each run's embeddings and config are read
    # once. The modal code is the agreement figure's (cmwb.evaluate.modal_code: ties to the smallest code, so an item
    # whose positions tie between an old and a grown code counts as old); the saved sample is up to 300 items a modality
    import yaml
    from safetensors.torch import load_file
    from cmwb.evaluate import modal_code
    shares = {}
    for f, matrices in zip(done, runs):
        n_codes = matrices['metrics']['n_codes']
        first = n_codes[0][0]
        grew = first is not None and n_codes[-1][0] != first
        saved = load_file(f/f"embeddings/stage{len(matrices['stages']) - 1:02d}.safetensors")
        # each modality's modal codes once (the mediator is in every stage)
        code = {k[:-len('.code')]: modal_code(v) for k, v in saved.items() if k.endswith('.code')}
        for stage in yaml.safe_load(open(f/'config.yaml'))['schedule']['stages']:
            a, b = stage['modalities'][:2]
            pair = shares.setdefault(stage['name'], {})
            for side, m, other in (('a', a, b), ('b', b, a)):
                off = ~torch.isin(code[m], code[other].unique())
                pair.setdefault(f'off_{side}', []).append(float(off.float().mean()))
                if grew: pair.setdefault(f'grown_{side}', []).append(float((code[m] >= first).float().mean()))
    return {task: {k: statistics.mean(v) for k, v in pair.items()} for task, pair in shares.items()}

if __name__ == '__main__':
    folder, methods = sys.argv[1], sys.argv[2:]
    for m in methods:
        print(m)
        for task, f in pair_figures(folder, m).items():
            print(f"  {task:14s} " + ' '.join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in f.items()))
