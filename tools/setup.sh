#!/usr/bin/env bash
# Set up everything cmwb needs on a fresh Debian machine: Debian packages, .venv with pinned packages,
# the cmwb package (editable) and a Jupyter kernel. Idempotent: a second run with nothing to do takes seconds.
#   bash tools/setup.sh          # what the workbench needs
#   bash tools/setup.sh --test   # plus what the tests need (chromium and its driver, for the in-browser test)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
say() { printf '[setup] %s\n' "$*"; }

# 1. Debian packages for the embedded data, and with --test for the tests (skipped when already there)
lists=(tools/apt-packages.txt); [ "${1:-}" = "--test" ] && lists+=(tools/apt-test-packages.txt)
missing=()
while read -r pkg; do
  [[ -z "$pkg" || "$pkg" == \#* ]] && continue
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done < <(cat "${lists[@]}")
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. the virtual environment and pinned Python packages (skipped when the pins did not change)
[ -x .venv/bin/python ] || { say "creating .venv"; "$PY" -m venv .venv; }
stamp=.venv/.cmwb-setup-stamp
want=$(cat requirements.txt requirements-nodeps.txt settings.ini setup.py | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing pinned Python packages (requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.txt
  # torchaudio's PyPI wheel is a CUDA build; on a CPU-only torch its C++ op libraries cannot load and
  # `import torchaudio` fails. Without them torchaudio uses its pure-Python path (mel, MFCC, resample work).
  if ! .venv/bin/python -c "import torchaudio" >/dev/null 2>&1; then
    ta_lib=$(.venv/bin/python -c "import importlib.util,pathlib;print(pathlib.Path(importlib.util.find_spec('torchaudio').origin).parent/'lib')")
    say "import torchaudio failed (CUDA wheel on CPU torch): removing $ta_lib/*.so so it uses its pure-Python ops"
    rm -f "$ta_lib"/*.so
    .venv/bin/python -c "import torchaudio" || { say "torchaudio still fails to import"; exit 1; }
  fi
  .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (cmwb)" >/dev/null
  echo "$want" > "$stamp"
fi
.venv/bin/python -c "import cmwb, torch, torchaudio; print('[setup] ready: cmwb', cmwb.__version__, '| torch', torch.__version__, '| torchaudio', torchaudio.__version__)"
