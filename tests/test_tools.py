"""The README's table tools, checked against an independent reading of the runs they read.

`tools/condition_table.py` puts every method under two conditions side by side, paired per method: its means, marks
and chance levels are recomputed here from each run's own `summary.json` figures with scipy's paired t-test."""
import json, math, shutil
import pytest
from conftest import PY, run

SEEDS = [0, 1, 2]
METHODS = ['finetune', 'joint']
# the tool's figure names, and where each run's summary.json keeps the figure and its chance level (None: it has none)
FIGURES = {'final_r1': (('r1', 'final'), ('r1', 'final_chance')),
           'forget_r1': (('r1', 'forget_max'), None),
           'unseen_r1': (('unseen', 'r1'), ('unseen', 'r1_chance')),
           'unseen_transfer': (('unseen', 'transfer'), ('unseen', 'transfer_chance'))}

@pytest.fixture(scope='module')
def conditions(ci_manifest, tmp_path_factory):
    "Finetune and joint on DigitsMM ci, seeds 0–2, after 1 and after 3 epochs per stage (`short`, `long`); ewc under `short` only."
    from cmwb.train import compare
    out = tmp_path_factory.mktemp('conditions')
    compare('digitsmm', METHODS, SEEDS, out/'short', {'train.epochs': 1})
    compare('digitsmm', METHODS, SEEDS, out/'long', {'train.epochs': 3})
    compare('digitsmm', ['ewc'], [0], out/'short', {'train.epochs': 1})
    return out

def figure(folder, method:str, seed:int, where:tuple):
    "One figure of a run, read straight from its summary.json (`where`: section and key)."
    summary = json.loads((folder/f'{method}-s{seed}'/'summary.json').read_text())
    return summary[where[0]][where[1]]

def holm(ps:list) -> list:
    "Holm's step-down adjustment, written out: the i-th smallest p times (m - i), made monotone, at most 1."
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    adjusted, running = [0.] * len(ps), 0.
    for rank, i in enumerate(order):
        running = max(running, min(1., (len(ps) - rank) * ps[i]))
        adjusted[i] = running
    return adjusted

def expected_cells(short, long, key:str) -> dict:
    "method -> the cell the tool must print for `key`: both means, the mark of scipy's paired t-test after Holm over the methods, long's chance."
    from scipy import stats
    value, chance = FIGURES[key]
    a = {m: [figure(short, m, s, value) for s in SEEDS] for m in METHODS}
    b = {m: [figure(long, m, s, value) for s in SEEDS] for m in METHODS}
    ps = holm([stats.ttest_rel(b[m], a[m]).pvalue for m in METHODS])
    cells = {}
    for m, p in zip(METHODS, ps):
        mean_a, mean_b = sum(a[m]) / len(SEEDS), sum(b[m]) / len(SEEDS)
        mark = '' if not (p < 0.05 and mean_a != mean_b) else ' ▲' if mean_b > mean_a else ' ▼'
        chances = [figure(long, m, s, chance) for s in SEEDS] if chance else []
        tail = f' ({sum(chances) / len(chances):.3f})' if chances else ''
        cells[m] = f'{mean_a:.3f} → {mean_b:.3f}{mark}{tail}'
    return cells

def test_condition_table_reads_the_runs_figures(conditions, tmp_path):
    # a stray folder that looks like a run of another seed is skipped, not read as one
    long = shutil.copytree(conditions/'long', tmp_path/'long')
    shutil.copytree(long/'finetune-s0', long/'finetune-s7')
    r = run(PY, 'tools/condition_table.py', tmp_path/'out', f"short={conditions/'short'}", f"long={long}",
            '--metrics', ','.join(FIGURES))
    assert 'left out ewc' in r.stderr, r.stderr
    assert 'skipped' in r.stderr and 'finetune-s7' in r.stderr, r.stderr
    table = (tmp_path/'out'/'results.md').read_text()
    assert table.strip().startswith('| method | seeds |'), table
    rows = [[c.strip() for c in line.strip('|').split('|')] for line in table.splitlines()[2:] if line.startswith('| ')]
    assert [r[:2] for r in rows] == [[m, str(len(SEEDS))] for m in METHODS], rows
    expected = {key: expected_cells(conditions/'short', long, key) for key in FIGURES}
    for row in rows:
        assert row[2:] == [expected[key][row[0]] for key in FIGURES], (row, expected)
    # the conditions differ (three epochs per stage against one), so the check compares real, moving numbers,
    # and at least one figure is marked: the marks' direction is checked, not only their absence
    final = FIGURES['final_r1'][0]
    assert any(figure(conditions/'short', 'finetune', s, final) != figure(long, 'finetune', s, final) for s in SEEDS)
    assert not math.isnan(figure(long, 'finetune', 0, final))
    assert any('▲' in c or '▼' in c for cells in expected.values() for c in cells.values()), expected

def test_condition_table_refuses_folders_without_common_methods(conditions, tmp_path):
    (tmp_path/'empty').mkdir()
    r = run(PY, 'tools/condition_table.py', tmp_path/'out', f"short={conditions/'short'}", f"none={tmp_path/'empty'}",
            check=False)
    assert r.returncode != 0
    assert 'no method has finished runs in both' in r.stderr, r.stderr
    assert 'Traceback' not in r.stderr, r.stderr
