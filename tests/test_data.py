"Data and encoders: validation from the command line, probe floors, and a killed extraction that resumes to identical bytes."
import os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import ROOT, PY, run
from probes import probe_accuracy

CLI = Path(PY).parent/'cmwb'

def test_validate_reports_every_problem(tmp_path):
    (tmp_path/'m.yaml').write_text('name: bad\nitems:\n  - {id: a, modality: text, text: "", concept: "1"}\n'
                                   '  - {id: a, modality: image, path: nope.png, concept: "1", pair: p}\n  - {id: b, modality: lidar, path: x, concept: "2"}\n')
    r = run(CLI, 'data', 'validate', tmp_path/'m.yaml', check=False)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    for s in ['5 problem(s)', 'item a: id: duplicate', 'item a: text: empty text', 'item a: path: file not found', 'item b: modality: unknown modality', "pair id 'p' has no partner"]:
        assert s in r.stderr, (s, r.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['m.yaml']          # nothing written

# Floors on the ci build (measured: image 0.86, speech 0.917, video 0.65, audio 0.60; chance 0.10), set about 0.1
# below the measurements to absorb BLAS differences between CPUs.
@pytest.mark.parametrize('modality,domains,floor', [('image', ['opencv'], 0.75), ('speech', None, 0.80), ('video', None, 0.55), ('audio', None, 0.50)])
def test_probe_floor_ci(ci_manifest, modality, domains, floor):
    assert probe_accuracy(ci_manifest, modality, domains) >= floor

@pytest.mark.slow
@pytest.mark.parametrize('modality,floor', [('image', 0.90), ('speech', 0.85), ('video', 0.70)])
def test_probe_floor_full(modality, floor):
    from cmwb.datasets import build
    m = build('digitsmm', 'full')
    assert probe_accuracy(m, modality, ['opencv'] if modality == 'image' else None) >= floor

def test_killed_extraction_resumes_byte_identical(ci_manifest, tmp_path):
    "SIGKILL `cmwb extract` after its first shard; re-running finishes and every shard equals a clean extraction."
    args = [CLI, 'extract', ci_manifest, '--store', tmp_path/'killed', '--shard-size', '100']
    p = subprocess.Popen([str(a) for a in args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((tmp_path/'killed').rglob('image-*/shard-00001.json')) and time.time() < deadline: time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL and not list((tmp_path/'killed').rglob('image-*/index.json'))   # killed midway
    run(*args); run(CLI, 'extract', ci_manifest, '--store', tmp_path/'clean', '--shard-size', '100')
    killed, clean = sorted((tmp_path/'killed').rglob('shard-*.safetensors')), sorted((tmp_path/'clean').rglob('shard-*.safetensors'))
    assert len(killed) == len(clean) > 10
    for a, b in zip(killed, clean): assert a.relative_to(tmp_path/'killed') == b.relative_to(tmp_path/'clean') and a.read_bytes() == b.read_bytes()
