"Reliability, bounded: kill-and-resume of runs and extractions, damaged files, generated bad input, concurrent writers."
import subprocess, sys
import pytest
from hypothesis import given, settings, HealthCheck
from cmwb.faults import (SMOKE_SETS, bad_configs, bad_manifests, bad_media_campaign, check_bad_config, check_bad_manifest, cmwb_cmd,
                         extract_campaign, resume_change_cases, run_campaign, run_damage_cases, _sets)

HYP = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))

@pytest.fixture(scope='module')
def killed_run(ci_manifest, tmp_path_factory):
    "One comet run killed at a step, twice mid-checkpoint-write and once at a random moment, resumed each time."
    work = tmp_path_factory.mktemp('faults')
    return work, run_campaign('digitsmm', work, ['step:5', 'checkpoint:1', 'checkpoint:2', 9.0], SMOKE_SETS)

def test_killed_run_resumes_to_identical_metrics(killed_run):
    "Every process of the campaign runs with its own random PYTHONHASHSEED: results may not depend on set order either."
    work, res = killed_run
    assert res['kills'] >= 3, res                   # the delay may land after the run finished; the failpoints cannot
    assert res['identical'], res

def test_killed_extraction_equals_clean_extraction(ci_manifest, tmp_path):
    res = extract_campaign(ci_manifest, tmp_path, ['shard:1', 'shard:2'])
    assert res['kills'] == 2 and res['shards'] > 10 and res['identical'], res

def test_damaged_files_are_refused_by_name(killed_run, ci_manifest, tmp_path):
    work, _ = killed_run
    extract_campaign(ci_manifest, work, [])                      # a feature store to damage
    cases = run_damage_cases(work/'run-ref', work/'store-ref', ci_manifest, tmp_path, ('digitsmm', *_sets(SMOKE_SETS)), both=False)
    assert len(cases) == 10 and {c['damage'] for c in cases} == {'truncated', 'bit-flipped'}
    bad = [c for c in cases if not (c['refused'] and c['named'] and c['untouched'])]
    assert not bad, bad

@HYP
@given(bad_configs())
def test_bad_configs_are_refused_by_field(tmp_path_factory, case):
    r = check_bad_config(*case, tmp_path_factory.mktemp('cfg'))
    assert r['outcome'] == 'named' and r['nothing_written'], r

@HYP
@given(bad_manifests())
def test_bad_manifests_are_refused_by_item(ci_manifest, tmp_path_factory, case):
    from pathlib import Path
    r = check_bad_manifest(*case, Path(ci_manifest).parent, tmp_path_factory.mktemp('man'))
    assert r['outcome'] == 'named' and r['nothing_written'], r

def test_second_writer_of_a_run_gets_a_clear_error(killed_run, tmp_path):
    "While one `cmwb run` holds a run folder, a second one is refused naming the folder, and the first finishes intact."
    work, _ = killed_run
    args = ['run', 'digitsmm', '--out', tmp_path/'run', *_sets(SMOKE_SETS)]
    first = subprocess.Popen([sys.executable, '-c', 'import sys; from cmwb.cli import main; sys.exit(main())', *map(str, args)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    import time
    while not (tmp_path/'run'/'.lock').exists(): time.sleep(0.1)
    time.sleep(1.0)
    second = cmwb_cmd(*args, '--resume')
    assert second['rc'] == 2 and 'in use by another cmwb process' in second['err'] and str(tmp_path/'run') in second['err'], second
    assert first.wait(600) == 0 and (tmp_path/'run'/'COMPLETE').exists()
    from cmwb.core import read_json
    assert read_json(tmp_path/'run'/'matrices.json') == read_json(work/'run-ref'/'matrices.json')

def test_nan_features_stop_the_run_naming_the_item(ci_manifest, tmp_path):
    "An encoder that yields NaN for one item: the run refuses its features before training, naming modality and item."
    from cmwb.core import CmwbError
    from cmwb.encoders import LogMelEncoder, register_encoder, REGISTRY
    from cmwb.train import load_experiment, run_experiment
    class NaNLogMel(LogMelEncoder):
        name = 'nan-logmel-test'
        def encode(self, raw):
            x = super().encode(raw); x[0, 0, 0] = float('nan'); return x
    register_encoder('nan-logmel-test', lambda arg, mod: NaNLogMel(mod or 'audio'))
    try:
        cfg = load_experiment('digitsmm', {'train.epochs': 1, 'encoders': {'audio': 'nan-logmel-test'}})
        with pytest.raises(CmwbError, match=r"audio features of item '[^']+' are not finite"):
            run_experiment(cfg, tmp_path/'run', progress=False)
        assert not (tmp_path/'run'/'checkpoints').exists()
    finally: REGISTRY.pop('nan-logmel-test', None)


def test_bad_media_are_refused_at_validate_extract_and_run(ci_manifest, tmp_path):
    "20 damaged files (4 modalities x 5 damages), each through the three readers: item named, no traceback, no lock-only folder."
    from pathlib import Path
    res = bad_media_campaign(20, Path(ci_manifest).parent, tmp_path)
    assert len(res) == 60 and {r['reader'] for r in res} == {'validate', 'extract', 'run'}
    bad = [r for r in res if r['outcome'] != 'named' or r['lock_only']]
    assert not bad, bad

def test_resume_under_a_changed_config_is_refused(killed_run, tmp_path):
    "Nine settings changed on resume: each refused naming the setting, the run folder byte for byte as it was."
    work, _ = killed_run
    res = resume_change_cases(work/'run-ref', tmp_path, SMOKE_SETS)
    assert len(res) == 9 and all(r['outcome'] == 'named' and r['untouched'] for r in res), res
