#!/usr/bin/env bash
# JOSH under load, and under faults, on a private stack (docs/benchmarks.md, "End to end").
#
#   deploy/load.sh [options]
#     --rate N         texts per second offered (default 500)
#     --duration S     seconds of sending (default 60)
#     --faults         meanwhile: kill -9 each service in turn and restart it, restart nats-server,
#                      restart Postgres; redeliver some webhooks (duplicates, reordered copies);
#                      then verify that nothing was lost or done twice (loadgen verify)
#     --redeliver F    share of answered webhooks delivered again (default 0, 0.05 with --faults)
#     --profile P      release (default) or debug binaries
#     --ci             the small run CI does: --faults --rate 25 --duration 30 --profile debug
#     --warmup S       seconds of warm-up texts before the run, then ANALYZE (default 10; 0: none)
#     --keep           leave the stack and its temp dir running (prints how to stop it)
#
# A clean run (no --faults) ends with what one answered text cost: CPU seconds per process,
# Postgres commits, WAL flushes and rows per table, and the top statements (pg_stat_statements).
# JOSH_LOAD_AUTO_EXPLAIN_MS=N also logs the plan of every statement slower than N ms to the private
# Postgres's log ($WORK/postgres.log; keep it with --keep): how a bad plan is caught in the act.
#
# Never touches the shared Postgres (5432) or NATS (4222): it starts its own in a temp dir on
# JOSH_LOAD_PG_PORT (25432) and JOSH_LOAD_NATS_PORT (24222) (below the ephemeral port range), and runs the services and
# simulators through deploy/dev.sh with JOSH_DEV_PORT_OFFSET=JOSH_LOAD_PORT_OFFSET (20000:
# inbound-sms on 28081, twilio-sim on 28091...). Exits non-zero when verification fails.
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE=500 DURATION=60 FAULTS=0 REDELIVER="" PROFILE=release KEEP=0 WARMUP=10
PG_PORT="${JOSH_LOAD_PG_PORT:-25432}"
NATS_PORT="${JOSH_LOAD_NATS_PORT:-24222}"
OFFSET="${JOSH_LOAD_PORT_OFFSET:-20000}"
# The sender settings for load: one Messaging Service (a number pool) rated high enough that
# the per-sender token bucket is not what is measured, and enough concurrent send loops.
SENDER_ENV="TWILIO_MESSAGING_SERVICE_SID=MG00000000000000000000000000000001 OUTBOUND_SENDER_MPS=1000 OUTBOUND_WORKERS=16"
SENDER_WORKERS=16

while (($#)); do
    case "$1" in
    --rate) RATE="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --faults) FAULTS=1; shift ;;
    --redeliver) REDELIVER="$2"; shift 2 ;;
    --profile) PROFILE="$2"; shift 2 ;;
    --ci) FAULTS=1 RATE=25 DURATION=30 PROFILE=debug WARMUP=5; shift ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) josh_die "unknown option $1 (see --help)" ;;
    esac
done
[[ -n "$REDELIVER" ]] || REDELIVER=$([[ $FAULTS == 1 ]] && echo 0.05 || echo 0)

WORK="$(mktemp -d /tmp/josh-load.XXXXXX)"
chmod 755 "$WORK"
PG_DIR="$WORK/pg"
NATS_DIR="$WORK/nats"
export JOSH_DEV_DIR="$WORK/dev" JOSH_DEV_PORT_OFFSET="$OFFSET" JOSH_DEV_PROFILE="$PROFILE"
export JOSH_PG_PORT="$PG_PORT" JOSH_NATS_PORT="$NATS_PORT" JOSH_NATS_MONITOR_PORT=$((NATS_PORT + 1))
export JOSH_DEV_SERVICE_ENV="$SENDER_ENV"
export RUST_LOG="${RUST_LOG:-warn}"
SIM="http://127.0.0.1:$((8091 + OFFSET))"
DB_URL="postgres://postgres@127.0.0.1:$PG_PORT/josh"
NATS_URL="nats://127.0.0.1:$NATS_PORT"

