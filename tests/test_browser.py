"""In a real browser: headless JupyterLab on localhost runs the quickstart notebook, whose dashboard (ipywidgets +
plotly FigureWidgets) must render; then the HTML report it wrote must render its figures from a file:// URL.
Needs Debian's chromium and chromium-driver (`tools/setup.sh --test` installs them; `.ci/run` does)."""
import os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER, CHROMIUM = shutil.which('chromedriver'), shutil.which('chromium') or shutil.which('chromium-browser')
pytestmark = pytest.mark.skipif(not (DRIVER and CHROMIUM), reason='needs chromium and chromium-driver: bash tools/setup.sh --test')
TOKEN = 'cmwb-browser-test'

def _free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait(cond, timeout:float, what:str, every:float=0.5):
    "Poll `cond()` until it returns something truthy; fail naming `what` after `timeout` seconds."
    end = time.time() + timeout
    while time.time() < end:
        if (r := cond()): return r
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")

@pytest.fixture(scope='module')
def lab(ci_manifest, tmp_path_factory):
    "A headless JupyterLab serving a copy of the quickstart notebook whose run goes to a temporary folder."
    import papermill as pm
    root = tmp_path_factory.mktemp('lab'); port = _free_port()
    pm.execute_notebook(str(ROOT/'nbs'/'tutorials'/'quickstart.ipynb'), str(root/'quickstart.ipynb'), prepare_only=True,
                        parameters=dict(out=str(root/'run'), epochs=1))
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(root/'.jupyter'), 'CMWB_DATA': os.environ.get('CMWB_DATA', str(ROOT/'data'))}
    log = open(root/'lab.log', 'w'); settings = root/'.settings'/'@jupyterlab'/'apputils-extension'
    settings.mkdir(parents=True)                # no "Jupyter news?" prompt over the screenshot: never fetch news
    (settings/'notification.jupyterlab-settings').write_text('{"fetchNews": "false", "checkForUpdates": false}')
    lab = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ServerApp.ip=127.0.0.1',
                            f'--ServerApp.token={TOKEN}', f'--ServerApp.root_dir={root}', '--allow-root',
                            f'--LabApp.user_settings_dir={root/".settings"}',
                            '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'], env=env, stdout=log, stderr=log)
    def up():
        try: return urllib.request.urlopen(f'http://127.0.0.1:{port}/api/status?token={TOKEN}', timeout=2).status == 200
        except OSError: return False
    try:
        _wait(up, 120, 'JupyterLab to start'); yield root, port
    finally: lab.terminate(); lab.wait(30); log.close()

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = CHROMIUM
    for a in ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1400,2200',
              f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", '--no-first-run', '--disable-background-networking']:
        opts.add_argument(a)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    d = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield d
    d.quit()

def _css(d, sel): return d.find_elements('css selector', sel)

def _save_screenshot(d, name, tmp_path) -> Path:
    "Save a screenshot beside the test's files (and in $CMWB_ARTIFACTS when set); check it is not blank."
    from PIL import Image
    p = tmp_path/name; d.save_screenshot(str(p))
    colours = Image.open(p).convert('RGB').getcolors(maxcolors=1 << 20)
    assert colours is None or len(colours) > 50, f"{p}: the screenshot is nearly blank"
    if os.environ.get('CMWB_ARTIFACTS'): Path(os.environ['CMWB_ARTIFACTS']).mkdir(parents=True, exist_ok=True); shutil.copy(p, Path(os.environ['CMWB_ARTIFACTS'])/name)
    return p

def test_quickstart_dashboard_renders_in_jupyterlab(lab, browser, tmp_path):
    root, port = lab; d = browser
    d.get(f'http://127.0.0.1:{port}/lab/tree/quickstart.ipynb?token={TOKEN}')
    _wait(lambda: _css(d, '.jp-Notebook .jp-Cell'), 120, 'the notebook to open')
    _wait(lambda: _css(d, '.jp-Notebook-ExecutionIndicator[data-status="idle"]') or 'Idle' in d.find_element('css selector', 'body').text, 120, 'the kernel to start')
    run_menu = _wait(lambda: [e for e in _css(d, '.lm-MenuBar-item') if e.text.strip() == 'Run'], 30, "the 'Run' menu")
    run_menu[0].click()
    _wait(lambda: [e for e in _css(d, '.lm-Menu-item') if e.text.strip().startswith('Run All Cells')], 10, "'Run All Cells'")[0].click()
    # every cell ran: the last one (write_report) printed the report's path, and no prompt is still busy
    _wait(lambda: 'report.html' in d.find_element('css selector', '.jp-Notebook').text and
          not [p for p in _css(d, '.jp-InputPrompt') if '*' in p.text], 600, 'every cell to finish', every=2)
    errors = [e.text[:400] for e in _css(d, '.jp-OutputArea-output') if 'Traceback' in e.text or 'Error:' in e.text]
    assert not errors, errors
    # the dashboard: a stage slider, a modality filter, and plotly figures drawn as SVG
    _wait(lambda: _css(d, '.jupyter-widgets .widget-slider, .jupyter-widgets.widget-slider'), 60, 'the stage slider widget')
    assert _css(d, '.jupyter-widgets .widget-dropdown select, .jupyter-widgets .widget-toggle-buttons, .jupyter-widgets .widget-select-multiple'), 'no modality filter'
    plots = _wait(lambda: [p for p in _css(d, '.js-plotly-plot') if p.find_elements('css selector', '.main-svg')], 60, 'plotly figures')
    assert len(plots) >= 3, f'{len(plots)} plotly figures rendered'
    assert _css(d, '.js-plotly-plot .scatterlayer .trace, .js-plotly-plot .heatmaplayer image, .js-plotly-plot .barlayer .trace')
    d.execute_script("arguments[0].scrollIntoView({block: 'start'})", _css(d, '.jupyter-widgets')[0])
    # nothing overflows the notebook at 1400 px with the file browser open: every panel ends inside the notebook panel
    over = d.execute_script("""const nb = document.querySelector('.jp-NotebookPanel').getBoundingClientRect();
        return [...document.querySelectorAll('.js-plotly-plot, .jupyter-widgets')].map(e => e.getBoundingClientRect())
               .filter(r => r.width > 0 && r.right > nb.right + 1).map(r => [r.left, r.right, nb.right]);""")
    assert not over, f'panels wider than the notebook: {over}'
    shot = _save_screenshot(d, 'dashboard-jupyterlab.png', tmp_path)
    assert shot.stat().st_size > 20_000

def test_report_renders_its_figures(lab, browser, tmp_path):
    root, _ = lab; d = browser
    report = _wait(lambda: next((root/'run').glob('report.html'), None), 600, 'the report written by the quickstart')
    d.get(report.as_uri())
    plots = _wait(lambda: [p for p in _css(d, '.js-plotly-plot') if p.find_elements('css selector', '.main-svg')], 60, 'report figures')
    assert len(plots) >= 5, f'{len(plots)} figures rendered in {report}'
    severe = [l['message'] for l in d.get_log('browser') if l['level'] == 'SEVERE']
    assert not severe, severe
    _save_screenshot(d, 'report.png', tmp_path)
