#!/usr/bin/env bash
# JOSH's local stack. Works from any directory.
#
#   deploy/dev.sh up       build, migrate, seed and (re)start every service; wait until all are ready
#   deploy/dev.sh down     stop the services started by `up`
#   deploy/dev.sh status   each service's /readyz
#   deploy/dev.sh demo     play the whole journey (eight phones, one LinkUp) against the stack `up` started
#   deploy/dev.sh test     run the whole test suite (extra arguments go to cargo nextest / cargo test)
#   deploy/dev.sh psql     psql on the dev database (extra arguments go to psql)
#   deploy/dev.sh logs [service]   follow the services' logs
#   deploy/dev.sh restart SERVICE  (re)start one service or simulator and wait until it is ready
#
# State lives in .dev/ (gitignored): secrets.env (generated once), logs/, pids/.
# Overrides (deploy/load.sh runs a second stack with them; the defaults are the dev stack):
#   JOSH_DEV_DIR (.dev), JOSH_DEV_DB (josh), JOSH_DEV_PORT_OFFSET (0: added to every port),
#   JOSH_DEV_PROFILE (debug or release), JOSH_DEV_SERVICE_ENV (extra NAME=value settings, space
#   separated, given to every service), JOSH_PG_PORT, JOSH_NATS_PORT.
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEV_DIR="${JOSH_DEV_DIR:-$JOSH_ROOT/.dev}"
SECRETS="$DEV_DIR/secrets.env"
LOG_DIR="$DEV_DIR/logs"
PID_DIR="$DEV_DIR/pids"
DEV_DB="${JOSH_DEV_DB:-josh}"
PORT_OFFSET="${JOSH_DEV_PORT_OFFSET:-0}"
PROFILE="${JOSH_DEV_PROFILE:-debug}"
[[ "$PORT_OFFSET" =~ ^[0-9]+$ ]] || josh_die "JOSH_DEV_PORT_OFFSET must be a whole number"
[[ "$PROFILE" == debug || "$PROFILE" == release ]] || josh_die "JOSH_DEV_PROFILE must be debug or release"
[[ "$DEV_DB" =~ ^[a-z_][a-z0-9_]*$ ]] || josh_die "JOSH_DEV_DB must be a plain lower-case name"
# port <dev port>: the port with the offset applied.
port() { printf '%s' "$(($1 + PORT_OFFSET))"; }
READY_SECS="${JOSH_READY_SECS:-60}"
STOP_SECS="${JOSH_STOP_SECS:-20}"

# The local Twilio (twilio-sim) and Stripe (stripe-sim) simulators listen here.
TWILIO_SIM_BASE="http://127.0.0.1:$(port 8091)"
STRIPE_SIM_BASE="http://127.0.0.1:$(port 8092)"
# Where the Twilio simulator posts inbound texts: inbound-sms, as its PUBLIC_BASE_URL names it.
INBOUND_SMS_WEBHOOK="http://127.0.0.1:$(port 8081)/v1/twilio/sms"
# Where the Stripe simulator posts events: billing's webhook.
BILLING_STRIPE_WEBHOOK="http://127.0.0.1:$(port 8084)/v1/stripe/webhook"

# name | Postgres group role | HTTP port | gRPC port (- for none) | PUBLIC_BASE_URL
# PUBLIC_BASE_URL is where outsiders reach the URLs a service hands out or verifies: Twilio's
# webhooks and status callbacks land on inbound-sms, magic links on the router, Stripe on billing.
SERVICES=(
    "inbound-sms|josh_inbound_sms|$(port 8081)|$(port 9081)|http://127.0.0.1:$(port 8081)"
    "conversation-router|josh_conversation_router|$(port 8082)|$(port 9082)|http://127.0.0.1:$(port 8082)"
    "linkup-matcher|josh_linkup_matcher|$(port 8083)|$(port 9083)|http://127.0.0.1:$(port 8082)"
    "billing|josh_billing|$(port 8084)|$(port 9084)|http://127.0.0.1:$(port 8084)"
    "outbound-sender|josh_outbound_sender|$(port 8085)|$(port 9085)|http://127.0.0.1:$(port 8081)"
)

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# Splits one SERVICES row into svc_name, svc_role, svc_http, svc_grpc, svc_public.
svc_fields() { IFS='|' read -r svc_name svc_role svc_http svc_grpc svc_public <<<"$1"; }

