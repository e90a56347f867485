#!/usr/bin/env bash
# The load test with faults: runs scripts/loadtest.py (arguments pass through; by default 50
# members for 60 s) and, while it runs, restarts PostgreSQL once and Redis once, writing each
# outage's begin and back wall-clock times as a JSON line the load test reads to judge the
# answers given meanwhile and to time the recovery. Exits with the load test's status.
#
#   bash scripts/faults.sh                      # 50 members, 60 s
#   bash scripts/faults.sh --users 20 --duration 90 --report /tmp/faults.json
#
# FAULTS_PG_AFTER (15) is how many seconds into the load PostgreSQL restarts;
# FAULTS_REDIS_AFTER (20) how many seconds after PostgreSQL is back Redis restarts, and
# FAULTS_REDIS_DOWN (5) how long it stays stopped;
# FAULTS_CHECK_ONLY=1 only checks the machine and says what it would restart.
#
# It restarts the machine's own PostgreSQL cluster and Redis server, so it refuses to run
# unless both are local, on their usual ports, and Redis keeps nothing on disk (a restart loses
# its data, which must not matter). Everything else using them sees the outages too.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_AFTER="${FAULTS_PG_AFTER:-15}"
REDIS_AFTER="${FAULTS_REDIS_AFTER:-20}"
# Redis starts again in a fraction of a second; it stays stopped this long, so the site is seen
# serving without it.
REDIS_DOWN="${FAULTS_REDIS_DOWN:-5}"
REDIS_START=(redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save ""
  --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log)
PYTHON=.venv/bin/python
[[ -x "$PYTHON" ]] || PYTHON=python3

say() { printf 'faults: %s\n' "$*" >&2; }
refuse() {
  say "refusing to run: $*"
  exit 2
}
now() { date +%s.%N; }

# This machine, or refuse -------------------------------------------------------------------
for tool in pg_ctlcluster pg_lsclusters redis-server redis-cli setsid; do
  command -v "$tool" >/dev/null || refuse "$tool is not installed here"
