"""The baselines (finetune, joint, ewc, lwf, er, dns): every switch acts or is refused with a CmwbError naming it.

A flip to a non-default value changes the trained state (evaluation embeddings) of a four-stage toy stream long enough
for each switch to act: EWC's Fisher, LwF's teacher and ER's buffers exist only after a stage, so `lam`,
`fisher_chunks`, `alpha`, `T`, `replay_batch` and DNS's `threshold` act from the second stage on; the fourth stage
replays from three buffers (the floor split of `replay_batch`)."""
import logging
import pytest, torch
from cmwb.core import CmwbError
from cmwb.methods.base import METHODS, StageData, load_methods, make_method
from cmwb.scenario import Schedule, Stage

load_methods()                  # fills METHODS

DIMS = {'image': (1, 8), 'audio': (1, 8), 'video': (1, 8), 'text': (1, 8)}
STAGES = [Stage('a', ['image', 'text']), Stage('b', ['audio', 'text']), Stage('c', ['video', 'text']),
          Stage('d', ['image', 'text'])]
CENTRES = torch.randn(5, 8, generator=torch.Generator().manual_seed(0))
N = 96          # pairs per stage: 6 chunks of 16 for EWC's Fisher; a buffer of 2 MB keeps them all

def _data(mods, seed):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 5, (N,), generator=g)
    return StageData({m: (CENTRES[y] + 0.3 * torch.randn(N, 8, generator=g))[:, None] for m in mods}, y).without_labels()

def _make(method, settings):
    "`hidden` only where it acts (DNS refuses it: its maps are single linear layers)."
    return make_method(method, DIMS, width=16, n_classes=5, settings={**({} if method == 'dns' else {'hidden': 16}), **settings})

def _toy(method, settings, steps=8, stages=STAGES):
    "Train `method` on the toy stream; return (eval embeddings of every modality it trained, loss names of the last step, the method)."
    torch.manual_seed(0)
    meth = _make(method, settings)
    for t, st in enumerate(stages):
        d = _data(st.modalities, t)
        meth.setup_stage(t, st)
        meth.begin_stage(t, st, d)
        meth.prepare_stage(t, d)
        opt = torch.optim.Adam(meth.trainable(), 1e-2)
        for i in range(steps):
            out = meth.training_step(d.batch(torch.arange(i * 12, i * 12 + 32) % N), t)
            sum(out.values()).backward()
            meth.after_backward(t)
            opt.step()
            opt.zero_grad()
        meth.end_stage(t, st, d)
    meth.eval()
    trained = [m for m in DIMS if any(m in st.modalities for st in stages)]
    x = _data(trained, 99).feats
    with torch.no_grad(): emb = torch.cat([meth.embed(x[m], m) for m in trained])
    return emb, set(out), meth

_BASE = {}
def _base(method):
    if method not in _BASE: _BASE[method] = _toy(method, {})
    return _BASE[method]

# ---- every switch acts -----------------------------------------------------------------------------------------------

FLIPS = [('finetune', dict(hidden=8)), ('joint', dict(hidden=8)), ('ewc', dict(hidden=8)), ('lwf', dict(hidden=8)),
         ('er', dict(hidden=8)),
         ('ewc', dict(lam=0.)), ('ewc', dict(lam=1000.)),
         ('ewc', dict(fisher_chunks=2)),              # the default 32 is clamped to the stage's 6 chunks here: 2 < 6 acts
         ('lwf', dict(alpha=0.)), ('lwf', dict(alpha=5.)), ('lwf', dict(T=1.)), ('lwf', dict(T=8.)),
         ('er', dict(replay_batch=8)),
         ('er', dict(replay_batch=65)),               # = 64 where it is split over 2 or 3 buffers; one more pair at stage b
         ('er', dict(budget_mb=0.001)),               # 13 of 96 pairs kept (2 MB keeps them all)
         ('dns', dict(threshold=0.5)), ('dns', dict(threshold=1e-12)),
         ('dns', dict(threshold=1.))]                 # protects nothing: DNS's linear maps, unprojected

@pytest.mark.parametrize('method,flip', FLIPS, ids=[f"{m}-{'-'.join(f'{k}={v}' for k, v in f.items())}" for m, f in FLIPS])
def test_each_switch_changes_the_run(method, flip):
    base, keys, _ = _base(method)
    emb, keys2, _ = _toy(method, flip)
    assert not torch.allclose(base, emb) or keys != keys2, (method, flip)

def test_the_components_act_from_the_second_stage():
    "The last step's losses: EWC's penalty, LwF's distillation, ER's replay from each of the three earlier stages."
    assert _base('ewc')[1] == {'align', 'ewc'}
    assert _base('lwf')[1] == {'align', 'lwf'}
    assert _base('er')[1] == {'align', 'replay0', 'replay1', 'replay2'}
    assert _base('finetune')[1] == _base('dns')[1] == {'align'}

@pytest.mark.parametrize('method,off', [('ewc', dict(lam=0.)), ('lwf', dict(alpha=0.))])
def test_off_values_turn_the_component_off(method, off):
    "lam: 0 and alpha: 0 act by turning EWC's penalty and LwF's distillation off: the run is finetune's, bit for bit."
    assert torch.equal(_toy(method, off)[0], _base('finetune')[0])

def test_lwf_cache_teacher_acts():
    "cache_teacher is a speed switch: it decides whether the old model's outputs are cached per stage, not what they are."
    emb, _, on = _toy('lwf', dict(cache_teacher=True))
    emb_off, _, off = _toy('lwf', dict(cache_teacher=False))
    assert sorted(on.teacher_cache) == ['image', 'text'] and off.teacher_cache == {}
    assert torch.allclose(emb, emb_off, atol=1e-4)