login_role() { printf '%s_login' "$1"; }

# --- processes ----------------------------------------------------------------------------------

# The pid of a running service we started, or nothing.
service_pid() {
    local name="$1" file="$PID_DIR/$1.pid" pid
    [[ -f "$file" ]] || return 1
    pid="$(<"$file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Guard against a recycled pid: the process must be our binary.
    [[ "$(ps -o args= -p "$pid" 2>/dev/null)" == *"/$name"* ]] || return 1
    printf '%s' "$pid"
}

# The HTTP status of a service's /readyz, or "down" when nothing answers.
readyz_code() {
    local code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/readyz" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != 000 ]] || code=down
    printf '%s' "$code"
}

# --- secrets ------------------------------------------------------------------------------------

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

ensure_secrets() {
    if [[ -f "$SECRETS" ]]; then
        josh_info "reusing dev secrets in ${SECRETS#"$JOSH_ROOT"/} (delete it to regenerate)"
        return 0
    fi
    mkdir -p "$DEV_DIR"
    local tmp
    tmp="$(mktemp "$DEV_DIR/secrets.XXXXXX")"
    chmod 600 "$tmp"
    {
        printf '# JOSH dev secrets, generated once by deploy/dev.sh on %s. Never use them outside dev.\n' "$(date -u +%FT%TZ)"
        printf '# Edit to taste; delete this file to generate new ones.\n'
        printf 'JOSH_ENCRYPTION_KEYS=1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
        printf 'JOSH_ACTIVE_KEY_VERSION=1\n'
        printf 'JOSH_PHONE_PEPPER=%s\n' "$(random_hex 24)"
        printf '# Test credentials for the local Twilio simulator (not a real account).\n'
        printf 'TWILIO_ACCOUNT_SID=AC%s\n' "$(random_hex 16)"
        printf 'TWILIO_AUTH_TOKEN=%s\n' "$(random_hex 16)"
        printf 'TWILIO_FROM_NUMBER=+15005550006\n'
        printf '# Test credentials for the local Stripe simulator (not a real account).\n'
        printf 'STRIPE_SECRET_KEY=sk_test_%s\n' "$(random_hex 24)"
        printf 'STRIPE_WEBHOOK_SECRET=whsec_%s\n' "$(random_hex 24)"
        printf '# Password of the per-service Postgres login roles (josh_<service>_login).\n'
        printf 'JOSH_DEV_DB_PASSWORD=%s\n' "$(random_hex 16)"
    } >"$tmp"
    mv "$tmp" "$SECRETS"
    josh_info "generated dev secrets in ${SECRETS#"$JOSH_ROOT"/}"
}

