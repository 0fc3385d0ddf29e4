//! The Messages API: Twilio's shapes, auth and error bodies.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::{ACCOUNT, JOSH, PHONE, TOKEN, create, create_ok, messages_url, simulator};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;

/// The Message resource's properties and JSON types, from `api.v2010.account.message` in
/// Twilio's OpenAPI description (shared/spec/providers/twilio_messages_openapi.json).
const MESSAGE_PROPERTIES: [(&str, &str); 20] = [
    ("body", "string"),
    ("num_segments", "string"),
    ("direction", "string"),
    ("from", "string"),
    ("to", "string"),
    ("date_updated", "rfc2822"),
    ("price", "null"),
    ("error_message", "null"),
    ("uri", "string"),
    ("account_sid", "string"),
    ("num_media", "string"),
    ("status", "string"),
    ("messaging_service_sid", "null"),
    ("sid", "string"),
    ("date_sent", "null"),
    ("date_created", "rfc2822"),
    ("error_code", "null"),
    ("price_unit", "string"),
    ("api_version", "string"),
    ("subresource_uris", "object"),
];

fn assert_twilio_shape(message: &Value) {
    let object = message.as_object().unwrap();
    assert_eq!(object.len(), MESSAGE_PROPERTIES.len(), "{message:#}");
    for (name, kind) in MESSAGE_PROPERTIES {
        let value = &message[name];
        let ok = match kind {
            "string" => value.is_string(),
            "null" => value.is_null() || value.is_string() || value.is_number(),
            "object" => value.is_object(),
            "rfc2822" => value
                .as_str()
                .is_some_and(|s| OffsetDateTime::parse(s, &Rfc2822).is_ok()),
            _ => false,
        };
        assert!(ok, "{name} should be {kind}: {value}");
    }
}

fn assert_error(body: &Value, status: u16, code: u32) {
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
}

#[tokio::test]
async fn create_answers_201_with_twilios_message_resource() {
    let sim = simulator(None).await;
    let message = create_ok(&sim, PHONE, &[("StatusCallback", "http://127.0.0.1:9/s")]).await;
    assert_twilio_shape(&message);
    let sid = message["sid"].as_str().unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
    assert_eq!(message["status"], "queued");
    assert_eq!(message["num_segments"], "1");
    assert_eq!(message["num_media"], "0");
    assert_eq!(message["direction"], "outbound-api");
    assert_eq!(message["api_version"], "2010-04-01");
    assert_eq!(message["account_sid"], ACCOUNT);
    assert_eq!(message["from"], JOSH);
    assert_eq!(message["to"], PHONE);
    assert_eq!(message["body"], "Hi from JOSH");
    assert!(message["error_code"].is_null());
    assert_eq!(
        message["uri"],
        format!("/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json")
    );
    assert_eq!(sim.create_count(), 1);
    let stored = &sim.messages()[0];
    assert_eq!(stored.sid, sid);
    assert_eq!(
        stored.status_callback.as_deref(),
        Some("http://127.0.0.1:9/s")
    );
}

#[tokio::test]
async fn segments_follow_the_encoding_and_messaging_services_start_accepted() {
    let sim = simulator(None).await;
    let service = "MG0123456789abcdef0123456789abcdef";
    let long = "x".repeat(161);
    let form = [
        ("To", PHONE),
        ("MessagingServiceSid", service),
        ("Body", long.as_str()),
    ];
    let response = create(&sim, &form).await;
    assert_eq!(response.status(), 201);
    let message: Value = response.json().await.unwrap();
    assert_eq!(message["status"], "accepted");
    assert_eq!(message["num_segments"], "2");
    assert!(message["from"].is_null());
    assert_eq!(message["messaging_service_sid"], service);
    // One emoji makes the body UCS-2: 69 letters and a 2-unit emoji no longer fit 70 units.
    let ucs2 = format!("{}👋", "a".repeat(69));
    let form = [("To", PHONE), ("From", JOSH), ("Body", ucs2.as_str())];
    let message: Value = create(&sim, &form).await.json().await.unwrap();
    assert_eq!(message["num_segments"], "2");
}

#[tokio::test]
async fn wrong_credentials_or_account_answer_401_20003() {
    let sim = simulator(None).await;
    let client = reqwest::Client::new();
    let form = [("To", PHONE), ("From", JOSH), ("Body", "hi")];
    let attempts = [
        client
            .post(messages_url(&sim))
            .basic_auth(ACCOUNT, Some("wrong")),
        client.post(messages_url(&sim)),
        client
            .post(messages_url(&sim).replace(ACCOUNT, "AC00000000000000000000000000000000"))
            .basic_auth(ACCOUNT, Some(TOKEN)),
    ];
    for attempt in attempts {
        let response = attempt.form(&form).send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().contains_key("www-authenticate"));
        assert_error(&response.json().await.unwrap(), 401, 20003);
    }
    assert_eq!(sim.create_count(), 0);
}

#[tokio::test]
async fn validation_errors_use_twilios_codes() {
    let sim = simulator(None).await;
    let cases: [(&[(&str, &str)], u32); 5] = [
        (&[("From", JOSH), ("Body", "hi")], 21604),
        (&[("To", "555-0100"), ("From", JOSH), ("Body", "hi")], 21211),
        (&[("To", PHONE), ("From", JOSH)], 21602),
        (&[("To", PHONE), ("Body", "hi")], 21603),
        (
            &[
                ("To", PHONE),
                ("From", JOSH),
                ("Body", "hi"),
                ("ValidityPeriod", "99999"),
            ],
            21624,
        ),
    ];
    for (form, code) in cases {
        let response = create(&sim, form).await;
        assert_eq!(response.status(), 400, "{form:?}");
        assert_error(&response.json().await.unwrap(), 400, code);
    }
    assert_eq!(sim.create_count(), 0);
}

#[tokio::test]
async fn fetch_returns_the_resource_and_unknown_sids_404() {
    let sim = simulator(None).await;
    let created = create_ok(&sim, PHONE, &[("ValidityPeriod", "600")]).await;
    let sid = created["sid"].as_str().unwrap();
    let client = reqwest::Client::new();
    let url = format!(
        "{}/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json",
        sim.base_url()
    );
    let response = client
        .get(&url)
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fetched: Value = response.json().await.unwrap();
    assert_twilio_shape(&fetched);
    assert_eq!(fetched["sid"], sid);
    assert_eq!(sim.messages()[0].validity_period, Some(600));

    let unknown = url.replace(sid, "SM00000000000000000000000000000000");
    let response = client
        .get(&unknown)
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_error(&response.json().await.unwrap(), 404, 20404);

    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401, "fetch needs auth too");
}

#[tokio::test]
async fn list_filters_by_recipient_newest_first() {
    let sim = simulator(None).await;
    create_ok(&sim, PHONE, &[]).await;
    create_ok(&sim, "+15555550199", &[]).await;
    let newest = create_ok(&sim, PHONE, &[]).await;
    let response = reqwest::Client::new()
        .get(format!(
            "{}?To=%2B15555550100&PageSize=1",
            messages_url(&sim)
        ))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["sid"], newest["sid"]);
    assert!(page["next_page_uri"].is_string());
    assert_eq!(page["page_size"], 1);
}
