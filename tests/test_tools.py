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

def set_figures(folder, method:str, seed:int, changes:dict):
    "Rewrite one run's summary.json (sealed again, as cmwb writes it) with `changes`: (section, key) -> value."
    from cmwb.core import read_json, write_json
    path = folder/f'{method}-s{seed}'/'summary.json'
    summary = read_json(path)
    for (section, key), value in changes.items():
        summary[section][key] = value
    write_json(path, summary)

def shifts(p:float, n:int, mean:float) -> list:
    "n paired differences with this mean whose paired t-test gives two-sided p exactly (t = mean·√n / sd, sd = e)."
    from scipy import stats
    t = stats.t.ppf(1 - p / 2, n - 1)
    unit = [1., 0., -1.] if n == 3 else [2 ** -.5, -2 ** -.5]      # mean 0, sample sd 1
    e = abs(mean) * n ** .5 / t
    return [mean + e * u for u in unit]

def test_condition_table_holm_and_chance_on_constructed_figures(conditions, tmp_path):
    """Figures set so that the marks tell Holm from no correction and from Bonferroni, the chance comes from B only,
    a missing figure drops its seed, and a seed one condition lacks is left out of everything."""
    from scipy import stats
    short, long = [shutil.copytree(conditions/c, tmp_path/c) for c in ('short', 'long')]
    shutil.rmtree(short/'joint-s2')                                     # joint: seeds 0 and 1 in both
    seeds = {'finetune': SEEDS, 'joint': [0, 1]}
    final, unseen, transfer = (FIGURES[k][0] for k in ('final_r1', 'unseen_r1', 'unseen_transfer'))
    # final R@1: p 0.01 (finetune, up) and 0.04 (joint, down) -> Holm 0.02 and 0.04, both marked (Bonferroni: 0.08)
    # zero-shot R@1: p 0.03 and 0.04 -> Holm 0.06 and 0.06, neither marked, though each p alone is under 0.05
    plan = {final: dict(finetune=(0.01, 0.05), joint=(0.04, -0.05)), unseen: dict(finetune=(0.03, 0.04), joint=(0.04, 0.04))}
    for where, per_method in plan.items():
        for m, (p, mean) in per_method.items():
            base = [figure(short, m, s, where) for s in seeds[m]]
            for s, b, d in zip(seeds[m], base, shifts(p, len(seeds[m]), mean)):
                set_figures(long, m, s, {where: b + d})
            got = stats.ttest_rel([figure(long, m, s, where) for s in seeds[m]], base).pvalue
            assert abs(got - p) < 1e-6, (m, where, got, p)                 # the construction gives the p it aims at
    for s in SEEDS:
        set_figures(long, 'finetune', s, {FIGURES['final_r1'][1]: 0.2})     # B's chance differs from A's (0.100)
    set_figures(long, 'finetune', 1, {transfer: None})                       # a figure missing under B, seed 1
    r = run(PY, 'tools/condition_table.py', tmp_path/'out', f'short={short}', f'long={long}', '--metrics', ','.join(FIGURES))
    lines = (tmp_path/'out'/'results.md').read_text().splitlines()
    names = ['final R@1 (seen)', 'forgetting R@1', 'zero-shot R@1 (unseen pairs)', 'CMG transfer acc (unseen)']
    assert lines[0] == '| method | seeds | ' + ' | '.join(f'{n}: short → long' for n in names) + ' |', lines[0]
    rows = {c[0]: c for c in ([x.strip() for x in line.strip('|').split('|')] for line in lines[2:] if line.startswith('| '))}
    assert rows['finetune'][1] == '3' and rows['joint'][1] == '2', rows
    mean = lambda xs: sum(xs) / len(xs)
    def cell(m, where, mark, chance, only=None):
        ss = [s for s in seeds[m] if only is None or s in only]
        a, b = mean([figure(short, m, s, where) for s in ss]), mean([figure(long, m, s, where) for s in ss])
        return f'{a:.3f} → {b:.3f}{mark}' + (f' ({chance:.3f})' if chance is not None else '')
    chance_joint = mean([figure(long, 'joint', s, FIGURES['final_r1'][1]) for s in seeds['joint']])
    assert rows['finetune'][2] == cell('finetune', final, ' ▲', 0.2), rows['finetune']
    assert rows['joint'][2] == cell('joint', final, ' ▼', chance_joint), rows['joint']
    unseen_chance = {m: mean([figure(long, m, s, FIGURES['unseen_r1'][1]) for s in seeds[m]]) for m in seeds}
    assert rows['finetune'][4] == cell('finetune', unseen, '', unseen_chance['finetune']), rows['finetune']
    assert rows['joint'][4] == cell('joint', unseen, '', unseen_chance['joint']), rows['joint']
    # the transfer figure: finetune's seed 1 has none under B, so its means and test read seeds 0 and 2 only
    kept = {'finetune': [0, 2], 'joint': [0, 1]}
    side = lambda c, m: [figure(c, m, s, transfer) for s in kept[m]]
    ps = holm([stats.ttest_rel(side(long, m), side(short, m)).pvalue for m in METHODS])
    p = dict(zip(METHODS, ps))['finetune']
    mark = '' if p >= 0.05 else ' ▲' if mean(side(long, 'finetune')) > mean(side(short, 'finetune')) else ' ▼'
    transfer_chance = mean([figure(long, 'finetune', s, FIGURES['unseen_transfer'][1]) for s in SEEDS])
    assert rows['finetune'][5] == cell('finetune', transfer, mark, transfer_chance, only=kept['finetune']), rows['finetune']
    # tests.csv: each mark's test, with the p its figures were built to give, Holm's adjustment and the pairs it read
    import pandas as pd
    tests = pd.read_csv(tmp_path/'out'/'tests.csv').set_index(['figure', 'method'])
    built = {('final_r1', 'finetune'): (0.01, 0.02, 0.05, 3), ('final_r1', 'joint'): (0.04, 0.04, -0.05, 2),
             ('unseen_r1', 'finetune'): (0.03, 0.06, 0.04, 3), ('unseen_r1', 'joint'): (0.04, 0.06, 0.04, 2)}
    for key, (p_raw, p_holm, difference, n) in built.items():
        got = tests.loc[key]
        assert abs(got.p_raw - p_raw) < 1e-6 and abs(got.p_holm - p_holm) < 1e-6, (key, got)
        assert abs(got.difference - difference) < 1e-9 and got.n == n, (key, got)
    assert tests.loc[('unseen_transfer', 'finetune')].n == 2 and abs(tests.loc[('unseen_transfer', 'finetune')].p_holm - p) < 1e-12

