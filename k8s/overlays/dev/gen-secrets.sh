#!/usr/bin/env bash
# Writes the dev overlay's secret files (gitignored) with fresh random values, unless they exist.
# DATABASE_HOST / DATABASE_PASSWORD name the dev Postgres and the login roles' password (the
# josh_<service>_login roles deploy/dev.sh creates); the Twilio/Stripe values are random
# test-format credentials: replace them with your test-mode account's to reach the real APIs.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets"
mkdir -p "$dir"
umask 077
hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }
host="${DATABASE_HOST:-postgres.josh-dev.svc:5432}"
pw="${DATABASE_PASSWORD:-$(hex 16)}"
write() {
    local file="$dir/$1"
    shift
    if [[ -f "$file" ]]; then
        echo "keeping $file"
        return 0
    fi
    printf '%s\n' "$@" >"$file"
    echo "wrote $file"
}
db() { printf 'postgres://%s:%s@%s/josh' "$1" "$pw" "$host"; }
write database.env \
    "DATABASE_URL_MIGRATE=$(db postgres)" \
    "DATABASE_URL_OPS=$(db postgres)" \
    "DATABASE_URL_INBOUND_SMS=$(db josh_inbound_sms_login)" \
    "DATABASE_URL_CONVERSATION_ROUTER=$(db josh_conversation_router_login)" \
    "DATABASE_URL_LINKUP_MATCHER=$(db josh_linkup_matcher_login)" \
    "DATABASE_URL_BILLING=$(db josh_billing_login)" \
    "DATABASE_URL_OUTBOUND_SENDER=$(db josh_outbound_sender_login)"
write crypto.env \
    "JOSH_ENCRYPTION_KEYS=1:$(head -c 32 /dev/urandom | base64 | tr -d '\n')" \
    "JOSH_ACTIVE_KEY_VERSION=1" \
    "JOSH_PHONE_PEPPER=$(hex 24)"
write twilio.env \
    "TWILIO_ACCOUNT_SID=AC$(hex 16)" \
    "TWILIO_AUTH_TOKEN=$(hex 16)" \
    "TWILIO_FROM_NUMBER=+15005550006"
write stripe.env \
    "STRIPE_SECRET_KEY=sk_test_$(hex 24)" \
    "STRIPE_WEBHOOK_SECRET=whsec_$(hex 24)"
