"Scale-out on CPU: `cmwb extract` under torchrun with 2 processes (gloo) equals a 1-process extraction byte for byte."
import os, sys
from pathlib import Path
from conftest import run

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