# as_postgres <command...>: Postgres refuses to run as root.
as_postgres() {
    if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_bin() { printf '%s' "${JOSH_LOAD_PG_BIN:-/usr/lib/postgresql/15/bin}/$1"; }

start_postgres() {
    as_postgres "$(pg_bin pg_ctl)" -D "$PG_DIR" -l "$WORK/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_EXTRA:-}" start >/dev/null
}
stop_postgres() { as_postgres "$(pg_bin pg_ctl)" -D "$PG_DIR" -m "${1:-fast}" -w stop >/dev/null; }

start_nats() {
    setsid nohup nats-server -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$NATS_DIR" \
        -l "$WORK/nats.log" </dev/null >/dev/null 2>&1 &
    printf '%s\n' "$!" >"$WORK/nats.pid"
    josh_wait 30 "nats-server on $NATS_PORT" josh_port_open 127.0.0.1 "$NATS_PORT"
}
stop_nats() {
    local pid
    pid="$(cat "$WORK/nats.pid" 2>/dev/null)" || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    josh_wait 20 "nats-server to stop" bash -c "! kill -0 $pid 2>/dev/null"
}

cleanup() {
    local rc=$?
    if ((KEEP)); then
        local pg_ctl
        pg_ctl="$(pg_bin pg_ctl)"
        [[ "$(id -u)" == 0 ]] && pg_ctl="runuser -u postgres -- $pg_ctl"
        josh_info "kept: $WORK (stop: JOSH_DEV_DIR=$JOSH_DEV_DIR JOSH_DEV_PORT_OFFSET=$OFFSET deploy/dev.sh down; $pg_ctl -D $PG_DIR stop; kill \$(cat $WORK/nats.pid))"
        exit "$rc"
    fi
    "$JOSH_ROOT/deploy/dev.sh" down >/dev/null 2>&1 || true
    stop_nats >/dev/null 2>&1 || true
    stop_postgres fast >/dev/null 2>&1 || true
    if ((rc != 0)); then
        mkdir -p "$JOSH_ROOT/.dev"
        tar -C "$WORK" -czf "$JOSH_ROOT/.dev/load-failure-logs.tgz" dev/logs postgres.log nats.log 2>/dev/null || true
        josh_warn "logs of the failed run: .dev/load-failure-logs.tgz"
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

josh_section "private Postgres on $PG_PORT and NATS on $NATS_PORT (in $WORK)"
for port in "$PG_PORT" "$NATS_PORT" $((8081 + OFFSET)) $((8091 + OFFSET)); do
    if josh_port_open 127.0.0.1 "$port"; then josh_die "port $port is taken (set JOSH_LOAD_*_PORT)"; fi
done
mkdir -p "$PG_DIR" "$NATS_DIR"
[[ "$(id -u)" == 0 ]] && chown postgres "$PG_DIR" "$WORK"
as_postgres "$(pg_bin initdb)" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 >/dev/null
start_postgres
# pg_stat_statements (when the contrib module is installed) for the report's top statements.
if [[ -f "$(as_postgres "$(pg_bin pg_config)" --sharedir 2>/dev/null)/extension/pg_stat_statements.control" ]]; then
    stop_postgres fast
    PG_EXTRA="-c shared_preload_libraries=pg_stat_statements"
    if [[ -n "${JOSH_LOAD_AUTO_EXPLAIN_MS:-}" ]]; then
        [[ "$JOSH_LOAD_AUTO_EXPLAIN_MS" =~ ^[0-9]+$ ]] || josh_die "JOSH_LOAD_AUTO_EXPLAIN_MS must be a whole number of milliseconds"
        PG_EXTRA="-c shared_preload_libraries=pg_stat_statements,auto_explain -c auto_explain.log_min_duration=$JOSH_LOAD_AUTO_EXPLAIN_MS"
    fi
    start_postgres
fi
start_nats

josh_section "the stack ($PROFILE build, ports +$OFFSET)"
"$JOSH_ROOT/deploy/dev.sh" up
# `dev.sh up` built every binary of the workspace, loadgen included (building it alone would
# unify features differently and rebuild its dependencies).
LOADGEN="$(josh_target_dir)/$PROFILE/loadgen"
[[ -x "$LOADGEN" ]] || josh_die "$LOADGEN was not built"

# The faults, spread over the run: each service killed with SIGKILL and restarted, then
# nats-server restarted, then Postgres (immediate shutdown: a crash, recovered from WAL).
faults() {
    local gap name pid
    gap="$(awk -v d="$DURATION" 'BEGIN { g = d / 9; print (g < 1 ? 1 : g) }')"
    sleep "$gap"
    for name in inbound-sms conversation-router linkup-matcher billing outbound-sender; do
        pid="$(cat "$JOSH_DEV_DIR/pids/$name.pid")"
        josh_info "fault: kill -9 $name (pid $pid)"
        kill -KILL "$pid"
        "$JOSH_ROOT/deploy/dev.sh" restart "$name" >/dev/null
        sleep "$gap"
    done
    josh_info "fault: restart nats-server"
    stop_nats && start_nats
    sleep "$gap"
    josh_info "fault: restart Postgres (immediate shutdown)"
    stop_postgres immediate && start_postgres
}

# Postgres's write counters, to report what one text costs: commits (read-only ones included),
# WAL flushes (fsyncs: what commits wait on) and rows written per table.
db_counters() {
    josh_psql josh -At -F ' ' -c "
        select 'commits', xact_commit from pg_stat_database where datname = 'josh'
        union all select 'wal_syncs', wal_sync from pg_stat_wal
        union all select 'wal_kib', wal_bytes::bigint / 1024 from pg_stat_wal
        union all select 'rows:' || relname, n_tup_ins + n_tup_upd + n_tup_del from pg_stat_user_tables"
}

# CPU milliseconds used so far by each part of the stack: the services and simulators (their pid
# files), nats-server, and the private Postgres (postmaster and its backends).
cpu_counters() {
    local tck pid name
    tck="$(getconf CLK_TCK)"
    cpu_of() { awk -v t="$tck" '{ s += $14 + $15 } END { printf "%d", s * 1000 / t }' "$@" 2>/dev/null || echo 0; }
    for f in "$JOSH_DEV_DIR"/pids/*.pid; do
        name="$(basename "$f" .pid)" pid="$(cat "$f")"
        printf 'cpu_ms:%s %s\n' "$name" "$(cpu_of "/proc/$pid/stat")"
    done
    printf 'cpu_ms:nats-server %s\n' "$(cpu_of "/proc/$(cat "$WORK/nats.pid")/stat")"
    pid="$(head -n1 "$PG_DIR/postmaster.pid")"
    # shellcheck disable=SC2046 # one path per process
    printf 'cpu_ms:postgres %s\n' "$(cpu_of "/proc/$pid/stat" $(pgrep -P "$pid" | sed 's|.*|/proc/&/stat|'))"
}

# db_costs <before file> <after file> <texts>: the counters' growth per text, largest first.
db_costs() {
    awk -v texts="$3" 'NR == FNR { before[$1] = $2; next }
        { d = $2 - before[$1]; if (d > 0 && texts > 0) printf "%-40s %10d  %8.2f per text\n", $1, d, d / texts }' \
        "$1" "$2" | sort -k3 -rn
}

# Warm-up. On a new database Postgres plans the services' prepared statements for near-empty
# tables and keeps those generic plans until the tables are analyzed (e.g. a status update by
# its unique SID walked a whole partial index of outbound messages: 2,800 buffers a call, the
# largest cost of the pipeline at 200 texts/s). Autovacuum analyzes busy tables within a minute
# or two in production, but a short run on a fresh database never gets there and would measure
# that first minute. So: a few seconds of texts (other phones than the run's), then ANALYZE,
# which also makes every service re-plan.
WARM_AREA=$((200 + RANDOM % 400)) RUN_AREA=$((600 + RANDOM % 400))
if ((WARMUP > 0)); then
    warm_rate=$((RATE < 100 ? RATE : 100))
    josh_section "warm-up: $warm_rate texts/s for ${WARMUP}s, then ANALYZE"
    "$LOADGEN" run --sim "$SIM" --rate "$warm_rate" --duration "$WARMUP" --drain 90 --area "$WARM_AREA" \
        --report "$WORK/warmup.json" >"$WORK/warmup.log" 2>&1 || {
        cat "$WORK/warmup.log" >&2
        josh_die "the warm-up run failed"
    }
    grep -E '^(webhooks answered|replies)' "$WORK/warmup.log" || true
    josh_psql josh -c "analyze" >/dev/null
fi

josh_section "load: $RATE texts/s for ${DURATION}s$([[ $FAULTS == 1 ]] && echo ', with faults')"
if [[ -n "${PG_EXTRA:-}" ]]; then
    josh_psql josh -c "create extension if not exists pg_stat_statements" -c "select pg_stat_statements_reset()" >/dev/null
fi
{ db_counters; cpu_counters; } >"$WORK/db-before.txt"
"$LOADGEN" run --sim "$SIM" --rate "$RATE" --duration "$DURATION" --drain 90 \
    --redeliver "$REDELIVER" --area "$RUN_AREA" --pids "$JOSH_DEV_DIR/pids" --report "$WORK/report.json" &
load_pid=$!
if ((FAULTS)); then faults; fi
wait "$load_pid" || josh_die "loadgen run failed"

josh_section "verification"
kills=$((FAULTS == 1 ? SENDER_WORKERS : 0))
# A status callback for a send whose result was cut off by a fault is retried by its consumer on
# the bus's backoff (1 s, 5 s, 30 s, 120 s), plus up to 10 s of ack wait per delivery that a
# killed process held, so after faults allow for the whole schedule (one CI run needed over 200 s).
SETTLE=$((FAULTS == 1 ? 400 : 90))
"$LOADGEN" verify --report "$WORK/report.json" --database-url "$DB_URL" --nats-url "$NATS_URL" \
    --sim "$SIM" --cut-sends-allowed "$kills" --settle "$SETTLE" || josh_die "verification failed (numbers above)"
if ((FAULTS == 0)); then
    # After a Postgres restart its counters start again, so costs are reported for clean runs only.
    { db_counters; cpu_counters; } >"$WORK/db-after.txt"
    texts="$(grep -o '"accepted": *[0-9]*' "$WORK/report.json" | grep -o '[0-9]*$' || echo 0)"
    josh_section "cost per answered text ($texts texts; CPU ms, Postgres commits and rows, run and settle)"
    db_costs "$WORK/db-before.txt" "$WORK/db-after.txt" "$texts" | head -n 40
    if [[ -n "$(josh_psql josh -At -c "select 1 from pg_extension where extname = 'pg_stat_statements'")" ]]; then
        josh_section "Postgres statements by total time (top 15)"
        josh_psql josh -c "select calls, round(total_exec_time)::bigint as total_ms,
                round((calls::numeric / greatest($texts, 1)), 2) as per_text,
                shared_blks_hit / greatest(calls, 1) as buffers_per_call,
                left(regexp_replace(query, '\s+', ' ', 'g'), 100) as query
            from pg_stat_statements order by total_exec_time desc limit 15"
        # Every statement is a round trip (BEGIN and COMMIT too): with two cores shared by
        # everything, their wake-ups and context switches are much of Postgres's CPU.
        josh_section "Postgres statements per text, by role (BEGIN and COMMIT included)"
        josh_psql josh -c "select coalesce(r.rolname, 'all') as role, round(sum(s.calls)::numeric / greatest($texts, 1), 1) as per_text
            from pg_stat_statements s join pg_roles r on r.oid = s.userid
            where r.rolname like 'josh\_%' group by rollup (r.rolname) order by per_text"
    fi
fi
mkdir -p "$JOSH_ROOT/.dev"
cp "$WORK/report.json" "$JOSH_ROOT/.dev/load-report.json"
josh_info "report: .dev/load-report.json"