TABLE_HEAD = ('| method | supervision | runs | final R@1 (seen) | its chance | forgetting R@1 | train time (s) |\n'
              '|---|---|---|---|---|---|---|\n')

def test_table_moves_counts_marks_moves_and_what_it_cannot_pair(tmp_path):
    "tools/table_moves.py on two small tables whose answer is known cell by cell."
    old = tmp_path/'old.md'
    new = tmp_path/'new.md'
    old.write_text('Some prose first.\n\n' + TABLE_HEAD +
                   '| a | pairs | 5 | 0.500 ± 0.010 ▲ | 0.100 ± 0.000 | 0.050 ± 0.020 ▼ | 9.0 |\n'
                   '| b | pairs | 5 | 0.400 ± 0.050 ▲ | 0.100 ± 0.000 | – | 9.0 |\n'
                   '| c | pairs | 5 | 0.300 ± 0.010 | 0.100 ± 0.000 | 0.010 ± 0.010 | 9.0 |\n'
                   '| gone | pairs | 5 | 0.200 ± 0.010 ▲ | 0.100 ± 0.000 | 0.000 ± 0.000 | 9.0 |\n\nlegend\n')
    new.write_text(TABLE_HEAD +
                   '| a | pairs | 5 | 0.530 ± 0.020 ▲ | 0.100 ± 0.000 | 0.050 ± 0.020 | 9.0 |\n'
                   '| b | pairs | 4 | 0.380 ± 0.040 ▼ | 0.100 ± 0.000 | 0.020 ± 0.010 | 9.0 |\n'
                   '| c | pairs | 5 | 0.310 (1 run) ▲ | 0.100 ± 0.000 | 0.010 ± 0.010 | 9.0 |\n'
                   '| added | pairs | 5 | 0.900 ± 0.010 ▲ | 0.100 ± 0.000 | 0.000 ± 0.000 | 9.0 |\n')
    out = run(PY, 'tools/table_moves.py', old, new).stdout
    lines = out.splitlines()
    # held: a's final ▲; lost: a's forgetting ▼, b's final ▲ (flipped); new: b's final ▼, c's final ▲
    assert lines[0] == 'marks: 1 held, 2 lost, 2 new (methods left out: none)', out
    assert '  lost: a, forgetting R@1: 0.050 ± 0.020 ▼ -> 0.050 ± 0.020' in lines, out
    assert '  lost: b, final R@1 (seen): 0.400 ± 0.050 ▲ -> 0.380 ± 0.040 ▼' in lines, out
    assert '  new: b, final R@1 (seen): 0.400 ± 0.050 ▲ -> 0.380 ± 0.040 ▼' in lines, out
    assert '  new: c, final R@1 (seen): 0.300 ± 0.010 -> 0.310 (1 run) ▲' in lines, out
    for note in ('gone: only in the old table', 'added: only in the new table', 'b, forgetting R@1: – -> 0.020 ± 0.010',
                 'b: 5 runs -> 4'):
        assert f'  not paired: {note}' in lines, (note, out)
    # five means paired (b's forgetting is '–' on one side); beyond the larger half-width only a's final (0.030 against
    # 0.020); c's final moves exactly its old half-width (0.010), which is not beyond it
    means = next(line for line in lines if line.startswith('means:'))
    assert means.startswith('means: 5 compared, 1 moved by more than'), means
    first = lines[lines.index(means) + 1]
    assert first.startswith('  1.50 of the half-width (move 0.030, half-width 0.020): a, final R@1 (seen)'), out
    skipped = run(PY, 'tools/table_moves.py', old, new, '--skip', 'b,gone,added').stdout.splitlines()
    assert skipped[0] == 'marks: 1 held, 1 lost, 1 new (methods left out: added, b, gone)', skipped

