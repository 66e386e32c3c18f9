"Packaging and the command line: fast import, every subcommand's help, a wheel that installs cleanly, README in sync."
import json, sys, venv
from pathlib import Path
import pytest
from conftest import ROOT, PY, run

HEAVY = ['torch', 'transformers', 'umap', 'plotly', 'papermill', 'numpy']

def test_import_cmwb_is_light():
    code = f"import sys, cmwb, cmwb.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    assert json.loads(run(PY, '-c', code).stdout.replace("'", '"')) == []

@pytest.mark.parametrize('sub', [None, 'data', 'extract', 'run', 'demo', 'compare', 'sweep', 'report', 'bench'])
def test_help(sub):
    out = run(Path(PY).parent/'cmwb', *([sub] if sub else []), '--help').stdout
    assert 'usage: cmwb' in out and (sub is None or f'cmwb {sub}' in out)
    if sub is None: assert all(c in out for c in ['data', 'extract', 'run', 'demo', 'compare', 'sweep', 'report', 'bench'])

def test_console_script_error_is_clean(tmp_path):
    r = run(Path(PY).parent/'cmwb', 'run', tmp_path/'missing.yaml', check=False)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and 'cmwb run: error' in r.stderr, r.stderr

def test_wheel_installs_in_clean_venv(tmp_path):
    run(PY, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', tmp_path/'dist', ROOT)
    whl = next((tmp_path/'dist').glob('cmwb-*.whl'))
    venv.create(tmp_path/'env', with_pip=True)
    py = tmp_path/'env'/'bin'/'python'
    run(py, '-m', 'pip', 'install', '-q', '--no-deps', whl, 'fastcore==1.14.5')
    assert run(py, '-c', 'import cmwb; print(cmwb.__version__)', cwd=tmp_path).stdout.strip() == '0.1.0'
    assert 'usage: cmwb' in run(tmp_path/'env'/'bin'/'cmwb', '--help', cwd=tmp_path).stdout

def test_readme_is_generated_from_index():
    out = run(PY, 'tools/readme.py', '--check', check=False)
    assert out.returncode == 0, out.stdout + out.stderr