load_secrets() {
    local line key value
    while IFS= read -r line || [[ -n "$line" ]]; do
        [[ -z "$line" || "$line" == \#* ]] && continue
        # Split at the first '=' only: base64 values end in '='.
        key="${line%%=*}"
        value="${line#*=}"
        [[ "$key" =~ ^(JOSH|TWILIO|STRIPE)_[A-Z0-9_]+$ ]] || josh_die "unexpected setting in $SECRETS: $key"
        printf -v "$key" '%s' "$value"
    done <"$SECRETS"
    local need
    for need in JOSH_ENCRYPTION_KEYS JOSH_ACTIVE_KEY_VERSION JOSH_PHONE_PEPPER TWILIO_ACCOUNT_SID \
        TWILIO_AUTH_TOKEN TWILIO_FROM_NUMBER STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET JOSH_DEV_DB_PASSWORD; do
        [[ -n "${!need:-}" ]] || josh_die "$SECRETS lacks $need (delete the file to regenerate it)"
    done
}

# --- database -----------------------------------------------------------------------------------

ensure_database() {
    if [[ "$(josh_psql postgres -At -c "select 1 from pg_database where datname = '$DEV_DB'")" != 1 ]]; then
        josh_psql postgres -c "create database $DEV_DB"
        josh_info "created database $DEV_DB"
    fi
}

migrate() {
    local joshctl
    joshctl="$(josh_target_dir)/$PROFILE/joshctl"
    [[ -x "$joshctl" ]] || josh_die "$joshctl was not built"
    DATABASE_URL="$(josh_pg_url "$DEV_DB")" "$joshctl" migrate || josh_die "joshctl migrate failed"
}

seed() {
    local file="$JOSH_ROOT/deploy/seed/dev.sql"
    if [[ ! -f "$file" ]]; then
        josh_warn "no ${file#"$JOSH_ROOT"/}: skipping the dev seed"
        return 0
    fi
    PGOPTIONS='--client-min-messages=warning' josh_psql "$DEV_DB" -1 -f "$file" >/dev/null ||
        josh_die "applying ${file#"$JOSH_ROOT"/} failed"
    josh_info "applied ${file#"$JOSH_ROOT"/}"
}

# One LOGIN role per service, member of the service's NOLOGIN group role from the migrations.
ensure_login_roles() {
    local row
    for row in "${SERVICES[@]}"; do
        svc_fields "$row"
        if [[ "$(josh_psql postgres -At -c "select 1 from pg_roles where rolname = '$svc_role'")" != 1 ]]; then
            josh_die "the migrations did not create the group role $svc_role"
        fi
        # The password goes through stdin, not the command line.
        josh_psql postgres -v login="$(login_role "$svc_role")" -v grp="$svc_role" >/dev/null <<SQL
\\set pw '$JOSH_DEV_DB_PASSWORD'
select format('create role %I login in role %I', :'login', :'grp')
 where not exists (select from pg_roles where rolname = :'login') \gexec
select format('grant %I to %I', :'grp', :'login')
 where not pg_has_role(:'login', :'grp', 'member') \gexec
alter role :"login" with login password :'pw';
SQL
    done
    josh_info "login roles ready: $(for row in "${SERVICES[@]}"; do
        svc_fields "$row"
        printf '%s ' "$(login_role "$svc_role")"
    done)"
}

# --- Twilio and Stripe simulators ---------------------------------------------------------------
# >>> SIMULATORS: local stand-ins for the outside world, started before the services and stopped
# >>> after them. One row per simulator: name (its binary, pid and log file) | base URL (what the
# >>> services' *_API_BASE point at) | readiness path answering 200. Each one's settings come from
# >>> sim_env. To add one (the Stripe simulator): a row here, a case in sim_env, a line in
# >>> print_table if wanted.
SIMULATORS=(
    "twilio-sim|$TWILIO_SIM_BASE|/sim/health"
    "stripe-sim|$STRIPE_SIM_BASE|/sim/health"
)

# Splits one SIMULATORS row into sim_name, sim_base, sim_ready.
sim_fields() { IFS='|' read -r sim_name sim_base sim_ready <<<"$1"; }

# The settings of simulator $1, one NAME=value per line (secrets come from load_secrets).
sim_env() {
    case "$1" in
    twilio-sim)
        printf '%s\n' \
            "TWILIO_ACCOUNT_SID=$TWILIO_ACCOUNT_SID" \
            "TWILIO_AUTH_TOKEN=$TWILIO_AUTH_TOKEN" \
            "TWILIO_FROM_NUMBER=$TWILIO_FROM_NUMBER" \
            "SIM_LISTEN=${TWILIO_SIM_BASE#http://}" \
            "SIM_INBOUND_WEBHOOK_URL=$INBOUND_SMS_WEBHOOK"
        ;;
    stripe-sim)
        printf '%s\n' \
            "STRIPE_SECRET_KEY=$STRIPE_SECRET_KEY" \
            "STRIPE_WEBHOOK_SECRET=$STRIPE_WEBHOOK_SECRET" \
            "SIM_LISTEN=${STRIPE_SIM_BASE#http://}" \
            "SIM_WEBHOOK_URL=$BILLING_STRIPE_WEBHOOK"
        ;;
    *) josh_die "no settings for simulator $1" ;;
    esac
}

# The HTTP status of a simulator's readiness path, or "down".
sim_ready_code() {
    local code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null)" || true
    [[ -n "$code" && "$code" != 000 ]] || code=down
    printf '%s' "$code"
}

