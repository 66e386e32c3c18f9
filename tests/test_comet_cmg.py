"""comet-cmg (COMET's continual parts on CMG's model): every switch it adds to `cmg` changes the trained state or is
refused with a CmwbError naming it, on a tiny DigitsMM schedule where the image returns (so `freeze` can act).
`cmg`'s own switches are flipped in test_cmg.py."""
import dataclasses
import pytest
from cmwb.core import CmwbError
from cmwb.train import load_experiment
from test_codebook_protect import CHEAP, STAGES, _drive

RETURNS = STAGES + [{'name': 'image-again', 'modalities': ['image', 'text'], 'new_codes': 0, 'new_experts': 2}]
FLIPS = dict(grow=False, freeze_old_codes=False, freeze=False, freeze_mediator=False, keep_codes=False, cmoe=True, pmr='linear',
             k=1, expert_hidden=32, balance=0.1, pmr_weight=1.0)
NEEDS = dict(k=dict(cmoe=True), expert_hidden=dict(cmoe=True), balance=dict(cmoe=True), pmr_weight=dict(pmr='linear'))

@pytest.fixture(scope='module')
def setup(ci_manifest):
    from cmwb.train import prepare_data
    cfg = load_experiment('digitsmm', {**CHEAP, 'schedule.stages': RETURNS, 'method': 'comet-cmg'})
    return cfg, prepare_data(cfg)

STATES = {}

def state(setup, settings):
    "The trained state tensors with `settings` (each made once)."
    key = tuple(sorted(settings.items()))
    if key not in STATES:
        cfg, rd = setup
        STATES[key] = _drive(rd, cfg, 'comet-cmg', settings)[0]
    return STATES[key]

def differ(a, b) -> bool:
    "Whether a tensor both states hold, in the same shape, differs: new tensors or shapes alone do not count."
    common = [k for k in a if k in b and a[k].shape == b[k].shape]
    return any(not (a[k] == b[k]).all() for k in common)

def test_flips_cover_every_added_switch():
    from cmwb.methods.cmg import CmgSettings
    from cmwb.methods.comet_cmg import CometCmgSettings
    added = {f.name for f in dataclasses.fields(CometCmgSettings)} - {f.name for f in dataclasses.fields(CmgSettings)}
    assert added == set(FLIPS)

@pytest.mark.parametrize('name', list(FLIPS))
def test_each_added_switch_acts_or_is_refused(setup, name):
    "Alone: it changes the state, or (a setting of a part that is off) it is refused by name; with its part on, it acts."
    flip = {name: FLIPS[name]}
    if name in NEEDS:
        with pytest.raises(CmwbError, match=name): state(setup, flip)
        assert differ(state(setup, NEEDS[name]), state(setup, {**NEEDS[name], **flip})), name
    else:
        assert differ(state(setup, {}), state(setup, flip)), name

def test_a_run_of_grow_false_from_before_freeze_old_codes_is_not_resumed_as_this_version():
    "Before `freeze_old_codes`, `grow: false` also left every code trainable: such a record is flagged, newer ones are not."
    import cmwb.methods.comet_cmg  # registers the method
    from cmwb.train import settings_changed_meaning
    assert [k for k, _, _ in settings_changed_meaning('comet-cmg', {'grow': False})] == ['method_settings.grow']
    assert settings_changed_meaning('comet-cmg', {'grow': False, 'freeze_old_codes': True}) == []
    assert settings_changed_meaning('comet-cmg', {'grow': True}) == []
