//! The `inbound-sms` binary keeps the service contract: config errors name the variable,
//! `/readyz` follows Postgres and NATS, SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

testkit::service_contract! {
    bin: env!("CARGO_BIN_EXE_inbound-sms"),
    role: "josh_inbound_sms",
    missing: [
        "DATABASE_URL",
        "NATS_URL",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "JOSH_ENCRYPTION_KEYS",
        "JOSH_ACTIVE_KEY_VERSION",
        "JOSH_PHONE_PEPPER",
    ],
    malformed: [
        ("JOSH_CLOCK", "simulated"),
        ("JOSH_CLOCK", "manual"),
        ("DATABASE_URL", "mysql://root:hunter2@db/josh"),
        ("NATS_URL", "http://not nats"),
        ("HTTP_ADDR", "localhost"),
        ("GRPC_ADDR", "9081"),
        ("JOSH_ENCRYPTION_KEYS", "1:not-base64!"),
        ("JOSH_ENCRYPTION_KEYS", "1:AQEB"),
        ("JOSH_ACTIVE_KEY_VERSION", "7"),
        ("PUBLIC_BASE_URL", "josh.example.com"),
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("JOSH_PHONE_PEPPER", "short"),
    ],
}
