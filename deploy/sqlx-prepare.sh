#!/usr/bin/env bash
# Regenerate sqlx's offline query cache (`.sqlx/`) from a freshly migrated scratch database.
#
#   deploy/sqlx-prepare.sh          rewrite .sqlx/ (commit the result)
#   deploy/sqlx-prepare.sh --check  only compare; exit 1 naming stale, missing or changed files
#
# How: (re)create the database `josh_sqlx_prepare` on the local Postgres, apply migrations/*.sql with
# psql in file-name order (no joshctl needed, so this also works before any cache exists), then
# recompile every crate that uses sqlx's query macros with SQLX_OFFLINE=false and SQLX_OFFLINE_DIR
# pointing at an empty directory: the macros check each query against the database and write one
# query-<hash>.json per query there. That directory then replaces (or is compared with) .sqlx/.
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

check=0
case "${1:-}" in
"") ;;
--check) check=1 ;;
-h | --help)
    usage
    exit 0
    ;;
*)
    usage >&2
    exit 2
    ;;
esac

cd "$JOSH_ROOT"
db="${JOSH_SQLX_PREPARE_DB:-josh_sqlx_prepare}"
cache="$JOSH_ROOT/.sqlx"

mapfile -t macro_files < <(josh_sqlx_macro_files)
if ((${#macro_files[@]} == 0)); then
    if compgen -G "$cache/query-*.json" >/dev/null; then
        if ((check)); then
            josh_warn "no source uses sqlx query macros, but .sqlx/ holds cached queries:"
            (cd "$cache" && ls query-*.json) | sed 's/^/  stale: .sqlx\//' >&2
            exit 1
        fi
        rm -rf "$cache"
        josh_info "no source uses sqlx query macros: removed .sqlx/"
    else
        josh_info "no source uses sqlx query macros: nothing to prepare"
    fi
    exit 0
fi

josh_ensure_rust
josh_ensure_postgres

# --- scratch database, migrated with psql -------------------------------------------------------
josh_section "migrating the scratch database $db"
PGOPTIONS='--client-min-messages=warning' josh_psql postgres -c "drop database if exists \"$db\" with (force)"
josh_psql postgres -c "create database \"$db\""

shopt -s nullglob
migrations=(migrations/*.sql)
shopt -u nullglob
((${#migrations[@]})) || josh_die "migrations/ has no .sql files"
# Apply in file-name (byte) order, each file in one transaction like sqlx does, unless the file
# opts out with sqlx's `-- no-transaction` first line.
mapfile -t migrations < <(printf '%s\n' "${migrations[@]}" | LC_ALL=C sort)
for file in "${migrations[@]}"; do
    single=(-1)
    if head -n1 "$file" | grep -q '^-- no-transaction'; then
        single=()
    fi
    PGOPTIONS='--client-min-messages=warning' josh_psql "$db" "${single[@]}" -f "$file" >/dev/null ||
        josh_die "migration $file failed (database $db left for inspection)"
done
# Queries on sqlx's bookkeeping table (e.g. joshctl's list of applied versions) must type-check
# too, so create it exactly as sqlx's Postgres migrator does.
josh_psql "$db" <<'SQL'
create table if not exists public._sqlx_migrations (
    version bigint primary key,
    description text not null,
    installed_on timestamptz not null default now(),
    success boolean not null,
    checksum bytea not null,
    execution_time bigint not null
);
SQL
josh_info "applied ${#migrations[@]} migration(s) to $db"

# --- regenerate the query cache -----------------------------------------------------------------
josh_section "checking every query against $db"
out="$(mktemp -d "${TMPDIR:-/tmp}/josh-sqlx.XXXXXX")"
trap 'rm -rf "$out"' EXIT
# Cargo does not notice SQLX_OFFLINE changing, so force the crates holding query macros to
# recompile by touching those files (their contents are unchanged).
josh_info "recompiling ${#macro_files[@]} file(s) that use query macros"
touch "${macro_files[@]}"
if ! SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$out" DATABASE_URL="$(josh_pg_url "$db")" \
    cargo check --workspace --all-targets; then
    josh_die "cargo check failed: see above (a query that does not match the migrated schema, or any compile error)"
fi

shopt -s nullglob
generated=("$out"/query-*.json)
shopt -u nullglob
if ((${#generated[@]} == 0)); then
    josh_die "the build wrote no query files to $out although ${#macro_files[@]} file(s) use query macros"
fi

# --- compare -------------------------------------------------------------------------------------
missing=()
stale=()
changed=()
for path in "${generated[@]}"; do
    name="${path##*/}"
    if [[ ! -f "$cache/$name" ]]; then
        missing+=("$name")
    elif ! cmp -s "$path" "$cache/$name"; then
        changed+=("$name")
    fi
done
shopt -s nullglob
for path in "$cache"/query-*.json; do
    name="${path##*/}"
    [[ -f "$out/$name" ]] || stale+=("$name")
done
shopt -u nullglob
report() {
    local what="$1"
    shift
    local name
    for name in "$@"; do
        printf '  %-8s .sqlx/%s\n' "$what:" "$name" >&2
    done
}

if ((check)); then
    if ((${#missing[@]} + ${#stale[@]} + ${#changed[@]} == 0)); then
        josh_info ".sqlx/ is up to date (${#generated[@]} queries)"
        exit 0
    fi
    josh_warn ".sqlx/ does not match the code and migrations:"
    report missing "${missing[@]}"
    report stale "${stale[@]}"
    report changed "${changed[@]}"
    josh_die "run deploy/sqlx-prepare.sh and commit .sqlx/"
fi

rm -rf "$cache.new"
mkdir "$cache.new"
cp "${generated[@]}" "$cache.new/"
rm -rf "$cache"
mv "$cache.new" "$cache"
if ((${#missing[@]} + ${#stale[@]} + ${#changed[@]} == 0)); then
    josh_info ".sqlx/ was already up to date (${#generated[@]} queries)"
else
    josh_info ".sqlx/ regenerated (${#generated[@]} queries): ${#missing[@]} added, ${#changed[@]} changed, ${#stale[@]} removed"
    report added "${missing[@]}"
    report changed "${changed[@]}"
    report removed "${stale[@]}"
    josh_info "review and commit .sqlx/"
fi
