# shellcheck shell=bash
# Shared helpers for JOSH's scripts (deploy/dev.sh, deploy/sqlx-prepare.sh, .ci/run).
# Source it; do not run it. Every `josh_ensure_*` function is idempotent: it reuses a server that
# is already running and only starts or installs what is missing.
#
# Local servers (fixed, loopback only):
#   Postgres 15+  127.0.0.1:5432, superuser `postgres` reachable over TCP
#   NATS          127.0.0.1:4222 with JetStream (monitoring on 127.0.0.1:8222 when we start it)

if [[ -n "${JOSH_LIB_LOADED:-}" ]]; then
    return 0
fi
JOSH_LIB_LOADED=1

JOSH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export JOSH_ROOT

# JOSH_PG_PORT / JOSH_NATS_PORT may be overridden (deploy/load.sh points them at private servers).
JOSH_PG_HOST=127.0.0.1
JOSH_PG_PORT="${JOSH_PG_PORT:-5432}"
JOSH_PG_SUPERUSER=postgres
# The superuser URL for a database on the local server: josh_pg_url <database>.
josh_pg_url() { printf 'postgres://%s@%s:%s/%s' "$JOSH_PG_SUPERUSER" "$JOSH_PG_HOST" "$JOSH_PG_PORT" "${1:-postgres}"; }

JOSH_NATS_HOST=127.0.0.1
JOSH_NATS_PORT="${JOSH_NATS_PORT:-4222}"
JOSH_NATS_MONITOR_PORT="${JOSH_NATS_MONITOR_PORT:-8222}"
JOSH_NATS_URL="nats://${JOSH_NATS_HOST}:${JOSH_NATS_PORT}"
# Where a NATS server started by these scripts keeps its JetStream files, log and pid.
JOSH_NATS_STATE_DIR="${JOSH_NATS_STATE_DIR:-${XDG_STATE_HOME:-${HOME:-/tmp}/.local/state}/josh/nats}"

# How long the waiting loops wait, in seconds.
JOSH_WAIT_SECS="${JOSH_WAIT_SECS:-30}"

# --- output -------------------------------------------------------------------------------------

josh_info() { printf '%s\n' "josh: $*" >&2; }
josh_warn() { printf '%s\n' "josh: warning: $*" >&2; }
josh_die() {
    printf '%s\n' "josh: error: $*" >&2
    exit 1
}
josh_section() { printf '\n==> %s\n' "$*" >&2; }

# --- small utilities ----------------------------------------------------------------------------

# josh_port_open <host> <port>: true when something accepts TCP connections there.
josh_port_open() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# josh_wait <seconds> <what> <command...>: run the command every half second until it succeeds.
# Fails (without exiting) after <seconds>, saying what it waited for.
josh_wait() {
    local secs="$1" what="$2"
    shift 2
    local deadline=$((SECONDS + secs))
    until "$@"; do
        if ((SECONDS >= deadline)); then
            josh_warn "gave up after ${secs}s waiting for ${what}"
            return 1
        fi
        sleep 0.5
    done
}

# josh_as_root <command...>: run as root (directly, or through passwordless sudo). Returns 126
# without running anything when neither is possible, so the caller can print what to do instead.
josh_as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 126
    fi
}

josh_can_be_root() {
    [[ "$(id -u)" -eq 0 ]] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }
}

# josh_apt_install <package...>: install Debian/Ubuntu packages, or explain how and exit.
josh_apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        josh_die "please install: $* (no apt-get on this machine, so the scripts cannot do it)"
    fi
    if ! josh_can_be_root; then
        josh_die "please install: sudo apt-get update && sudo apt-get install -y $*"
    fi
    josh_info "installing $* with apt-get"
    josh_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
        josh_die "apt-get update failed"
    josh_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" ||
        josh_die "apt-get install $* failed"
}