def test_er_splits_replay_batch_by_floor_division():
    "What every saved run did: replay_batch // k pairs from each of the k earlier stages (64 over 3: 63 in all)."
    for rb, want in [(64, [21, 21, 21]), (65, [21, 21, 21]), (8, [2, 2, 2])]:
        meth = _toy('er', dict(replay_batch=rb), steps=1, stages=STAGES[:3])[2]        # what stage d replays
        assert [len(b['text']) for b in meth.replayed()] == want, rb

def test_ewc_notes_a_clamped_fisher_chunks():
    "fisher_chunks above the stage's chunks of 16 pairs cannot act on that stage: not an error (it depends on the data) but a note."
    got = []
    handler = logging.Handler()
    handler.emit = got.append
    log = logging.getLogger('cmwb.ewc')
    log.addHandler(handler)
    try:
        same = _toy('ewc', dict(fisher_chunks=7))[0]
    finally:
        log.removeHandler(handler)
    assert torch.equal(same, _base('ewc')[0])      # 7 and 32 both use the 6 chunks the toy's 96 pairs make
    assert len(got) == len(STAGES) and 'fisher_chunks=7' in got[0].getMessage() and 'uses all 6' in got[0].getMessage()

# ---- settings that act only from the second stage: idle in one stage, so refused there -----------------------------------

ONE_STAGE = [(m, f) for m, f in FLIPS if set(f) <= set(METHODS[m].Settings.continual)] + [('lwf', dict(cache_teacher=False))]

def _one_stage(method, settings):
    "Train `method` on the toy stream's first stage only; its evaluation embeddings of that stage's modalities."
    return _toy(method, settings, stages=STAGES[:1])[0]

def test_every_continual_setting_is_flipped_here():
    "Each field a baseline declares `continual` has a flip below: a declared field without one fails here."
    declared = {(m, k) for m in ('finetune', 'joint', 'ewc', 'lwf', 'er', 'dns') for k in METHODS[m].Settings.continual}
    assert declared == {(m, k) for m, f in ONE_STAGE for k in f}

@pytest.mark.parametrize('method,flip', ONE_STAGE, ids=[f"{m}-{'-'.join(f'{k}={v}' for k, v in f.items())}" for m, f in ONE_STAGE])
def test_continual_settings_do_nothing_in_one_stage(method, flip):
    "What the flip changes over four stages (above) leaves a one-stage run bit for bit as it was: nothing for it to act on."
    assert torch.equal(_one_stage(method, flip), _one_stage(method, {}))

def test_a_one_stage_schedule_refuses_continual_settings():
    one, four = Schedule('one', STAGES[:1]), Schedule('toy', STAGES)
    for method, flip in ONE_STAGE:
        settings = METHODS[method].Settings(**flip)
        with pytest.raises(CmwbError, match=rf"{method} setting method_settings\.{list(flip)[0]}: it acts only from a schedule's second stage"):
            settings.check_given(method, set(flip), one)
        settings.check_given(method, set(flip), four)
    METHODS['ewc'].Settings(hidden=8).check_given('ewc', {'hidden'}, one)       # a setting that acts in one stage passes

# ---- every value that cannot act is refused, by name -----------------------------------------------------------------

REFUSED = [('finetune', dict(cache_teacher=False)), ('joint', dict(cache_teacher=True)), ('ewc', dict(cache_teacher=False)),
           ('er', dict(cache_teacher=False)), ('dns', dict(cache_teacher=False)),
           ('dns', dict(hidden=16)),
           ('ewc', dict(lam=0., fisher_chunks=4)), ('lwf', dict(alpha=0., T=1.)),
           ('er', dict(replay_batch=1)), ('dns', dict(threshold=0.)), ('dns', dict(threshold=1e-15))]

@pytest.mark.parametrize('method,flip', REFUSED, ids=[f"{m}-{'-'.join(f'{k}={v}' for k, v in f.items())}" for m, f in REFUSED])
def test_switches_that_cannot_act_are_refused(method, flip):
    key = list(flip)[-1]
    with pytest.raises(CmwbError, match=rf"(setting |method_settings\.){key}\b"):
        make_method(method, DIMS, width=16, settings=flip)

def test_er_refuses_a_split_into_single_pairs():
    "replay_batch=5: 2 pairs from each of 2 buffers at stage c, 1 from each of 3 at stage d: InfoNCE over one pair is 0."
    with pytest.raises(CmwbError, match=r'replay_batch=5: split over the 3 stages .* set replay_batch >= 6'):
        _toy('er', dict(replay_batch=5), steps=1)
    from cmwb.methods.baselines import ERSettings
    with pytest.raises(CmwbError, match='replay_batch=5'):         # the trainer asks before any data is prepared
        ERSettings(replay_batch=5).check_schedule(Schedule('toy', STAGES))
    ERSettings(replay_batch=6).check_schedule(Schedule('toy', STAGES))

def test_er_refuses_a_budget_below_two_pairs():
    "A pair here is 80 bytes (two 8-float features, a label, a stage): 1e-4 MB keeps one, and one pair cannot be contrasted. Refused before the stage trains."
    meth = _make('er', dict(budget_mb=1e-4))
    meth.setup_stage(0, STAGES[0])
    with pytest.raises(CmwbError, match=r"budget_mb=0.0001: it would keep 1 of stage 0's 96 pairs"):
        meth.prepare_stage(0, _data(STAGES[0].modalities, 0))
    enough = _make('er', dict(budget_mb=2e-4))                      # 209 bytes: two pairs
    enough.setup_stage(0, STAGES[0])
    enough.prepare_stage(0, _data(STAGES[0].modalities, 0))
