"The evaluation protocol on the embedded benchmarks: held-out test captions, and which items a pair never trained together uses."
from types import SimpleNamespace
from cmwb.data import load_manifest
from cmwb.datasets import build
from cmwb.train import _task_items, eval_tasks, load_experiment, unevaluable_pairs

def _captions(m):
    items = load_manifest(m).items
    return {sp: {it.text for it in items if it.modality == 'text' and it.split == sp} for sp in ('train', 'test')}

def test_no_test_caption_occurs_in_training():
    "Before held-out templates, 117 of DigitsMM's 137 distinct test captions (57 of FashionSound's 67) occurred in training."
    for name in ('digitsmm', 'fashionsound', 'mixmm'):
        c = _captions(build(name, 'ci'))
        assert len(c['test']) > 50 and not c['train'] & c['test'], name

def test_fashionsound_unseen_pairs_use_the_concepts_both_sides_have():
    cfg = load_experiment('fashionsound')
    rd = SimpleNamespace(manifest=load_manifest(build('fashionsound', 'ci')))
    assert unevaluable_pairs(rd, cfg.schedule) == ['audio~image']          # clothes and instruments share no concept
    unseen = [t for t in eval_tasks(cfg.schedule) if t[3] is None]
    assert sorted(t[0] for t in unseen) == ['audio~image', 'audio~speech', 'image~speech']
    for task in unseen:
        ia, la, ib, lb = _task_items(rd, task, 'test')
        assert set(la.tolist()) == set(lb.tolist()), task[0]              # every query has a relevant item
        if task[0] != 'audio~image':
            assert len(set(la.tolist())) == 10 and len(ia) == len(la) and len(ib) == len(lb), task[0]
    _, la, _, lb = _task_items(rd, ('image~speech', 'image', 'speech', None), 'test')
    assert len(lb) < sum(it.modality == 'speech' and it.split == 'test' for it in rd.manifest.items)   # instruments' names dropped

def test_digitsmm_evaluates_every_unseen_pair():
    cfg = load_experiment('digitsmm')
    rd = SimpleNamespace(manifest=load_manifest(build('digitsmm', 'ci')))
    assert unevaluable_pairs(rd, cfg.schedule) == []