# The cargo target directory the scripts' builds use (asks cargo, which knows every config source).
josh_target_dir() {
    local dir
    dir="$(cd "$JOSH_ROOT" && cargo metadata --no-deps --format-version 1 2>/dev/null |
        grep -o '"target_directory":"[^"]*"' | head -n1 | cut -d'"' -f4)" || dir=""
    if [[ -n "$dir" ]]; then
        printf '%s' "$dir"
        return 0
    fi
    dir="${CARGO_TARGET_DIR:-target}"
    case "$dir" in
    /*) printf '%s' "$dir" ;;
    *) printf '%s/%s' "$JOSH_ROOT" "$dir" ;;
    esac
}

# --- Rust ---------------------------------------------------------------------------------------

# Makes sure cargo is on PATH and new enough for the workspace's rust-version; exits otherwise.
josh_ensure_rust() {
    if ! command -v cargo >/dev/null 2>&1 && [[ -x "${CARGO_HOME:-${HOME:-}/.cargo}/bin/cargo" ]]; then
        PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
        export PATH
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        josh_warn "the Rust toolchain (cargo) is not installed. Install it with rustup:"
        josh_warn "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y"
        josh_warn "  . \"\$HOME/.cargo/env\""
        josh_die "then run this command again"
    fi
    local want have
    want="$(sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' "$JOSH_ROOT/Cargo.toml" | head -n1)"
    have="$(rustc --version 2>/dev/null | awk '{print $2}')"
    if [[ -n "$want" && -n "$have" ]] &&
        [[ "$(printf '%s\n%s\n' "$want" "${have%%-*}" | sort -V | head -n1)" != "$want" ]]; then
        josh_die "rustc $have is older than the workspace's rust-version $want: run \`rustup update stable\`"
    fi
}

# josh_ensure_rust_component <rustfmt|clippy>
josh_ensure_rust_component() {
    local component="$1" probe
    case "$component" in
    rustfmt) probe=(cargo fmt --version) ;;
    clippy) probe=(cargo clippy --version) ;;
    *) probe=(false) ;;
    esac
    if "${probe[@]}" >/dev/null 2>&1; then
        return 0
    fi
    command -v rustup >/dev/null 2>&1 ||
        josh_die "$component is missing and there is no rustup to add it: install Rust with rustup"
    josh_info "adding the $component component with rustup"
    rustup component add "$component" || josh_die "rustup component add $component failed"
}

# --- Postgres -----------------------------------------------------------------------------------

josh_pg_ready() { pg_isready -q -h "$JOSH_PG_HOST" -p "$JOSH_PG_PORT" -t 2 >/dev/null 2>&1; }

# josh_psql <database> [psql args...]: psql as the superuser over TCP, stopping on the first error.
josh_psql() {
    local db="$1"
    shift
    PGCONNECT_TIMEOUT=5 psql "$(josh_pg_url "$db")" -X -q -v ON_ERROR_STOP=1 "$@"
}

josh_pg_tcp_login_ok() {
    PGCONNECT_TIMEOUT=5 psql "$(josh_pg_url postgres)" -X -At -c 'select 1' >/dev/null 2>&1
}

# The newest Debian Postgres cluster version (from /etc/postgresql), if any.
josh_pg_debian_version() {
    [[ -d /etc/postgresql ]] || return 1
    local v
    v="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n1)"
    [[ -n "$v" ]] && printf '%s' "$v"
}

josh_pg_start_debian_cluster() {
    local v="$1"
    if [[ ! -d "/etc/postgresql/$v/main" ]]; then
        josh_info "creating the Postgres $v cluster 'main'"
        josh_as_root pg_createcluster "$v" main ||
            josh_die "cannot create the cluster: run \`sudo pg_createcluster $v main\`"
    fi
    josh_info "starting Postgres $v (cluster main)"
    local rc=0
    josh_as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start || rc=$?
    if ((rc == 126)); then
        josh_die "Postgres is not running; start it with: sudo pg_ctlcluster --skip-systemctl-redirect $v main start"
    fi
    # rc != 0 may just mean "already running"; the readiness wait below decides.
}

# Postgres 15+ on 127.0.0.1:5432 with TCP logins as `postgres` working.
josh_ensure_postgres() {
    if ! command -v pg_isready >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
        if josh_port_open "$JOSH_PG_HOST" "$JOSH_PG_PORT"; then
            josh_apt_install postgresql-client
        else
            josh_apt_install postgresql
        fi
    fi

    if ! josh_pg_ready; then
        local v
        if ! v="$(josh_pg_debian_version)"; then
            if josh_port_open "$JOSH_PG_HOST" "$JOSH_PG_PORT"; then
                josh_die "something listens on $JOSH_PG_HOST:$JOSH_PG_PORT but is not a ready Postgres"
            fi
            josh_apt_install postgresql
            v="$(josh_pg_debian_version)" ||
                josh_die "postgresql was installed but /etc/postgresql has no cluster version"
        fi
        josh_pg_ready || josh_pg_start_debian_cluster "$v"
        josh_wait "$JOSH_WAIT_SECS" "Postgres to accept connections on $JOSH_PG_HOST:$JOSH_PG_PORT" josh_pg_ready ||
            josh_die "Postgres did not start; see /var/log/postgresql/postgresql-$v-main.log"
    fi

    if ! josh_pg_tcp_login_ok; then
        josh_pg_trust_loopback
        josh_pg_tcp_login_ok ||
            josh_die "cannot log in as $JOSH_PG_SUPERUSER over TCP: check pg_hba.conf (or set PGPASSWORD)"
    fi

    local num
    num="$(josh_psql postgres -At -c 'show server_version_num')" ||
        josh_die "cannot query the Postgres version"
    if ((num < 150000)); then
        josh_die "Postgres on $JOSH_PG_HOST:$JOSH_PG_PORT is version $num; JOSH needs 15 or newer"
    fi
    josh_info "Postgres $((num / 10000)) ready on $JOSH_PG_HOST:$JOSH_PG_PORT"
}

# A fresh Debian install authenticates TCP logins with a password (scram). For a dev/CI machine,
# let loopback TCP connections in without one, by prepending `trust` lines to pg_hba.conf.
josh_pg_trust_loopback() {
    local marker="# JOSH dev/CI: trust loopback TCP (added by deploy/lib.sh)"
    if ! josh_can_be_root; then
        josh_warn "Postgres refuses TCP logins as $JOSH_PG_SUPERUSER without a password. Either export PGPASSWORD,"
        josh_warn "or (dev machines only) add these lines at the top of pg_hba.conf and reload Postgres:"
        josh_warn "  host all all 127.0.0.1/32 trust"
        josh_warn "  host all all ::1/128 trust"
        return 0
    fi
    local hba
    hba="$(josh_as_root runuser -u postgres -- psql -p "$JOSH_PG_PORT" -X -At -c 'show hba_file' 2>/dev/null)" || hba=""
    if [[ -z "$hba" ]]; then
        local v
        v="$(josh_pg_debian_version)" || return 0
        hba="/etc/postgresql/$v/main/pg_hba.conf"
    fi
    josh_as_root test -f "$hba" || {
        josh_warn "cannot find pg_hba.conf ($hba)"
        return 0
    }
    if josh_as_root grep -qF "$marker" "$hba"; then
        josh_warn "$hba already trusts loopback, yet TCP login as $JOSH_PG_SUPERUSER fails"
        return 0
    fi
    josh_warn "FOR DEV/CI ONLY: configuring Postgres to trust TCP logins from 127.0.0.1/32 and ::1/128"
    josh_warn "  (prepended to $hba; remove the lines marked 'JOSH dev/CI' to undo)"
    local tmp
    tmp="$(mktemp)"
    {
        printf '%s\n' "$marker" "host all all 127.0.0.1/32 trust" "host all all ::1/128 trust" ""
        josh_as_root cat "$hba"
    } >"$tmp"
    # `cat >` keeps the file's owner and mode.
    # shellcheck disable=SC2016 # expanded by the inner sh
    josh_as_root sh -c 'cat "$1" > "$2"' _ "$tmp" "$hba" || josh_die "cannot write $hba"
    rm -f "$tmp"
    josh_as_root runuser -u postgres -- psql -p "$JOSH_PG_PORT" -X -q -c 'select pg_reload_conf()' >/dev/null 2>&1 || {
        local v
        v="$(josh_pg_debian_version)" && josh_as_root pg_ctlcluster --skip-systemctl-redirect "$v" main reload
    }
    sleep 1
}

# --- NATS ---------------------------------------------------------------------------------------

# The INFO line a NATS server greets clients with (empty when none answers).
josh_nats_info() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        IFS= read -r -t 3 line <&3 || true
        printf "%s\n" "$line"
    ' _ "$JOSH_NATS_HOST" "$JOSH_NATS_PORT" 2>/dev/null
}

# Checks the server on 4222 is NATS with JetStream enabled; exits when it is not.
josh_nats_check_jetstream() {
    local info
    info="$(josh_nats_info)"
    case "$info" in
    INFO*'"jetstream":true'*) ;;
    INFO*) josh_die "the NATS server on $JOSH_NATS_HOST:$JOSH_NATS_PORT runs without JetStream: restart it with -js" ;;
    *) josh_die "something listens on $JOSH_NATS_HOST:$JOSH_NATS_PORT but does not greet like a NATS server" ;;
    esac
}

josh_nats_binary() {
    if [[ -x /usr/sbin/nats-server ]]; then
        printf '%s' /usr/sbin/nats-server
    else
        command -v nats-server
    fi
}

# NATS with JetStream on 127.0.0.1:4222: reuse a running one, or start our own in the background.
# The bus tests start private nats-server processes (testkit::NatsServer), so the binary must be
# installed even when the shared server runs elsewhere (e.g. in a container).
josh_ensure_nats_binary() {
    local bin
    if bin="$(josh_nats_binary)"; then
        export NATS_SERVER_BIN="${NATS_SERVER_BIN:-$bin}"
        return 0
    fi
    josh_apt_install nats-server
    bin="$(josh_nats_binary)" || josh_die "nats-server was installed but is not on PATH"
    export NATS_SERVER_BIN="${NATS_SERVER_BIN:-$bin}"
}

josh_ensure_nats() {
    if josh_port_open "$JOSH_NATS_HOST" "$JOSH_NATS_PORT"; then
        josh_nats_check_jetstream
        josh_info "NATS with JetStream ready on $JOSH_NATS_URL"
        return 0
    fi

    local bin
    if ! bin="$(josh_nats_binary)"; then
        josh_apt_install nats-server
        # A packaged service may have started by itself.
        if josh_wait 3 "a packaged nats-server" josh_port_open "$JOSH_NATS_HOST" "$JOSH_NATS_PORT" 2>/dev/null; then
            josh_nats_check_jetstream
            josh_info "NATS with JetStream ready on $JOSH_NATS_URL"
            return 0
        fi
        bin="$(josh_nats_binary)" || josh_die "nats-server was installed but is not on PATH"
    fi

    local dir="$JOSH_NATS_STATE_DIR"
    mkdir -p "$dir" || josh_die "cannot create $dir"
    local monitor=()
    if ! josh_port_open 127.0.0.1 "$JOSH_NATS_MONITOR_PORT"; then
        monitor=(-m "$JOSH_NATS_MONITOR_PORT")
    fi
    josh_info "starting $bin on $JOSH_NATS_URL (JetStream under $dir, log $dir/nats-server.log)"
    # Its own session, so it outlives this script and ignores the terminal's signals.
    setsid nohup "$bin" -a "$JOSH_NATS_HOST" -p "$JOSH_NATS_PORT" -js -sd "$dir" \
        "${monitor[@]}" -l "$dir/nats-server.log" >>"$dir/nats-server.out" 2>&1 </dev/null &
    local pid=$!
    printf '%s\n' "$pid" >"$dir/nats-server.pid"

    if ! josh_wait "$JOSH_WAIT_SECS" "NATS to listen on $JOSH_NATS_HOST:$JOSH_NATS_PORT" \
        josh_port_open "$JOSH_NATS_HOST" "$JOSH_NATS_PORT"; then
        tail -n 20 "$dir/nats-server.log" "$dir/nats-server.out" >&2 2>/dev/null || true
        josh_die "nats-server (pid $pid) did not start"
    fi
    josh_nats_check_jetstream
    if ((${#monitor[@]})) && command -v curl >/dev/null 2>&1; then
        local jsz
        jsz="$(curl -fsS -m 5 "http://127.0.0.1:$JOSH_NATS_MONITOR_PORT/jsz" 2>/dev/null)" ||
            josh_die "NATS monitoring (/jsz on port $JOSH_NATS_MONITOR_PORT) does not answer"
        if [[ "$jsz" =~ \"disabled\":[[:space:]]*true ]]; then
            josh_die "NATS reports JetStream disabled (see $dir/nats-server.log)"
        fi
    fi
    josh_info "NATS with JetStream started on $JOSH_NATS_URL (pid $pid)"
}

# --- sqlx query cache ---------------------------------------------------------------------------

# Workspace source files that use sqlx's compile-time-checked query macros.
josh_sqlx_macro_files() {
    (cd "$JOSH_ROOT" && grep -rlE --include='*.rs' \
        '(^|[^A-Za-z0-9_])query(_file)?(_as|_scalar)?!' crates services tests 2>/dev/null) | LC_ALL=C sort
}

# Builds need the committed `.sqlx/` cache (SQLX_OFFLINE=true). On a checkout that has query macros
# but no cache yet, generate it once.
josh_ensure_sqlx_cache() {
    if compgen -G "$JOSH_ROOT/.sqlx/query-*.json" >/dev/null; then
        return 0
    fi
    if [[ -z "$(josh_sqlx_macro_files)" ]]; then
        return 0
    fi
    josh_warn "there is no .sqlx/ query cache yet: generating it with deploy/sqlx-prepare.sh (commit it)"
    "$JOSH_ROOT/deploy/sqlx-prepare.sh" || josh_die "deploy/sqlx-prepare.sh failed"
}
