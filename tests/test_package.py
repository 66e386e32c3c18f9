"Packaging and the command line: fast import, every subcommand's help, a wheel that installs cleanly, README in sync."
import json, sys, venv
from pathlib import Path
import pytest
from conftest import ROOT, PY, run

HEAVY = ['torch', 'transformers', 'umap', 'plotly', 'papermill', 'numpy']

def test_import_cmwb_is_light():
    code = f"import sys, cmwb, cmwb.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    assert json.loads(run(PY, '-c', code).stdout.replace("'", '"')) == []

@pytest.mark.parametrize('sub', [None, 'data', 'extract', 'run', 'demo', 'compare', 'sweep', 'report', 'bench'])
def test_help(sub):
    out = run(Path(PY).parent/'cmwb', *([sub] if sub else []), '--help').stdout
    assert 'usage: cmwb' in out and (sub is None or f'cmwb {sub}' in out)
    if sub is None: assert all(c in out for c in ['data', 'extract', 'run', 'demo', 'compare', 'sweep', 'report', 'bench'])

def test_console_script_error_is_clean(tmp_path):
    r = run(Path(PY).parent/'cmwb', 'run', tmp_path/'missing.yaml', check=False)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and 'cmwb run: error' in r.stderr, r.stderr

def test_wheel_installs_in_clean_venv(tmp_path):
    run(PY, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', tmp_path/'dist', ROOT)
    whl = next((tmp_path/'dist').glob('cmwb-*.whl'))
    venv.create(tmp_path/'env', with_pip=True)
    py = tmp_path/'env'/'bin'/'python'
    run(py, '-m', 'pip', 'install', '-q', '--no-deps', whl, 'fastcore==1.14.5')
    assert run(py, '-c', 'import cmwb; print(cmwb.__version__)', cwd=tmp_path).stdout.strip() == '0.1.0'
    assert 'usage: cmwb' in run(tmp_path/'env'/'bin'/'cmwb', '--help', cwd=tmp_path).stdout

def test_readme_is_generated_from_index():
    out = run(PY, 'tools/readme.py', '--check', check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_wheel_runs_the_demo_from_an_empty_folder(tmp_path):
    "The wheel carries the configs; installed on its own (no repository on the path) it runs `cmwb demo --size ci` in an empty folder."
    import os, zipfile
    run(PY, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', tmp_path/'dist', ROOT)
    whl = next((tmp_path/'dist').glob('cmwb-*.whl'))
    names = zipfile.ZipFile(whl).namelist()
    assert {f'cmwb/configs/{c.name}' for c in (ROOT/'configs').glob('*.yaml')} <= set(names), names
    run(PY, '-m', 'pip', 'install', '-q', '--no-deps', '--target', tmp_path/'site', whl)
    empty = tmp_path/'empty'; empty.mkdir()
    env = {**os.environ, 'PYTHONPATH': str(tmp_path/'site'), 'CMWB_DATA': os.environ.get('CMWB_DATA', str(ROOT/'data'))}
    code = ('import sys, cmwb; from cmwb.cli import main; assert cmwb.__file__.startswith(sys.argv[1]), cmwb.__file__; '
            'sys.exit(main(["demo", "--size", "ci", "--out", "runs/demo"]))')
    r = run(PY, '-c', code, tmp_path/'site', cwd=empty, env=env, check=False)
    assert r.returncode == 0 and 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert (empty/'runs'/'demo'/'COMPLETE').exists() and (empty/'runs'/'demo'/'report.html').exists()
    lines = [l for l in r.stdout.splitlines() if l.startswith('stage ')]            # not a terminal: a line per stage
    assert [l.split(':')[0] for l in lines] == ['stage 1/4 image-text', 'stage 2/4 speech-text', 'stage 3/4 video-text', 'stage 4/4 audio-text'], r.stdout


# ---- the package's shape: no import loops, and the style it is written in ----
PKG = Path(ROOT)/'cmwb'

def _module_name(path:Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)

def import_graph(pkg:Path=PKG) -> dict:
    """Module -> the cmwb modules it imports (`from .x import`, `from ..x import`, `from cmwb.x import`,
    `import cmwb.x`, at top level or inside functions)."""
    import ast
    graph = {}
    for f in sorted(pkg.rglob('*.py')):
        name = _module_name(f)
        package = name if f.name == '__init__.py' else name.rpartition('.')[0]
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split('.')[:len(package.split('.')) - node.level + 1]
                    target = '.'.join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ''
                # `from . import x` / `from cmwb import x`: x may itself be a module
                cands = [target] + [f'{target}.{a.name}' for a in node.names]
                deps |= {c for c in cands if c.startswith('cmwb.') and c != name}
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith('cmwb.') and a.name != name}
        graph[name] = deps
    # keep edges to modules that exist (a name imported from a module is not a module)
    return {m: {d for d in ds if d in graph} for m, ds in graph.items()}

def find_cycle(graph:dict):
    "One import loop as a list of modules, or None (depth-first search)."
    state, stack = {}, []
    def visit(m):
        state[m] = 'open'
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 'open':
                return stack[stack.index(d):] + [d]
            if d not in state and (c := visit(d)):
                return c
        state[m] = 'done'
        stack.pop()
        return None
    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None

def test_import_graph_oracle():
    "The cycle finder on small graphs whose answer is known."
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': set()}) is None
    assert find_cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    g = import_graph()
    assert {'cmwb.core', 'cmwb.methods.base'} <= set(g) and 'cmwb.core' in g['cmwb.train']

def test_no_import_loops():
    "No module of cmwb imports, directly or through others, a module that imports it back."
    cycle = find_cycle(import_graph())
    assert cycle is None, ' -> '.join(cycle)

def _sources():
    "Every hand-written module of cmwb/ (the generated _modidx.py aside): path -> text."
    return {f: f.read_text() for f in sorted(PKG.rglob('*.py')) if f.name != '_modidx.py'}

def test_line_width_and_semicolons():
    "At most 3% of cmwb's lines over 120 characters, and at most 10 statement-separating semicolons per 1,000 lines."
    import io, tokenize
    lines = long = semis = 0
    for f, s in _sources().items():
        lines += len(s.splitlines())
        long += sum(len(l) > 120 for l in s.splitlines())
        semis += sum(t.type == tokenize.OP and t.string == ';' for t in tokenize.generate_tokens(io.StringIO(s).readline))
    # measured: 9,286 lines, 151 over 120 characters (1.6%), 0 semicolons (the generated _modidx.py is left out)
    assert long / lines <= 0.03, f"{long} of {lines} lines are over 120 characters"
    assert semis / lines * 1000 <= 10, f"{semis} statement semicolons in {lines} lines"

def multi_statement_lines(src:str, functions:set|None=None) -> list[int]:
    "Lines on which two statements start (`a; b`, `if x: y`), in the whole module or only inside `functions`."
    import ast
    tree = ast.parse(src)
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name in functions] \
        if functions else [tree]
    starts = {}
    for scope in scopes:
        for n in ast.walk(scope):
            if isinstance(n, ast.stmt):
                starts.setdefault(n.lineno, set()).add(id(n))
    return sorted(l for l, ns in starts.items() if len(ns) > 1)

def test_multi_statement_oracle():
    "The check on lines whose answer is known."
    assert multi_statement_lines("a = 1\nif a:\n    b = 2\n") == []
    assert multi_statement_lines("a = 1; b = 2\nif a: b = 3\nfor i in []:\n    pass\n") == [1, 2]
    assert multi_statement_lines("def f():\n    if 1: return 2\ndef g(): return 3\n", {'f'}) == [2]

STEP = {'training_step', 'after_backward', 'align_loss', 'label_loss', '_partner_target', '_soft', 'pseudo', 'club_bound',
        'cpc_loss', 'recon_loss', 'modality_loss'}      # a method's training step and the losses it calls

@pytest.mark.parametrize('module, functions', [
    ('train.py', {'next_stage', '_next_stage', 'train_stage', 'train_batch'}),     # the stage loop and the training step
    ('losses.py', None),                                            # every loss
    *[(f'methods/{m}.py', STEP) for m in ('base', 'baselines', 'comet', 'cma', 'comm', 'cmg', 'comet_cmg')],   # each method's step
])
def test_one_statement_per_line(module, functions):
    "No line of the stage loop, the training step (the trainer's and each method's) or the losses holds two statements."
    assert multi_statement_lines((PKG/module).read_text(), functions) == []

def test_codebook_update_one_statement_per_line():
    "No line of the codebook update (EMA step, dead-code reset, forward, commitment) holds two statements."
    fns = {'ema_update', 'reset_dead', 'forward', 'commitment', '_ema_targets'}
    assert multi_statement_lines((PKG/'codebook.py').read_text(), fns) == []

def test_notebooks_are_committed_without_outputs():
    """No notebook in nbs/ carries outputs or execution counts (nbdev_clean keeps outputs: `clear_all = True` would also
    drop the `parameters` tag that papermill needs, so this test is what keeps outputs out)."""
    dirty = []
    for p in sorted((Path(ROOT)/'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' in p.parts: continue
        cells = json.loads(p.read_text())['cells']
        dirty += [f"{p.name} cell {i}" for i, c in enumerate(cells) if c.get('outputs') or c.get('execution_count')]
    assert not dirty, f"committed with outputs: {dirty[:5]}; clear their outputs (Jupyter: Edit > Clear Outputs of All Cells) and save"

def test_module_docstrings_are_whole_sentences():
    "Every module's docstring (nbdev takes it from the notebook's first `>` line) is one whole sentence, ending in a period."
    import ast
    cut = [str(f.relative_to(PKG)) for f, src in _sources().items()
           if f.name != '__init__.py' and not (ast.get_docstring(ast.parse(src)) or '').rstrip().endswith('.')]
    assert not cut, f"module docstrings that stop mid-sentence (fix the notebook's first `>` line): {cut}"
