"Papermill: every experiment notebook at smoke size, a sweep (with skipping), and a failing notebook named by cell."
import json
from pathlib import Path
import pytest
import papermill as pm
from conftest import ROOT, PY, run
from cmwb.sweep import SweepConfig, run_point, run_sweep

EXPERIMENTS = sorted((ROOT/'nbs'/'experiments').glob('*.ipynb'))

@pytest.mark.parametrize('nb', EXPERIMENTS, ids=lambda p: p.stem)
def test_experiment_notebook_smoke(nb, ci_manifest, tmp_path):
    r = run_point(str(nb), str(tmp_path/'point'), dict(smoke=True, data='digitsmm:ci'))
    assert r['ok'], r.get('error')                                   # the message names the notebook and cell
    out = tmp_path/'point'
    assert (out/'run'/'COMPLETE').exists() and (out/'notebook.ipynb').exists()
    params = json.loads((out/'notebook.ipynb').read_text())['metadata']['papermill']['parameters']
    assert params['smoke'] is True and params['out'] == str(out/'run')

def test_failing_notebook_names_notebook_and_cell(ci_manifest, tmp_path):
    r = run_point(str(EXPERIMENTS[0]), str(tmp_path/'bad'), dict(smoke=True, method='no-such-method'))
    assert not r['ok'] and 'notebook.ipynb: cell In [' in r['error'] and "unknown method 'no-such-method'" in r['error']
    assert (tmp_path/'bad'/'notebook.ipynb').exists()                 # the executed notebook is kept

def test_sweep_runs_grid_then_skips_finished(ci_manifest, tmp_path):
    cfg = SweepConfig(notebook=str(ROOT/'nbs'/'experiments'/'continual.ipynb'), out=str(tmp_path/'sw'), workers=2, stagger=1.0,
                      grid={'method': ['comet', 'finetune']}, params={'smoke': True, 'data': 'digitsmm:ci'})
    res = run_sweep(cfg)
    assert sorted(res['done']) == ['comet', 'finetune'] and not res['failed']
    import pandas as pd
    table = pd.read_csv(tmp_path/'sw'/'results.csv')
    # twice chance (0.10): measured at smoke size (2 epochs) finetune 0.231, comet 0.445
    assert sorted(table['method']) == ['comet', 'finetune'] and (table['final_r1'] > 0.2).all()
    assert (tmp_path/'sw'/'comparison.html').exists()
    again = run_sweep(cfg)
    assert again['done'] == [] and sorted(again['skipped']) == ['comet', 'finetune']

def test_cli_sweep_fails_with_named_cell(ci_manifest, tmp_path):
    (tmp_path/'s.yaml').write_text(f"notebook: {ROOT/'nbs'/'experiments'/'continual.ipynb'}\nout: {tmp_path/'o'}\nworkers: 1\n"
                                   "grid: {method: [nope]}\nparams: {smoke: true, data: 'digitsmm:ci'}\n")
    r = run(Path(PY).parent/'cmwb', 'sweep', tmp_path/'s.yaml', check=False)
    assert r.returncode == 2 and 'cell In [' in r.stderr and 'nope' in r.stderr, r.stderr
