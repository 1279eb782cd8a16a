#!/usr/bin/env bash
# Create bench/.venv-peers: the peer libraries the CLV benchmark compares against.
# lifetimes 0.11.3 (last release, 2020) breaks on pandas 3, so the peers live in their own venv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peers"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet 'pandas<3' 'numpy<2' 'scipy<1.14' 'lifetimes==0.11.3' 'lifelines'
"$venv/bin/python" -c "import lifetimes, lifelines, pandas, numpy; print('lifetimes', lifetimes.__version__, 'lifelines', lifelines.__version__, 'pandas', pandas.__version__, 'numpy', numpy.__version__)"
