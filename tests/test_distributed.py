"Scale-out on CPU with torchrun and 2 gloo processes: extraction byte for byte, and training steps and runs, against 1 process."
import json, os, sys
from pathlib import Path
from conftest import ROOT, run
from cmwb.train import ALL_METHODS

BIN = Path(sys.executable).parent

def test_two_process_extraction_equals_one_process(ci_manifest, tmp_path):
    "Both with one BLAS thread per process: the same arithmetic, so the same bytes."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    args = lambda store: ['extract', ci_manifest, '--store', tmp_path/store, '--shard-size', 50, '--modalities', 'speech,audio,text']
    run(BIN/'torchrun', '--nproc_per_node=2', '--no-python', BIN/'cmwb', *args('two'), env=env)
    run(BIN/'cmwb', *args('one'), env=env)
    files = lambda s: {p.relative_to(tmp_path/s): p.read_bytes() for p in sorted((tmp_path/s).rglob('shard-*.safetensors'))}
    one, two = files('one'), files('two')
    assert len(one) > 20 and one.keys() == two.keys()
    assert all(one[k] == two[k] for k in one), [str(k) for k in one if one[k] != two[k]]
    from cmwb.core import read_json
    idx = lambda s: sorted((tmp_path/s).rglob('index.json'))
    for a, b in zip(idx('one'), idx('two')):
        ia, ib = read_json(a), read_json(b); ia.pop('created'); ib.pop('created')
        assert ia == ib

def test_two_process_step_equals_one_process_for_every_method():
    "Every method's training step with 13 items split 7 + 6 over 2 gloo ranks: the gradients and the state after the step equal one process's."
    r = run(BIN/'torchrun', '--nproc_per_node=2', ROOT/'tests'/'dp_step.py', env={**os.environ, 'OMP_NUM_THREADS': '1'})
    got = json.loads(r.stdout.split('RESULT ', 1)[1])
    assert sorted(got) == sorted(ALL_METHODS)
    for name, g in got.items():
        assert g['sliced'] and g['grads'], (name, g)            # rank 0 computed its 7 items; the same parameters got gradients
        assert g['grad_err'] <= 1e-5 * max(g['grad_scale'], 1), (name, g)
        assert g['state_err'] <= 1e-5, (name, g)
        # joint, unicode, cmg: one item split over two ranks (an earlier stage smaller than the processes) runs and agrees
        assert g.get('one_item_err', 0.) <= 1e-5, (name, g)
    assert all('one_item_err' in got[m] for m in ('joint', 'unicode', 'cmg')), got

# Dense routing, no codebook growth, no dead-code resets: top-2 routing, k-means initialisation of new codes and resets
# are discrete decisions that turn 1e-7 rounding differences (partial gradient sums) into different choices, after which
# two runs differ the way two seeds' runs do (the README gives the figures for the default settings). Every code keeps
# moving (`old_code_rate=1`), as before `grow: false` came to freeze the earlier codes: with them frozen, the 2-rank run
# drifts from the 1-process one by 0.0025 in an expert weight at the third stage (measured), as after such decisions.
# No partner pull (`partner_codes=0`): it is a cross-entropy at τ = 0.1, whose gradients are ~300× CMCM's, and each rank
# computes it for its own items, so the ranks' partial sums round differently from one process's. Its data-parallel
# step is checked exactly in `test_two_process_step_equals_one_process_for_every_method` (dp_step.py: COMET's step
# there pulls the new modality).
# Even so the two runs are not bit-equal: Adam turns the rounding of near-zero gradient entries into steps of up to lr.
# How far that goes depends on the CPU's kernels. Measured (this configuration): on an Intel Xeon every tensor stayed
# within 1e-4 and the retrieval metrics were equal; on an AMD EPYC the first stage's tensors differ by up to 2.5e-4
# (an expert weight), the later stages' by up to 4.6e-3 (the codebook's running means), R@1 is equal and mAP@10
# differs by 3.8e-4. The bounds below are about four times those, and far below what another draw moves: a run of
# seed 1 differs from seed 0's by 0.22 in R@1, 0.12 in mAP@10 and prototype accuracy (measured).
CONTINUOUS = ['--set', 'train.epochs=2', '--set', 'method_settings.k=8', '--set', 'method_settings.dead_after=0',
              '--set', 'method_settings.grow=false', '--set', 'method_settings.old_code_rate=1',
              '--set', 'method_settings.partner_codes=0']

def _runs_agree(a, b):
    """The same checkpoint tensors at every stage, within 1e-3 after the first stage and 0.02 after later ones; R@1 and
    prototype accuracy within 0.005, mAP@10 within 0.002, transfer accuracy within 0.03 (a 100-step head)."""
    import numpy as np
    from cmwb.core import load_checkpoint, read_json
    for s in range(4):
        ta, _ = load_checkpoint(a/'checkpoints'/f'stage{s:02d}-done'); tb, _ = load_checkpoint(b/'checkpoints'/f'stage{s:02d}-done')
        assert sorted(ta) == sorted(tb)
        err = {k: float((ta[k].double() - tb[k].double()).abs().max()) for k in ta if ta[k].numel()}
        assert max(err.values()) <= (1e-3 if s == 0 else 0.02), (s, sorted(err.items(), key=lambda kv: -kv[1])[:3])
    ma, mb = read_json(a/'matrices.json'), read_json(b/'matrices.json')
    bound = dict(r1=0.005, map10=0.002, proto_acc=0.005, transfer=0.03)
    for k, most in bound.items():
        x, y = np.array(ma['metrics'][k], float), np.array(mb['metrics'][k], float)
        assert np.array_equal(np.isnan(x), np.isnan(y)) and np.nanmax(np.abs(x - y)) <= most, (k, x, y)

def test_two_process_run_equals_one_process_and_resumes_on_one(ci_manifest, tmp_path):
    "COMET over 4 stages on 2 gloo ranks equals 1 process; a 2-rank run killed mid-stage resumes on 1 process to the same result."
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmwb = lambda out, *extra: ['run', 'digitsmm', '--out', tmp_path/out, *CONTINUOUS, *extra]
    run(BIN/'cmwb', *cmwb('one'), env=env)
    run(BIN/'torchrun', '--nproc_per_node=2', '--no-python', BIN/'cmwb', *cmwb('two'), env=env)
    from cmwb.core import read_json
    assert read_json(tmp_path/'two'/'run.json')['processes'] == 2 and (tmp_path/'two'/'COMPLETE').exists()
    _runs_agree(tmp_path/'one', tmp_path/'two')
    killed = run(BIN/'torchrun', '--nproc_per_node=2', '--no-python', BIN/'cmwb', *cmwb('cut'), env={**env, 'CMWB_FAILPOINT': 'step:17'}, check=False)
    assert killed.returncode != 0 and not (tmp_path/'cut'/'COMPLETE').exists()
    assert (tmp_path/'cut'/'checkpoints'/'stage02-epoch000.json').exists()       # killed in stage 2's second epoch
    run(BIN/'cmwb', *cmwb('cut', '--resume'), env=env)
    _runs_agree(tmp_path/'one', tmp_path/'cut')