start_simulator() {
    sim_fields "$1"
    local bin log="$LOG_DIR/$sim_name.log" port="${sim_base##*:}"
    bin="$(josh_target_dir)/$PROFILE/$sim_name"
    [[ -x "$bin" ]] || josh_die "$bin was not built"
    if josh_port_open 127.0.0.1 "$port"; then
        josh_die "port $port is taken by another process; $sim_name cannot start (see: ss -ltnp)"
    fi
    local env=(PATH="$PATH" HOME="${HOME:-/tmp}" RUST_LOG="${RUST_LOG:-info}" RUST_BACKTRACE=1)
    local line
    while IFS= read -r line; do
        env+=("$line")
    done < <(sim_env "$sim_name")
    printf '\n=== %s: starting %s ===\n' "$(date -u +%FT%TZ)" "$sim_name" >>"$log"
    # Like start_service: a clean environment and its own session.
    (
        while IFS= read -r name; do
            unset "$name" 2>/dev/null || true
        done < <(compgen -e)
        export "${env[@]}"
        exec setsid nohup "$bin"
    ) >>"$log" 2>&1 </dev/null &
    printf '%s\n' "$!" >"$PID_DIR/$sim_name.pid"
}

# (Re)starts every simulator and waits until each answers its readiness path.
start_simulators() {
    stop_simulators || josh_die "cannot restart: a simulator from an earlier 'up' does not stop"
    local row deadline=$((SECONDS + READY_SECS))
    for row in "${SIMULATORS[@]}"; do
        start_simulator "$row"
    done
    for row in "${SIMULATORS[@]}"; do
        sim_fields "$row"
        until [[ "$(sim_ready_code "$sim_base$sim_ready")" == 200 ]]; do
            if ! service_pid "$sim_name" >/dev/null; then
                tail -n 15 "$LOG_DIR/$sim_name.log" | sed 's/^/    /' >&2
                josh_die "$sim_name exited during start-up (log above: $LOG_DIR/$sim_name.log)"
            fi
            ((SECONDS < deadline)) || josh_die "$sim_name is not ready after ${READY_SECS}s (see $LOG_DIR/$sim_name.log)"
            sleep 0.2
        done
        josh_info "$sim_name ready on $sim_base"
    done
}

# SIGTERM every running simulator and wait (bounded) for each to exit.
stop_simulators() {
    local row pid rc=0 deadline
    for row in "${SIMULATORS[@]}"; do
        sim_fields "$row"
        if ! pid="$(service_pid "$sim_name")"; then
            rm -f "$PID_DIR/$sim_name.pid"
            continue
        fi
        kill -TERM "$pid" 2>/dev/null || true
        deadline=$((SECONDS + STOP_SECS))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            josh_warn "$sim_name (pid $pid) still running ${STOP_SECS}s after SIGTERM: kill -KILL $pid"
            rc=1
        else
            rm -f "$PID_DIR/$sim_name.pid"
            josh_info "stopped: $sim_name"
        fi
    done
    return "$rc"
}
# <<< SIMULATORS

# --- services -----------------------------------------------------------------------------------

