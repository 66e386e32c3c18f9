"""Settings that act only from a schedule's second stage (each method's `Settings.continual`): in a one-stage run they
change nothing, so a one-stage schedule refuses them by name (`Settings.check_given`, called by `check_method`).

Each declared setting is flipped on a one-stage tiny DigitsMM run (image-text, one epoch): the trained tensors both
runs hold and the evaluation are the same, bit for bit. (PMR fits its generators at the stage's end, a tensor the run
without it lacks; nothing reads it before a second stage.) That the same flips act over several stages is tested
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
    'comm': dict(cache_teacher=False, self_reg=0., aggregate=False, realign=0., realign_per_class=2),
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

def _one_stage(rd, method, settings):
    "The trained state tensors and the evaluation (as JSON) of `method` with `settings` on the one-stage schedule."
    from test_codebook_protect import _drive
    from cmwb.train import Matrices, evaluate_stage, eval_tasks
    cfg = load_experiment('digitsmm', {**ONE, 'method': method})
    state, m = _drive(rd, cfg, method, settings, base={})
    M = Matrices([s.name for s in cfg.schedule.stages], [t[0] for t in eval_tasks(cfg.schedule)])
    evaluate_stage(m, rd, cfg, 0, M, 'cpu')
    return state, json.dumps(M.to_dict())

def _same(a, b) -> bool:
    "Whether two (state, evaluation) outcomes agree: every tensor both states hold, and the evaluation, bit for bit."
    (sa, ea), (sb, eb) = a, b
    return ea == eb and all(torch.equal(sa[k], sb[k]) for k in sa.keys() & sb.keys())

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