def test_compare_writes_every_test_behind_its_marks(conditions, tmp_path):
    """`write_tables` (what `cmwb compare` calls) writes tests.csv beside results.md: every figure's paired difference
    from finetune, recomputed here from the runs' own summary.json figures with scipy's paired t-test and Holm written
    out (one variant lacks a seed, so it is paired on the seeds it has); its Holm p-values under 0.05 are exactly the
    table's marks, with their signs."""
    import pandas as pd
    from scipy import stats
    from cmwb.tables import run_row, write_tables
    long, short = conditions/'long', conditions/'short'
    seeds = {'joint': SEEDS, 'joint-short': SEEDS[:-1]}                 # joint-short: seed 2 left out
    folders = dict(finetune=[long/f'finetune-s{s}' for s in SEEDS], joint=[long/f'joint-s{s}' for s in SEEDS],
                   **{'joint-short': [short/f'joint-s{s}' for s in seeds['joint-short']], 'ewc': [short/'ewc-s0']})
    rows = [dict(run_row(f), method=m) for m, fs in folders.items() for f in fs]
    table = write_tables(rows, tmp_path/'out', reference='finetune')
    tests = pd.read_csv(tmp_path/'out'/'tests.csv')
    assert set(tests.figure) <= {'final_r1', 'forget_r1', 'bwt_r1', 'unseen_r1', 'unseen_transfer'}, set(tests.figure)
    assert set(FIGURES) <= set(tests.figure)                            # chance levels and train time are not tested
    tested = ['joint', 'joint-short']                                   # ewc has one seed: no test, no p
    for key, (where, _) in FIGURES.items():
        got = tests[tests.figure == key].set_index('method')
        assert sorted(got.index) == sorted(tested + ['ewc']), got
        assert got.loc['ewc', 'n'] == 1 and math.isnan(got.loc['ewc', 'p_raw']), got
        ours = {'joint': [figure(long, 'joint', s, where) for s in seeds['joint']],
                'joint-short': [figure(short, 'joint', s, where) for s in seeds['joint-short']]}
        ref = {m: [figure(long, 'finetune', s, where) for s in seeds[m]] for m in tested}
        raw = [stats.ttest_rel(ours[m], ref[m]).pvalue for m in tested]
        for m, p, p_holm in zip(tested, raw, holm(raw)):
            d = [a - b for a, b in zip(ours[m], ref[m])]
            lo, hi = stats.t.interval(0.95, len(d) - 1, loc=sum(d) / len(d), scale=stats.sem(d))
            assert got.loc[m, 'n'] == len(seeds[m])
            assert abs(got.loc[m, 'difference'] - sum(d) / len(d)) < 1e-12, (key, m)
            assert abs(got.loc[m, 'difference_ci'] - (hi - lo) / 2) < 1e-12, (key, m)
            assert (got.loc[m, 'higher'], got.loc[m, 'lower']) == (sum(x > 0 for x in d), sum(x < 0 for x in d))
            assert abs(got.loc[m, 'p_raw'] - p) < 1e-12 and abs(got.loc[m, 'p_holm'] - p_holm) < 1e-12, (key, m)
    # the marks of results.md and the Holm p-values of tests.csv name the same cells
    lines = table.splitlines()
    headers = [h.strip() for h in lines[0].strip('|').split('|')]
    cells = {(c[0].strip(), h): c[i].strip() for line in lines[2:] if line.startswith('| ')
             for c in [line.strip('|').split('|')] for i, h in enumerate(headers)}
    marked = {(m, h): '▲' if cell.endswith('▲') else '▼' for (m, h), cell in cells.items() if cell[-1:] in '▲▼'}
    shown = {(t.method, t.header): '▲' if t.difference > 0 else '▼' for t in tests.itertuples() if t.p_holm < 0.05}
    assert marked == shown, (marked, shown)
    assert marked, 'no figure differs: the check would not see a mark that tests.csv lacks'
    # without a reference, or with one no row has, there is no test, and no stale tests.csv is left behind
    for reference in (None, 'lwf'):
        write_tables(rows, tmp_path/'out', reference='finetune')
        write_tables(rows, tmp_path/'out', reference=reference)
        assert not (tmp_path/'out'/'tests.csv').exists(), reference


