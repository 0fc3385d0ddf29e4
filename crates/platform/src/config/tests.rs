use super::*;

fn env(pairs: &[(&str, &str)]) -> Env {
    Env::from_pairs(pairs.iter().copied())
}

const VALID: &[(&str, &str)] = &[
    (
        "DATABASE_URL",
        "postgres://svc:hunter2secret@db.internal:5432/josh",
    ),
    ("NATS_URL", "nats://127.0.0.1:4222"),
];

#[test]
fn common_config_reads_defaults() {
    let c = CommonConfig::from_env(&env(VALID), 8081).unwrap();
    assert_eq!(c.http_addr, "0.0.0.0:8081".parse().unwrap());
    assert_eq!(c.nats_url, "nats://127.0.0.1:4222");
    assert!(c.otlp_endpoint.is_none());
}

#[test]
fn missing_variable_is_named() {
    let err = CommonConfig::from_env(&env(&VALID[1..]), 8081).unwrap_err();
    assert_eq!(err.var, "DATABASE_URL");
    assert_eq!(
        err.to_string(),
        "invalid configuration: DATABASE_URL is missing"
    );
}

#[test]
fn blank_counts_as_missing() {
    let err = CommonConfig::from_env(&env(&[VALID[0], ("NATS_URL", "  ")]), 8081).unwrap_err();
    assert_eq!(err.var, "NATS_URL");
}

#[test]
fn malformed_values_are_named_without_echoing_secrets() {
    let err = CommonConfig::from_env(&env(&[("DATABASE_URL", "mysql:/hunter2"), VALID[1]]), 1)
        .unwrap_err();
    assert_eq!(err.var, "DATABASE_URL");
    assert!(!err.to_string().contains("hunter2"));

    let err = CommonConfig::from_env(&env(&[VALID[0], ("NATS_URL", "http://x y")]), 1).unwrap_err();
    assert_eq!(err.var, "NATS_URL");

    let mut bad_addr = VALID.to_vec();
    bad_addr.push(("HTTP_ADDR", "localhost"));
    let err = CommonConfig::from_env(&env(&bad_addr), 1).unwrap_err();
    assert_eq!(err.var, "HTTP_ADDR");
}

#[test]
fn env_debug_lists_names_only() {
    let debug = format!("{:?}", env(VALID));
    assert!(debug.contains("DATABASE_URL"));
    assert!(!debug.contains("hunter2"));
}

#[test]
fn base_urls_are_validated_and_trimmed() {
    let e = env(&[("PUBLIC_BASE_URL", "https://josh.example.com/")]);
    assert_eq!(
        e.base_url("PUBLIC_BASE_URL").unwrap(),
        "https://josh.example.com"
    );
    let e = env(&[("PUBLIC_BASE_URL", "josh.example.com")]);
    assert_eq!(
        e.base_url("PUBLIC_BASE_URL").unwrap_err().var,
        "PUBLIC_BASE_URL"
    );
    assert_eq!(
        peer_grpc_url(&env(&[]), "BILLING_GRPC_URL", 9084).unwrap(),
        "http://127.0.0.1:9084"
    );
}

#[test]
fn twilio_settings_are_validated() {
    let sid = "AC0123456789abcdef0123456789abcdef";
    assert_eq!(
        twilio_account_sid(&env(&[("TWILIO_ACCOUNT_SID", sid)])).unwrap(),
        sid
    );
    let err = twilio_account_sid(&env(&[("TWILIO_ACCOUNT_SID", "AC123")])).unwrap_err();
    assert_eq!(err.var, "TWILIO_ACCOUNT_SID");

    let from = twilio_sender(&env(&[("TWILIO_FROM_NUMBER", "+15005550006")])).unwrap();
    assert_eq!(from, TwilioSender::From("+15005550006".to_owned()));
    let mg = "MG0123456789abcdef0123456789abcdef";
    let both = env(&[
        ("TWILIO_FROM_NUMBER", "+15005550006"),
        ("TWILIO_MESSAGING_SERVICE_SID", mg),
    ]);
    assert_eq!(
        twilio_sender(&both).unwrap(),
        TwilioSender::MessagingService(mg.to_owned())
    );
    assert_eq!(
        twilio_sender(&env(&[])).unwrap_err().var,
        "TWILIO_FROM_NUMBER"
    );
    let bad = env(&[("TWILIO_FROM_NUMBER", "5550006")]);
    assert_eq!(twilio_sender(&bad).unwrap_err().var, "TWILIO_FROM_NUMBER");
}

#[test]
fn short_pepper_is_rejected() {
    let err = phone_pepper(&env(&[("JOSH_PHONE_PEPPER", "short")])).unwrap_err();
    assert_eq!(err.var, "JOSH_PHONE_PEPPER");
    assert!(!err.to_string().contains("short"));
}

#[test]
fn stream_replicas_default_to_one_and_are_bounded() {
    assert_eq!(
        CommonConfig::from_env(&env(VALID), 1)
            .unwrap()
            .nats_stream_replicas,
        1
    );
    let mut three = VALID.to_vec();
    three.push(("NATS_STREAM_REPLICAS", "3"));
    assert_eq!(
        CommonConfig::from_env(&env(&three), 1)
            .unwrap()
            .nats_stream_replicas,
        3
    );
    for bad in ["0", "6", "three"] {
        let mut e = VALID.to_vec();
        e.push(("NATS_STREAM_REPLICAS", bad));
        assert_eq!(
            CommonConfig::from_env(&env(&e), 1).unwrap_err().var,
            "NATS_STREAM_REPLICAS"
        );
    }
}
