//! The `billing` binary keeps the service contract: config errors name the variable,
//! `/readyz` follows Postgres and NATS, SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

testkit::service_contract! {
    bin: env!("CARGO_BIN_EXE_billing"),
    role: "josh_billing",
    missing: [
        "DATABASE_URL",
        "NATS_URL",
        "PUBLIC_BASE_URL",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "JOSH_ENCRYPTION_KEYS",
    ],
    malformed: [
        ("JOSH_CLOCK", "simulated"),
        ("JOSH_CLOCK", "manual"),
        ("DATABASE_URL", "mysql://root:hunter2@db/josh"),
        ("NATS_URL", "http://not nats"),
        ("HTTP_ADDR", "localhost"),
        ("GRPC_ADDR", "nowhere"),
        ("STRIPE_SECRET_KEY", "pk_test_publishable"),
        ("STRIPE_WEBHOOK_SECRET", "notwhsec"),
        ("STRIPE_API_BASE", "stripe.local"),
        ("BILLING_RECONCILE_INTERVAL_SECS", "soon"),
    ],
}