start_service() {
    svc_fields "$1"
    local bin log pid
    bin="$(josh_target_dir)/$PROFILE/$svc_name"
    log="$LOG_DIR/$svc_name.log"
    [[ -x "$bin" ]] || josh_die "$bin was not built"
    if josh_port_open 127.0.0.1 "$svc_http" || { [[ "$svc_grpc" != - ]] && josh_port_open 127.0.0.1 "$svc_grpc"; }; then
        josh_die "port $svc_http or $svc_grpc is taken by another process; $svc_name cannot start (see: ss -ltnp)"
    fi
    local env=(
        PATH="$PATH"
        HOME="${HOME:-/tmp}"
        RUST_LOG="${RUST_LOG:-info}"
        RUST_BACKTRACE=1
        DATABASE_URL="postgres://$(login_role "$svc_role"):$JOSH_DEV_DB_PASSWORD@$JOSH_PG_HOST:$JOSH_PG_PORT/$DEV_DB"
        NATS_URL="$JOSH_NATS_URL"
        HTTP_ADDR="127.0.0.1:$svc_http"
        PUBLIC_BASE_URL="$svc_public"
        JOSH_ENCRYPTION_KEYS="$JOSH_ENCRYPTION_KEYS"
        JOSH_ACTIVE_KEY_VERSION="$JOSH_ACTIVE_KEY_VERSION"
        JOSH_PHONE_PEPPER="$JOSH_PHONE_PEPPER"
        TWILIO_ACCOUNT_SID="$TWILIO_ACCOUNT_SID"
        TWILIO_AUTH_TOKEN="$TWILIO_AUTH_TOKEN"
        TWILIO_FROM_NUMBER="$TWILIO_FROM_NUMBER"
        TWILIO_API_BASE="$TWILIO_SIM_BASE"
        STRIPE_SECRET_KEY="$STRIPE_SECRET_KEY"
        STRIPE_WEBHOOK_SECRET="$STRIPE_WEBHOOK_SECRET"
        STRIPE_API_BASE="$STRIPE_SIM_BASE"
        # One simulated clock for the whole stack (wall time plus an offset in NATS), so
        # `joshctl clock advance 2h` and `deploy/dev.sh demo` move every service's time at once.
        JOSH_CLOCK="${JOSH_CLOCK:-simulated}"
        JOSH_ALLOW_SIMULATED_CLOCK=true
        # The Twilio simulator has no carrier limit: send faster than a US long code's 1/s.
        OUTBOUND_SENDER_MPS="${OUTBOUND_SENDER_MPS:-50}"
    )
    if [[ "$svc_grpc" != - ]]; then
        env+=(GRPC_ADDR="127.0.0.1:$svc_grpc")
    fi
    if [[ "$svc_name" == outbound-sender ]]; then
        # A name that survives restarts (so a restarted sender takes back the jobs its killed
        # predecessor held) and that no other running sender has (its HTTP port is its own).
        env+=(OUTBOUND_INSTANCE_ID="dev-$svc_http")
    fi
    local extra
    for extra in ${JOSH_DEV_SERVICE_ENV:-}; do
        [[ "$extra" =~ ^[A-Z][A-Z0-9_]*=.*$ ]] || josh_die "JOSH_DEV_SERVICE_ENV: expected NAME=value, got $extra"
        env+=("$extra")
    done
    printf '\n=== %s: starting %s ===\n' "$(date -u +%FT%TZ)" "$svc_name" >>"$log"
    # A clean environment (nothing leaks in from this shell; secrets never appear on a command line)
    # and its own session, so the service outlives this script and the terminal's Ctrl-C.
    (
        while IFS= read -r name; do
            unset "$name" 2>/dev/null || true
        done < <(compgen -e)
        export "${env[@]}"
        exec setsid nohup "$bin"
    ) >>"$log" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$PID_DIR/$svc_name.pid"
}

