"""Write README.md from nbs/index.ipynb (quarto, which nbdev_readme needs, is not installable offline).
`python tools/readme.py` rewrites README.md; `--check` fails if README.md is out of date."""
import sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

root = Path(__file__).resolve().parents[1]
nb = nbformat.read(root/'nbs'/'index.ipynb', as_version=4)
nb.cells = [c for c in nb.cells if not c.source.lstrip().startswith('#| hide')]
text = '<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->\n\n'
text += MarkdownExporter().from_notebook_node(nb)[0].strip() + '\n'
readme = root/'README.md'
if '--check' in sys.argv:
    if readme.read_text() != text: sys.exit('README.md is out of date: run `python tools/readme.py` and commit it')
else: readme.write_text(text)
