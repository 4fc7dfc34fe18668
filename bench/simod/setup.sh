#!/usr/bin/env bash
# Create bench/simod/.venv (Python 3.11) and install the benchmark's requirements. Idempotent:
# an existing venv is reused and pip leaves satisfied requirements alone.
# Needs python3.11 and Java (Simod runs Split Miner's jar); nothing goes into Obeya's .venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null || { echo "setup.sh: $python not found (set PYTHON=...)" >&2; exit 1; }
command -v java >/dev/null || echo "setup.sh: warning: no java on PATH; Simod's Split Miner needs it" >&2
if [ ! -x "$here/.venv/bin/python" ]; then
    "$python" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --upgrade pip
"$here/.venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
"$here/.venv/bin/python" -c "import simod, log_distance_measures, prosimos; print('bench/simod/.venv ready')"
"$here/.venv/bin/simod" --version
