//! Registration over HTTP: the form, the one-time code and its limits, over a real listener.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use serde_json::{Value, json};
use time::Duration;

const PHONE: &str = "+14155550123";

struct Api {
    r: Router,
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn new() -> Self {
        let r = Router::new().await;
        let base = r.serve().await;
        Self {
            r,
            base,
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.post_from(path, body, "203.0.113.7").await
    }

    async fn post_from(&self, path: &str, body: &Value, ip: &str) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("x-forwarded-for", ip)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The code in the last text JOSH sent.
    async fn last_code(&self) -> String {
        let sent = self.r.new_replies().await;
        let text = &sent.last().expect("a code was texted").text;
        text.split_whitespace()
            .find(|w| {
                w.trim_end_matches('.').len() == 6
                    && w.trim_end_matches('.').chars().all(|c| c.is_ascii_digit())
            })
            .unwrap()
            .trim_end_matches('.')
            .to_owned()
    }
}

fn form(phone: &str) -> Value {
    json!({
        "phone": phone, "first_name": "Ada", "last_name": "Lovelace", "birthday": "1990-05-17",
        "zip": "94110", "email": "ada@example.com",
        "consents": { "sms": true, "age": true, "terms": true, "privacy": true }
    })
}

fn wrong(code: &str) -> String {
    format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000)
}

