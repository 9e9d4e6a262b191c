#!/usr/bin/env bash
# make down: stop the Airflow that `make up` started (by the pids it recorded).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN=".data/airflow/home/run"
shopt -s nullglob
pids=("$RUN"/*.pid)
if (( ${#pids[@]} == 0 )); then
  echo "No Airflow started by make up is running."
  exit 0
fi
for pidfile in "${pids[@]}"; do
  pid="$(cat "$pidfile")"
  name="$(basename "$pidfile" .pid)"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"  # the component's process group
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL -- "-$pid" 2>/dev/null
    echo "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
done
