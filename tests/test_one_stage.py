"""Settings that act only from a schedule's second stage (each method's `Settings.continual`): in a one-stage run they
change nothing, so a one-stage schedule refuses them by name (`Settings.check_given`, called by `check_method`).

Each declared setting is flipped on a one-stage tiny DigitsMM run (image-text, one epoch): the state after the stage's
last step and the evaluation after the stage are the same, bit for bit. (What `end_stage` consolidates for later
stages, such as PMR's fitted generators or COMM's Gaussians of `clusters` pseudo-classes, nothing reads in one stage;
the evaluation, which comes after it, shows that.) That the same flips act over several stages is tested
per method elsewhere (test_codebook_protect, test_comet_cmg, test_cma_comm). The baselines' are in test_baselines."""
import json
import pytest, torch
from cmwb.core import CmwbError
from cmwb.methods.base import METHODS, load_methods
from cmwb.train import check_method, load_experiment
from test_codebook_protect import CHEAP, STAGES

load_methods()                  # fills METHODS
BASELINES = ('finetune', 'joint', 'ewc', 'lwf', 'er', 'dns')
FLIPS = {
    'comet': dict(grow=False, old_code_rate=1.0, grown_code_rate=1.0, pmr='linear', freeze=False, freeze_mediator=False,
                  keep_codes=False, partner_codes=0.),
    'unicode': dict(grow=True, pmr='linear', freeze=True, freeze_mediator=True, partner_codes=0.),
    'cma': dict(cache_teacher=False, freeze_top=1, relation=0., mediator_router='newest'),
    'comm': dict(cache_teacher=False, self_reg=0., realign=0., realign_per_class=2, clusters=8),
    'comet-cmg': dict(grow=False, freeze_old_codes=False, freeze=False, freeze_mediator=False, keep_codes=False,
                      pmr='linear'),
}
# a flip that only acts beside another setting (refused alone), with that setting: (what it needs, the flip)
PAIRED = [('comet', dict(pmr='linear', freeze_mediator=False), dict(pmr_weight=1.0)),
          ('comet', dict(old_code_rate=0.1, dead_after=2), dict(protect_codes=False)),
          ('comet', dict(grow=False), dict(mediator_codes=True)),
          ('unicode', dict(pmr='linear'), dict(pmr_weight=1.0)),
          ('comet-cmg', dict(pmr='linear'), dict(pmr_weight=1.0))]
# declared, but refused in every one-stage configuration by the method itself as well
ALWAYS_REFUSED = {('unicode', f) for f in ('old_code_rate', 'grown_code_rate', 'protect_codes', 'keep_codes', 'mediator_codes')}
ONE = {**CHEAP, 'schedule.stages': STAGES[:1]}

def test_every_declared_setting_is_flipped():
    "Each field a method declares `continual` is flipped here (or in test_baselines), or is refused by the method in any one-stage run."
    declared = {(m, f) for m in METHODS if m not in BASELINES for f in METHODS[m].Settings.continual}
    flipped = {(m, f) for m, fl in FLIPS.items() for f in fl} | {(m, f) for m, _, fl in PAIRED for f in fl}
    assert declared == flipped | ALWAYS_REFUSED

@pytest.fixture(scope='module')
def rd(ci_manifest):
    from cmwb.train import prepare_data
    return prepare_data(load_experiment('digitsmm', {**ONE, 'method': 'comet'}))

def _one_stage(rd, method, settings, config=ONE):
    """The state tensors of `method` with `settings` after the one-stage schedule of `config` trained (before `end_stage`
    consolidates for later stages), and the evaluation after it (as JSON)."""
    from test_codebook_protect import _drive
    from cmwb.train import Matrices, evaluate_stage, eval_tasks
    cfg = load_experiment('digitsmm', {**config, 'method': method})
    got = {}
    _, m = _drive(rd, cfg, method, settings, base={}, trained=lambda t, m: got.update(m.get_state()[0]))
    state = {k: v.clone() for k, v in got.items()}
    M = Matrices([s.name for s in cfg.schedule.stages], [t[0] for t in eval_tasks(cfg.schedule)])
    evaluate_stage(m, rd, cfg, 0, M, 'cpu')
    return state, json.dumps(M.to_dict())

def _same(a, b) -> bool:
    "Whether two (trained state, evaluation) outcomes agree, bit for bit."
    (sa, ea), (sb, eb) = a, b
    return ea == eb and sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)

CASES = [(m, {}, {f: v}) for m, fl in FLIPS.items() for f, v in fl.items()] + PAIRED

@pytest.mark.parametrize('method,needs,flip', CASES, ids=[f"{m}-{next(iter(f))}" for m, _, f in CASES])
def test_continual_settings_change_nothing_in_one_stage(rd, method, needs, flip):
    assert _same(_one_stage(rd, method, needs), _one_stage(rd, method, {**needs, **flip})), (method, flip)

@pytest.mark.parametrize('method,needs,flip', CASES, ids=[f"{m}-{next(iter(f))}" for m, _, f in CASES])
def test_a_one_stage_schedule_refuses_them_before_data(method, needs, flip):
    "check_method, which cmwb run, demo and compare call before preparing data, names the setting; two stages accept it."
    given = {**needs, **flip}
    first = sorted(set(given) & set(METHODS[method].Settings.continual))[0]
    with pytest.raises(CmwbError, match=rf"{method} setting method_settings\.{first}: it acts only from a schedule's second stage"):
        check_method(load_experiment('digitsmm', {**ONE, 'method': method, 'method_settings': given}))
    METHODS[method].Settings(**given).check_given(method, set(given), load_experiment('digitsmm', {**CHEAP}).schedule)

def test_comm_aggregate_is_not_continual(ci_manifest):
    "COMM's `aggregate` acts in one stage whose modalities are not a mediator's pairs (or bring two besides it): not declared, nor refused."
    from cmwb.train import prepare_data
    joint = {**CHEAP, 'schedule.stages': [{'name': 'all', 'modalities': ['image', 'text'], 'mediator': None}]}  # no mediator
    rd2 = prepare_data(load_experiment('digitsmm', {**joint, 'method': 'comm'}))
    assert not _same(_one_stage(rd2, 'comm', {}, joint), _one_stage(rd2, 'comm', dict(aggregate=False), joint))
    assert 'aggregate' not in METHODS['comm'].Settings.continual