#[tokio::test]
async fn the_form_then_the_code_starts_the_interview_by_sms() {
    let api = Api::new().await;
    let (status, body) = api.post("/v1/registrations", &form(PHONE)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "unverified");
    let code = api.last_code().await;
    let stored = api
        .r
        .scalar_text("select otp_hash from otp_sessions")
        .await
        .unwrap();
    assert_ne!(stored, code);
    assert_eq!(stored.len(), 64, "a keyed hash, never the code");
    let (status, body) = api
        .post(
            "/v1/registrations/verify",
            &json!({ "phone": PHONE, "code": code }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "interviewing");
    let texts: Vec<String> = api
        .r
        .new_replies()
        .await
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert_eq!(
        texts,
        [
            copy::onboarding_opening("Ada"),
            copy::LINKUPS_EXPLAINED.to_owned(),
            copy::ASK_ACTIVITIES.to_owned()
        ]
    );
    let state = api.r.scalar_text("select state::text from users").await;
    assert_eq!(state.as_deref(), Some("interviewing"));
    let events = api.r.events().await;
    assert!(
        events.contains(&"identity.user_verified".to_owned()),
        "{events:?}"
    );
    // The same code does not work twice.
    let (status, _) = api
        .post(
            "/v1/registrations/verify",
            &json!({ "phone": PHONE, "code": code }),
        )
        .await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn validation_errors_name_the_field() {
    let api = Api::new().await;
    let cases: Vec<(Value, u16, Value)> = vec![
        (
            {
                let mut f = form(PHONE);
                f["first_name"] = Value::Null;
                f
            },
            422,
            json!("first_name"),
        ),
        (
            {
                let mut f = form(PHONE);
                f["phone"] = json!("call me");
                f
            },
            422,
            json!("phone"),
        ),
        (
            {
                let mut f = form(PHONE);
                f["birthday"] = json!("2015-01-01");
                f
            },
            422,
            json!("birthday"),
        ),
        (
            {
                let mut f = form(PHONE);
                f["zip"] = json!("abc");
                f
            },
            422,
            json!("zip"),
        ),
        (
            {
                let mut f = form(PHONE);
                f["email"] = json!("nope");
                f
            },
            422,
            json!("email"),
        ),
        (
            {
                let mut f = form(PHONE);
                f["consents"]["terms"] = json!(false);
                f
            },
            422,
            json!("consents.terms"),
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = api.post("/v1/registrations", &body).await;
        assert_eq!((got, answer["field"].clone()), (status, field), "{answer}");
    }
    let malformed = api
        .http
        .post(format!("{}/v1/registrations", api.base))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status().as_u16(), 400);
    assert_eq!(
        api.r
            .scalar_text("select count(*)::text from users")
            .await
            .as_deref(),
        Some("0")
    );
}

#[tokio::test]
async fn an_existing_phone_is_a_conflict() {
    let api = Api::new().await;
    assert_eq!(api.post("/v1/registrations", &form(PHONE)).await.0, 201);
    let (status, body) = api.post("/v1/registrations", &form(PHONE)).await;
    assert_eq!((status, body["field"].clone()), (409, json!("phone")));
}

#[tokio::test]
async fn five_wrong_codes_kill_it_and_an_expired_code_is_refused() {
    let api = Api::new().await;
    api.post("/v1/registrations", &form(PHONE)).await;
    let code = api.last_code().await;
    for _ in 0..5 {
        let (status, body) = api
            .post(
                "/v1/registrations/verify",
                &json!({ "phone": PHONE, "code": wrong(&code) }),
            )
            .await;
        assert_eq!(
            (status, body["error"].clone()),
            (422, json!("code: wrong code"))
        );
    }
    let (status, body) = api
        .post(
            "/v1/registrations/verify",
            &json!({ "phone": PHONE, "code": code }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "code: too many wrong tries; ask for a new code"
    );
    // A new code (after the 30 s gap) resets the tries, and expires after 10 minutes.
    api.r.clock.advance(Duration::seconds(31));
    assert_eq!(
        api.post("/v1/registrations/resend", &json!({ "phone": PHONE }))
            .await
            .0,
        202
    );
    let fresh = api.last_code().await;
    api.r.clock.advance(Duration::minutes(11));
    let (status, body) = api
        .post(
            "/v1/registrations/verify",
            &json!({ "phone": PHONE, "code": fresh }),
        )
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (422, json!("code: this code has expired; ask for a new one"))
    );
}

#[tokio::test]
async fn three_codes_an_hour_thirty_seconds_apart() {
    let api = Api::new().await;
    api.post("/v1/registrations", &form(PHONE)).await;
    let resend = json!({ "phone": PHONE });
    assert_eq!(
        api.post("/v1/registrations/resend", &resend).await.0,
        429,
        "within 30 s"
    );
    for _ in 0..2 {
        api.r.clock.advance(Duration::seconds(31));
        assert_eq!(api.post("/v1/registrations/resend", &resend).await.0, 202);
    }
    api.r.clock.advance(Duration::seconds(31));
    let (status, body) = api.post("/v1/registrations/resend", &resend).await;
    assert_eq!(
        (status, body["error"].clone()),
        (
            429,
            json!("too many requests: at most 3 codes an hour for one phone")
        )
    );
    api.r.clock.advance(Duration::hours(1));
    assert_eq!(
        api.post("/v1/registrations/resend", &resend).await.0,
        202,
        "a new hour"
    );
}

#[tokio::test]
async fn one_address_may_register_ten_times_an_hour() {
    let api = Api::new().await;
    for n in 0..10 {
        let phone = format!("+1415555{n:04}");
        assert_eq!(
            api.post_from("/v1/registrations", &form(&phone), "198.51.100.9")
                .await
                .0,
            201
        );
    }
    let (status, _) = api
        .post_from("/v1/registrations", &form("+14155559999"), "198.51.100.9")
        .await;
    assert_eq!(status, 429);
    let (status, _) = api
        .post_from("/v1/registrations", &form("+14155559999"), "198.51.100.10")
        .await;
    assert_eq!(status, 201, "another address is not limited");
}

#[tokio::test]
async fn a_waitlisted_zip_ends_on_the_waitlist() {
    let api = Api::new().await;
    let mut body = form(PHONE);
    body["zip"] = json!("94606");
    api.post("/v1/registrations", &body).await;
    let code = api.last_code().await;
    let (status, body) = api
        .post(
            "/v1/registrations/verify",
            &json!({ "phone": PHONE, "code": code }),
        )
        .await;
    assert_eq!((status, body["status"].clone()), (200, json!("waitlisted")));
    let texts: Vec<String> = api
        .r
        .new_replies()
        .await
        .into_iter()
        .map(|s| s.text)
        .collect();
    assert_eq!(texts, [copy::waitlisted("Oakland")]);
}
