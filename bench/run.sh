#!/usr/bin/env bash
# Run every benchmark in bench/ with the project's environment; peers that conflict with our
# pins (lifetimes, lifelines: pandas<3) run in bench/.venv-peers, made by make_peer_env.sh.
# Results are printed and written under bench/results/; bench/README.md holds the table.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
if [ -x bench/make_peer_env.sh ] || [ -f bench/make_peer_env.sh ]; then
  bash bench/make_peer_env.sh
fi
mkdir -p bench/results
status=0
for script in bench/*/bench_*.py; do
  [ -e "$script" ] || continue
  echo "== $script"
  if ! "$PY" "$script"; then
    echo "!! $script failed" >&2
    status=1
  fi
done
exit $status
