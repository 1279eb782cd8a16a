#!/usr/bin/env bash
# Create bench/.venv-peers: the peer libraries the benchmarks compare against.
# lifetimes 0.11.3 (last release, 2020) breaks on pandas 3, so the peers live in their own venv.
# pymc-marketing (0.15.1 resolved here, with pymc 5.25 and pytensor 2.31) installs alongside
# lifetimes when pip is held to lifetimes' pins (pandas<3, numpy<2, scipy<1.14); it is heavy
# (numba, llvmlite, h5py, arviz) and optional: a failed or timed-out install is reported and
# the CLV benchmark then skips it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv-peers"
pins=(
  'pandas<3' 'numpy<2' 'scipy<1.14' 'lifetimes==0.11.3'
)
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "${pins[@]}" 'lifelines'
"$venv/bin/python" -c "import lifetimes, lifelines, pandas, numpy; print('lifetimes', lifetimes.__version__, 'lifelines', lifelines.__version__, 'pandas', pandas.__version__, 'numpy', numpy.__version__)"
constraints="$(mktemp)"
printf '%s\n' "${pins[@]}" > "$constraints"
if "$venv/bin/python" -c "import pymc_marketing" 2>/dev/null || \
   timeout 1200 "$venv/bin/pip" install --quiet pymc-marketing -c "$constraints"; then
  "$venv/bin/python" -c "import pymc_marketing, pymc; print('pymc-marketing', pymc_marketing.__version__, 'pymc', pymc.__version__)"
else
  echo "pymc-marketing could not be installed in $venv (see pip output above); skipped" >&2
fi
rm -f "$constraints"