def test_comparison_page_shows_the_tests_of_tests_csv(conditions, tmp_path):
    """`cmwb report`'s comparison page, marked against finetune, shows every paired test `cmwb compare` writes to
    tests.csv for the same runs, in the same order and with the same figures, and a mark exactly where Holm p < 0.05."""
    import html, re
    import pandas as pd
    from cmwb.tables import run_row, write_tables
    from cmwb.viz import write_comparison
    folders = [conditions/'long'/f'{m}-s{s}' for m in ('finetune', 'joint') for s in SEEDS]
    page = write_comparison(folders, tmp_path/'comparison.html', 'finetune').read_text()
    write_tables([run_row(f) for f in folders], tmp_path/'out', reference='finetune')
    tests = pd.read_csv(tmp_path/'out'/'tests.csv')
    section = page.split('<h2>Paired tests against finetune</h2>', 1)[1]
    cells = [[html.unescape(c) for c in re.findall(r'<td>(.*?)</td>', row)]
             for row in re.findall(r'<tr>((?:<td>.*?</td>)+)</tr>', section)]
    assert len(cells) == len(tests) == len(set(tests.figure)), (len(cells), len(tests))
    for c, t in zip(cells, tests.itertuples()):
        assert (c[0], c[1], int(c[3]), c[6]) == (t.header, t.method, t.n, f'{t.higher} / {t.lower}'), (c, t)
        assert abs(float(c[4]) - t.difference) < 6e-4 and abs(float(c[5]) - t.difference_ci) < 6e-4, (c, t)
        assert math.isclose(float(c[7]), t.p_raw, rel_tol=0.005) and math.isclose(float(c[8]), t.p_holm, rel_tol=0.005), (c, t)
        assert c[9] == (('▲' if t.difference > 0 else '▼') if t.p_holm < 0.05 else ''), (c, t)
    assert any(c[9] for c in cells), 'no test is marked: the check would not see a wrong mark'
    assert '<h2>Paired tests' not in write_comparison(folders, tmp_path/'plain.html', None).read_text()