# Waits until every service answers /readyz with 200; fails early when one exits.
wait_ready() {
    local deadline=$((SECONDS + READY_SECS)) pending row code
    while :; do
        pending=()
        for row in "${SERVICES[@]}"; do
            svc_fields "$row"
            if ! service_pid "$svc_name" >/dev/null; then
                josh_warn "$svc_name exited during start-up; last lines of $LOG_DIR/$svc_name.log:"
                tail -n 15 "$LOG_DIR/$svc_name.log" | sed 's/^/    /' >&2
                return 1
            fi
            code="$(readyz_code "$svc_http")"
            [[ "$code" == 200 ]] || pending+=("$svc_name (/readyz: $code)")
        done
        ((${#pending[@]} == 0)) && return 0
        if ((SECONDS >= deadline)); then
            josh_warn "gave up after ${READY_SECS}s waiting for every service to be ready; still waiting for:"
            printf '    %s\n' "${pending[@]}" >&2
            josh_warn "see the logs in ${LOG_DIR#"$JOSH_ROOT"/}/"
            return 1
        fi
        sleep 0.5
    done
}

print_table() {
    local row pid
    printf '\n%-20s %-7s %-24s %-22s %s\n' SERVICE PID HTTP GRPC LOG
    for row in "${SERVICES[@]}"; do
        svc_fields "$row"
        pid="$(service_pid "$svc_name" || printf -- '-')"
        printf '%-20s %-7s %-24s %-22s %s\n' "$svc_name" "$pid" "http://127.0.0.1:$svc_http" \
            "$([[ "$svc_grpc" == - ]] && printf -- '-' || printf 'http://127.0.0.1:%s' "$svc_grpc")" \
            "${LOG_DIR#"$JOSH_ROOT"/}/$svc_name.log"
    done
    for row in "${SIMULATORS[@]}"; do
        sim_fields "$row"
        pid="$(service_pid "$sim_name" || printf -- '-')"
        printf '%-20s %-7s %-24s %-22s %s\n' "$sim_name" "$pid" "$sim_base" - "${LOG_DIR#"$JOSH_ROOT"/}/$sim_name.log"
    done
    printf '\nPostgres  %s   (deploy/dev.sh psql)\n' "$(josh_pg_url "$DEV_DB")"
    printf 'NATS      %s\n' "$JOSH_NATS_URL"
    printf 'Secrets   %s    Stop with: deploy/dev.sh down\n' "${SECRETS#"$JOSH_ROOT"/}"
}

# SIGTERM every running service, then wait (bounded) for them to exit.
stop_services() {
    local row pid stopped=() left=()
    declare -A pids=()
    for row in "${SERVICES[@]}"; do
        svc_fields "$row"
        if pid="$(service_pid "$svc_name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids[$svc_name]="$pid"
        else
            rm -f "$PID_DIR/$svc_name.pid"
        fi
    done
    ((${#pids[@]})) || {
        josh_info "no dev services are running"
        return 0
    }
    local deadline=$((SECONDS + STOP_SECS)) name
    while :; do
        left=()
        for name in "${!pids[@]}"; do
            kill -0 "${pids[$name]}" 2>/dev/null && left+=("$name")
        done
        ((${#left[@]} == 0 || SECONDS >= deadline)) && break
        sleep 0.2
    done
    for name in "${!pids[@]}"; do
        if [[ " ${left[*]} " != *" $name "* ]]; then
            stopped+=("$name")
            rm -f "$PID_DIR/$name.pid"
        fi
    done
    ((${#stopped[@]})) && josh_info "stopped: ${stopped[*]}"
    if ((${#left[@]})); then
        for name in "${left[@]}"; do
            josh_warn "$name (pid ${pids[$name]}) still running ${STOP_SECS}s after SIGTERM: kill -KILL ${pids[$name]}"
        done
        return 1
    fi
}

# --- subcommands --------------------------------------------------------------------------------

cmd_up() {
    local started=$SECONDS
    josh_section "toolchain and servers"
    josh_ensure_rust
    josh_ensure_postgres
    josh_ensure_nats

    josh_section "building"
    josh_ensure_sqlx_cache
    local build=(cargo build --bins)
    [[ "$PROFILE" == release ]] && build+=(--release)
    "${build[@]}" || josh_die "cargo build failed"
    mkdir -p "$LOG_DIR" "$PID_DIR"
    # Stop the services of an earlier `up` only now, so a failed build leaves them running.
    stop_services || josh_die "cannot restart: a service from an earlier 'up' does not stop"

    josh_section "database $DEV_DB"
    ensure_database
    migrate
    seed
    ensure_secrets
    load_secrets
    ensure_login_roles

    josh_section "starting services"
    start_simulators
    local row
    for row in "${SERVICES[@]}"; do
        start_service "$row"
    done
    if ! wait_ready; then
        print_table
        josh_die "the stack is not ready (deploy/dev.sh down stops what started)"
    fi
    print_table
    josh_info "JOSH is up ($((SECONDS - started))s). Text it from a terminal as a simulated phone:"
    josh_info "  cargo run -q -p joshctl -- phone +15555550100    (Ctrl-D quits)"
}

cmd_down() {
    stop_services
    stop_simulators
}

cmd_status() {
    local row pid code body rc=0
    printf '%-20s %-8s %-6s %s\n' SERVICE PID READYZ DETAIL
    for row in "${SERVICES[@]}"; do
        svc_fields "$row"
        pid="$(service_pid "$svc_name" || printf -- '-')"
        body="$(curl -s -m 2 "http://127.0.0.1:$svc_http/readyz" 2>/dev/null | tr -s '\n' ' ' | cut -c1-100 || true)"
        code="$(readyz_code "$svc_http")"
        [[ "$code" == 200 ]] || rc=1
        printf '%-20s %-8s %-6s %s\n' "$svc_name" "$pid" "$code" "$body"
    done
    for row in "${SIMULATORS[@]}"; do
        sim_fields "$row"
        pid="$(service_pid "$sim_name" || printf -- '-')"
        code="$(sim_ready_code "$sim_base$sim_ready")"
        [[ "$code" == 200 ]] || rc=1
        printf '%-20s %-8s %-6s %s\n' "$sim_name" "$pid" "$code" "$sim_base$sim_ready"
    done
    return "$rc"
}

cmd_test() {
    josh_ensure_rust
    josh_ensure_postgres
    josh_ensure_nats
    josh_ensure_nats_binary
    josh_ensure_sqlx_cache
    export TEST_DATABASE_URL="${TEST_DATABASE_URL:-$(josh_pg_url postgres)}"
    export TEST_NATS_URL="${TEST_NATS_URL:-$JOSH_NATS_URL}"
    local rc=0
    if cargo nextest --version >/dev/null 2>&1; then
        # nextest does not run doctests; run them first so nextest's summary closes the output.
        if (($# == 0)); then
            josh_section "cargo test --workspace --doc"
            cargo test --workspace --doc || rc=$?
        fi
        josh_section "cargo nextest run --workspace --no-fail-fast $*"
        cargo nextest run --workspace --no-fail-fast "$@" || rc=$?
    else
        josh_info "cargo-nextest is not installed (cargo install cargo-nextest --locked): using cargo test"
        josh_section "cargo test --workspace --no-fail-fast $*"
        cargo test --workspace --no-fail-fast "$@" || rc=$?
    fi
    if ((rc)); then
        josh_die "tests failed"
    fi
    josh_info "all tests passed"
}

# Restarts one service or simulator of a running stack (after a crash, or to pick up a rebuild).
cmd_restart() {
    local name="${1:-}" row found="" pid
    [[ -n "$name" ]] || josh_die "usage: deploy/dev.sh restart SERVICE"
    load_secrets
    mkdir -p "$LOG_DIR" "$PID_DIR"
    for row in "${SIMULATORS[@]}"; do
        sim_fields "$row"
        [[ "$sim_name" == "$name" ]] || continue
        found=sim
        if pid="$(service_pid "$sim_name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            josh_wait "$STOP_SECS" "$sim_name to stop" bash -c "! kill -0 $pid 2>/dev/null" || josh_die "$sim_name does not stop"
        fi
        start_simulator "$row"
        josh_wait "$READY_SECS" "$sim_name to be ready" \
            bash -c '[[ "$(curl -s -o /dev/null -m 2 -w "%{http_code}" "$1")" == 200 ]]' _ "$sim_base$sim_ready" ||
            josh_die "$sim_name is not ready (see $LOG_DIR/$sim_name.log)"
    done
    for row in "${SERVICES[@]}"; do
        svc_fields "$row"
        [[ "$svc_name" == "$name" ]] || continue
        found=service
        if pid="$(service_pid "$svc_name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            josh_wait "$STOP_SECS" "$svc_name to stop" bash -c "! kill -0 $pid 2>/dev/null" || josh_die "$svc_name does not stop"
        fi
        start_service "$row"
        josh_wait "$READY_SECS" "$svc_name to be ready" bash -c '[[ "$(curl -s -o /dev/null -m 2 -w "%{http_code}" "http://127.0.0.1:$1/readyz")" == 200 ]]' _ "$svc_http" ||
            josh_die "$svc_name is not ready (see $LOG_DIR/$svc_name.log)"
    done
    [[ -n "$found" ]] || josh_die "no service or simulator named $name"
    josh_info "restarted $name"
}

cmd_demo() {
    josh_ensure_rust
    cmd_status >/dev/null 2>&1 || josh_die "the stack is not up (deploy/dev.sh status shows what is down; deploy/dev.sh up starts it)"
    # cargo run: the joshctl of this checkout (built by `up` already, so this is quick).
    NATS_URL="$JOSH_NATS_URL" cargo run -q -p joshctl -- demo "$@"
}

cmd_psql() {
    josh_ensure_postgres
    exec psql "$(josh_pg_url "$DEV_DB")" "$@"
}

cmd_logs() {
    local files=()
    if (($#)); then
        files=("$LOG_DIR/$1.log")
    else
        shopt -s nullglob
        files=("$LOG_DIR"/*.log)
        shopt -u nullglob
    fi
    if ((${#files[@]} == 0)) || [[ ! -f "${files[0]}" ]]; then
        josh_die "no logs yet (run deploy/dev.sh up)"
    fi
    exec tail -n 50 -F "${files[@]}"
}

main() {
    cd "$JOSH_ROOT"
    local cmd="${1:-}"
    (($#)) && shift
    case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    test) cmd_test "$@" ;;
    psql) cmd_psql "$@" ;;
    demo) cmd_demo "$@" ;;
    logs) cmd_logs "$@" ;;
    restart) cmd_restart "$@" ;;
    -h | --help | help) usage ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
}

main "$@"