done
versions=(/etc/postgresql/*)
[[ ${#versions[@]} -eq 1 && -d "${versions[0]}" ]] ||
  refuse "expected exactly one PostgreSQL version under /etc/postgresql"
PG_VERSION="$(basename "${versions[0]}")"
# The cluster must be online on 5432 and its postmaster a process of this machine.
pg_lsclusters --no-header |
  awk -v v="$PG_VERSION" '$1 == v && $2 == "main" && $3 == 5432 && $4 == "online" { ok = 1 }
    END { exit !ok }' ||
  refuse "PostgreSQL $PG_VERSION/main is not online on port 5432 here"
pid_file="/var/lib/postgresql/$PG_VERSION/main/postmaster.pid"
pg_pid="$(head -n1 "$pid_file" 2>/dev/null || true)"
[[ -n "$pg_pid" && -d "/proc/$pg_pid" ]] || refuse "no local postmaster found ($pid_file)"
# Redis on 127.0.0.1:6379, served by a local process, keeping nothing on disk.
[[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]] ||
  refuse "Redis does not answer on 127.0.0.1:6379"
redis_pid="$(redis-cli -h 127.0.0.1 -p 6379 info server | tr -d '\r' | sed -n 's/^process_id://p')"
[[ -n "$redis_pid" && "$(cat "/proc/$redis_pid/comm" 2>/dev/null)" == redis-server* ]] ||
  refuse "the Redis on 127.0.0.1:6379 is not a local redis-server process"
[[ "$(redis-cli -h 127.0.0.1 -p 6379 config get save | tr -d '\r' | sed -n 2p)" == "" &&
  "$(redis-cli -h 127.0.0.1 -p 6379 config get appendonly | tr -d '\r' | sed -n 2p)" == no ]] ||
  refuse "this Redis persists to disk; it is not the in-memory one this script restarts"

say "about to restart PostgreSQL $PG_VERSION/main (postmaster $pg_pid, port 5432)" \
  "${PG_AFTER}s into the load"
say "and Redis on 127.0.0.1:6379 (pid $redis_pid, in memory: its data is lost)" \
  "${REDIS_AFTER}s after that, stopped for ${REDIS_DOWN}s"
if [[ "${FAULTS_CHECK_ONLY:-0}" == 1 ]]; then
  say "FAULTS_CHECK_ONLY=1: nothing restarted"
  exit 0
fi

# The load test in the background ----------------------------------------------------------
work="$(mktemp -d -t npu-faults-XXXXXX)"
outages="$work/outages.jsonl"
ready="$work/load-started"
: >"$outages"
"$PYTHON" scripts/loadtest.py "$@" --outages "$outages" --ready-file "$ready" &
load_pid=$!
interrupted=0
redis_stopped=0

finish() {
  # Never leave the load test (and its gunicorn) running, nor Redis down, whatever stopped
  # this script.
  if load_running; then
    kill -TERM "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  if [[ $redis_stopped -eq 1 ]] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis again"
    run_detached "${REDIS_START[@]}" >/dev/null || say "could not start Redis: start it by hand"
  fi
  rm -rf "$work"
}
trap finish EXIT
on_signal() {
  interrupted=1
  kill -TERM "$load_pid" 2>/dev/null || true
}
trap on_signal INT TERM

load_running() { kill -0 "$load_pid" 2>/dev/null; }

# Runs a command in a session of its own and waits for it to finish, signals or not: a Ctrl-C
# meanwhile must not leave PostgreSQL or Redis half restarted.
run_detached() {
  local pid status=0
  setsid "$@" &
  pid=$!
  while :; do
    wait "$pid" && status=0 || status=$?
    kill -0 "$pid" 2>/dev/null || break # finished, not merely interrupted
  done
  return "$status"
}
# The members are at work: the load test made the ready file when they started and removes it
# when they stop, so no restart falls into its set-up or its checks afterwards.
loading() { load_running && [[ -e "$ready" && $interrupted -eq 0 ]]; }

# Sleeps `seconds`, or less if the load ends (or this script is interrupted) meanwhile.
wait_while_loading() {
  local until=$((SECONDS + $1))
  while ((SECONDS < until)) && loading; do
    sleep 0.5
  done
  loading
}

restart_postgresql() {
  local begin back
  say "restarting PostgreSQL $PG_VERSION/main"
  begin="$(now)"
  run_detached pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main restart ||
    say "pg_ctlcluster restart failed (status $?)"
  back="$(now)"
  printf '{"service": "postgresql", "begin": %s, "back": %s}\n' "$begin" "$back" >>"$outages"
  say "PostgreSQL back after $(awk -v a="$begin" -v b="$back" 'BEGIN { printf "%.2f", b - a }')s"
}

restart_redis() {
  local begin back deadline
  say "restarting Redis"
  begin="$(now)"
  redis_stopped=1
  run_detached redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || true
  deadline=$((SECONDS + 10))
  while redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && ((SECONDS < deadline)); do
    sleep 0.05
  done
  sleep "$REDIS_DOWN"
  run_detached "${REDIS_START[@]}" >/dev/null
  deadline=$((SECONDS + 30))
  until [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]]; do
    ((SECONDS < deadline)) || {
      say "Redis did not come back within 30 s"
      break
    }
    sleep 0.05
  done
  back="$(now)"
  redis_stopped=0
  printf '{"service": "redis", "begin": %s, "back": %s}\n' "$begin" "$back" >>"$outages"
  say "Redis back after $(awk -v a="$begin" -v b="$back" 'BEGIN { printf "%.2f", b - a }')s"
}

# The faults, once the members are at work ------------------------------------------------
while [[ ! -e "$ready" ]] && load_running && [[ $interrupted -eq 0 ]]; do
  sleep 0.5
done
if [[ -e "$ready" ]]; then
  if wait_while_loading "$PG_AFTER"; then
    restart_postgresql
    if wait_while_loading "$REDIS_AFTER"; then
      restart_redis
    else
      say "the load ended (or was interrupted) before the Redis restart"
    fi
  else
    say "the load ended (or was interrupted) before the PostgreSQL restart"
  fi
fi

status=0
wait "$load_pid" || status=$?
# A signal interrupts `wait`: wait again for the load test to stop gunicorn and report.
while load_running; do
  wait "$load_pid" || status=$?
done
say "load test exited with status $status"
# A run in which a restart never happened proves nothing about restarts.
made="$(grep -c '"service"' "$outages" || true)"
if [[ $status -eq 0 && $interrupted -eq 0 && "$made" -lt 2 ]]; then
  say "only $made of 2 restarts happened during the load: failing the run"
  status=1
fi
exit "$status"
