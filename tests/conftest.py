import os, sys, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault('HF_HUB_OFFLINE', '1'); os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: minutes; run with CMWB_SLOW=1')

def pytest_collection_modifyitems(config, items):
    if os.environ.get('CMWB_SLOW'): return
    skip = pytest.mark.skip(reason='slow test: set CMWB_SLOW=1 to run it')
    for it in items:
        if 'slow' in it.keywords: it.add_marker(skip)

def run(*cmd, check=True, **kw):
    "Run a command from the repository root; return the CompletedProcess (text)."
    r = subprocess.run([str(c) for c in cmd], cwd=kw.pop('cwd', ROOT), capture_output=True, text=True, **kw)
    if check and r.returncode: raise AssertionError(f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r

PY = sys.executable

@pytest.fixture(scope='session')
def ci_manifest():
    "The ci DigitsMM, built (and its features extracted) once per session in $CMWB_DATA (default ./data)."
    os.environ.setdefault('CMWB_DATA', str(ROOT/'data'))
    from cmwb.datasets import build
    from cmwb.features import extract
    m = build('digitsmm', 'ci'); extract(m, progress=False)
    return m

SMOKE = {'train.epochs': 2}

@pytest.fixture(scope='session')
def smoke(ci_manifest, tmp_path_factory):
    """`smoke(*methods)` -> ({method: row}, folder): each method's 2-epoch DigitsMM ci run (seed 0), made once per session
    and shared by every test file that needs it (test_methods, test_cma_comm); a finished run is only read again."""
    out = tmp_path_factory.mktemp('methods')
    def get(*methods):
        from cmwb.train import compare
        return {r['method']: r for r in compare('digitsmm', list(methods), [0], out, SMOKE)}, out
    return get
