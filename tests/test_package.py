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


def test_wheel_runs_the_demo_from_an_empty_folder(tmp_path):
    "The wheel carries the configs; installed on its own (no repository on the path) it runs `cmwb demo --size ci` in an empty folder."
    import os, zipfile
    run(PY, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp_path/'dist', ROOT)
    whl = next((tmp_path/'dist').glob('cmwb-*.whl'))
    names = zipfile.ZipFile(whl).namelist()
    assert {f'cmwb/configs/{c.name}' for c in (ROOT/'configs').glob('*.yaml')} <= set(names), names
    run(PY, '-m', 'pip', 'install', '-q', '--no-deps', '--target', tmp_path/'site', whl)
    empty = tmp_path/'empty'; empty.mkdir()
    env = {**os.environ, 'PYTHONPATH': str(tmp_path/'site'), 'CMWB_DATA': os.environ.get('CMWB_DATA', str(ROOT/'data'))}
    code = ('import sys, cmwb; from cmwb.cli import main; assert cmwb.__file__.startswith(sys.argv[1]), cmwb.__file__; '
            'sys.exit(main(["demo", "--size", "ci", "--out", "runs/demo"]))')
    r = run(PY, '-c', code, tmp_path/'site', cwd=empty, env=env, check=False)
    assert r.returncode == 0 and 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert (empty/'runs'/'demo'/'COMPLETE').exists() and (empty/'runs'/'demo'/'report.html').exists()
    lines = [l for l in r.stdout.splitlines() if l.startswith('stage ')]            # not a terminal: a line per stage
    assert [l.split(':')[0] for l in lines] == ['stage 1/4 image-text', 'stage 2/4 speech-text', 'stage 3/4 video-text', 'stage 4/4 audio-text'], r.stdout
