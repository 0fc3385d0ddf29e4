#!/usr/bin/env bash
# Writes .dev/secrets.env (the file deploy/dev.sh generates, same keys) unless it exists, for
# `docker compose -p josh --env-file .dev/secrets.env -f deploy/compose.yaml up`. Dev values only.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/.dev/secrets.env"
if [[ -f "$out" ]]; then
    echo "reusing ${out#"$root"/} (delete it to regenerate)"
    exit 0
fi
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
mkdir -p "$root/.dev"
umask 077
{
    printf '# JOSH dev secrets (deploy/compose/gen-secrets.sh, %s). Never use them outside dev.\n' "$(date -u +%FT%TZ)"
    printf 'JOSH_ENCRYPTION_KEYS=1:%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
    printf 'JOSH_ACTIVE_KEY_VERSION=1\n'
    printf 'JOSH_PHONE_PEPPER=%s\n' "$(hex 24)"
    printf 'TWILIO_ACCOUNT_SID=AC%s\n' "$(hex 16)"
    printf 'TWILIO_AUTH_TOKEN=%s\n' "$(hex 16)"
    printf 'TWILIO_FROM_NUMBER=+15005550006\n'
    printf 'STRIPE_SECRET_KEY=sk_test_%s\n' "$(hex 24)"
    printf 'STRIPE_WEBHOOK_SECRET=whsec_%s\n' "$(hex 24)"
    printf 'JOSH_DEV_DB_PASSWORD=%s\n' "$(hex 16)"
} >"$out"
echo "generated ${out#"$root"/}"
