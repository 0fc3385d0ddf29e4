//! The `outbound-sender` binary keeps the service contract: config errors name the variable,
//! `/readyz` follows Postgres and NATS, SIGTERM stops it cleanly.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

testkit::service_contract! {
    bin: env!("CARGO_BIN_EXE_outbound-sender"),
    role: "josh_outbound_sender",
    missing: [
        "DATABASE_URL",
        "NATS_URL",
        "PUBLIC_BASE_URL",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM_NUMBER",
        "JOSH_ENCRYPTION_KEYS",
        "JOSH_ACTIVE_KEY_VERSION",
    ],
    malformed: [
        ("JOSH_CLOCK", "simulated"),
        ("JOSH_CLOCK", "manual"),
        ("DATABASE_URL", "mysql://root:hunter2@db/josh"),
        ("NATS_URL", "http://not nats"),
        ("HTTP_ADDR", "localhost"),
        ("JOSH_ENCRYPTION_KEYS", "1:not-base64!"),
        ("JOSH_ENCRYPTION_KEYS", "1:AQEB"),
        ("JOSH_ACTIVE_KEY_VERSION", "7"),
        ("TWILIO_FROM_NUMBER", "5550006"),
        ("TWILIO_API_BASE", "api.twilio.com"),
        ("TWILIO_MESSAGING_SERVICE_SID", "MGnope"),
    ],
}
