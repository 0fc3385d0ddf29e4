//! The webhook app in-process against a fresh migrated Postgres (as `josh_inbound_sms`), and
//! requests signed by an independent implementation of Twilio's signature (Python's standard
//! library, run at test time).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::process::Command;

use inbound_sms::{Config, WebhookState};
use platform::config::Env;
use sqlx::PgPool;
use testkit::TestDb;
use testkit::service::service_env;
use tokio_util::sync::CancellationToken;
use twilio::webhook::FormParams;

/// `TWILIO_AUTH_TOKEN` and `TWILIO_ACCOUNT_SID` of `testkit::service::service_env`.
pub const TOKEN: &str = "test-twilio-auth-token";
pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
/// JOSH's number in these tests.
pub const JOSH_NUMBER: &str = "+15558675310";
pub const SMS: &str = "/v1/twilio/sms";
pub const STATUS: &str = "/v1/twilio/status";
pub const FORM: &str = "application/x-www-form-urlencoded";
pub const EMPTY_TWIML: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response/>"#;

/// Twilio's algorithm written independently in Python (standard library only): HMAC-SHA1 keyed
/// with the auth token over the URL followed by every decoded (name, value) pair, sorted.
const PYTHON_SIGNER: &str = r#"
import base64, hashlib, hmac, sys, urllib.parse
token, url, body = sys.argv[1], sys.argv[2], sys.stdin.read()
pairs = urllib.parse.parse_qsl(body, keep_blank_values=True)
data = url + "".join(name + value for name, value in sorted(set(pairs)))
digest = hmac.new(token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
print(base64.b64encode(digest).decode("ascii"))
"#;

/// `X-Twilio-Signature` of a POST of form `body` to `url`, computed by python3.
pub fn python_sign(token: &str, url: &str, body: &str) -> String {
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args(["-c", PYTHON_SIGNER, token, url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed to sign test requests independently");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python signer failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A fresh Twilio-shaped SID with `prefix` (`SM`, `MM`, `AC`...).
pub fn sid(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    FormParams::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
    .to_body()
}

/// Every parameter Twilio sends with an inbound SMS (order as in captured requests).
pub fn sms_params<'a>(
    message_sid: &'a str,
    from: &'a str,
    body: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("SmsMessageSid", message_sid),
        ("NumMedia", "0"),
        ("ToCity", "SAUSALITO"),
        ("FromZip", "94103"),
        ("SmsSid", message_sid),
        ("FromState", "CA"),
        ("SmsStatus", "received"),
        ("FromCity", "SAN FRANCISCO"),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", JOSH_NUMBER),
        ("ToZip", "94965"),
        ("NumSegments", "1"),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ]
}

pub fn sms_body(message_sid: &str, from: &str, body: &str) -> String {
    form(&sms_params(message_sid, from, body))
}

/// A status callback as Twilio sends it for a message to `to`.
pub fn status_body(message_sid: &str, status: &str, error_code: Option<&str>, to: &str) -> String {
    let mut pairs = vec![
        ("SmsSid", message_sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", to),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", JOSH_NUMBER),
        ("ApiVersion", "2010-04-01"),
    ];
    if let Some(code) = error_code {
        pairs.push(("ErrorCode", code));
    }
    form(&pairs)
}

/// The service config of the tests, with `PUBLIC_BASE_URL` = `public_base_url`.
pub fn config(database_url: &str, nats_url: &str, public_base_url: &str) -> Config {
    let env: Vec<(String, String)> = service_env(database_url, nats_url)
        .into_iter()
        .map(|(k, v)| {
            if k == "PUBLIC_BASE_URL" {
                (k, public_base_url.to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    Config::from_env(&Env::from_pairs(env)).unwrap()
}

/// Rows that a webhook may create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub sms_messages: i64,
    pub message_events: i64,
    pub outbox: i64,
}

impl Counts {
    pub const NONE: Counts = Counts {
        sms_messages: 0,
        message_events: 0,
        outbox: 0,
    };
}

pub async fn counts(admin: &PgPool) -> Counts {
    let (sms_messages, message_events, outbox): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from sms_messages), (select count(*) from message_events),
                (select count(*) from event_outbox)",
    )
    .fetch_one(admin)
    .await
    .unwrap();
    Counts {
        sms_messages,
        message_events,
        outbox,
    }
}

/// The webhook routes served on 127.0.0.1:0, storing as `josh_inbound_sms`.
pub struct App {
    pub db: TestDb,
    /// Connected as `josh_inbound_sms` (what the app stores through).
    pub pool: PgPool,
    pub config: Config,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub public_base_url: String,
    shutdown: CancellationToken,
}

impl App {
    pub async fn start() -> Self {
        Self::with_base_url("https://josh.example.com").await
    }

    pub async fn with_base_url(public_base_url: &str) -> Self {
        Self::build(public_base_url, None).await
    }

    pub async fn with_body_limit(limit: usize) -> Self {
        Self::build("https://josh.example.com", Some(limit)).await
    }

    async fn build(public_base_url: &str, body_limit: Option<usize>) -> Self {
        let db = TestDb::migrated().await.unwrap();
        let pool = db.pool_as("josh_inbound_sms").await.unwrap();
        let config = config(&db.url(), &testkit::nats_url(), public_base_url);
        let mut state = WebhookState::new(pool.clone(), &config, None);
        if let Some(limit) = body_limit {
            state = state.with_body_limit(limit);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            axum::serve(listener, inbound_sms::router(state))
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
                .unwrap();
        });
        Self {
            db,
            pool,
            config,
            addr,
            http: reqwest::Client::new(),
            public_base_url: public_base_url.to_owned(),
            shutdown,
        }
    }

    /// Where the test sends requests.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    /// What Twilio would have signed for this path.
    pub fn public_url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.public_base_url)
    }

    /// POSTs `body` with the given content type and signature header.
    pub async fn post_raw(
        &self,
        path_and_query: &str,
        body: String,
        content_type: Option<&str>,
        signature: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path_and_query)).body(body);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        if let Some(sig) = signature {
            request = request.header("X-Twilio-Signature", sig);
        }
        request.send().await.unwrap()
    }

    /// POSTs a form body signed (by python) for `PUBLIC_BASE_URL` + `path_and_query`.
    pub async fn post_signed(&self, path_and_query: &str, body: String) -> reqwest::Response {
        let sig = python_sign(TOKEN, &self.public_url(path_and_query), &body);
        self.post_raw(path_and_query, body, Some(FORM), Some(&sig))
            .await
    }

    pub async fn counts(&self) -> Counts {
        counts(&self.db.pool).await
    }

    /// Inserts a registered user with this phone number; returns its id.
    pub async fn add_user(&self, phone: &str) -> uuid::Uuid {
        add_user(&self.db.pool, &self.config, phone).await
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Inserts a user (as the superuser: users belong to the conversation-router).
pub async fn add_user(admin: &PgPool, config: &Config, phone: &str) -> uuid::Uuid {
    sqlx::query_scalar(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                            sms_consent, age_consent, terms_consent, privacy_consent)
         values ($1, $2, 'Ada', 'Lovelace', '1990-12-10', true, true, true, true)
         returning id",
    )
    .bind(phone)
    .bind(config.phone_pepper.hash(phone))
    .fetch_one(admin)
    .await
    .unwrap()
}

/// The single answer every accepted webhook gets.
pub async fn assert_empty_twiml(response: reqwest::Response) {
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    assert_eq!(response.text().await.unwrap(), EMPTY_TWIML);
}

/// `params` as a form body without the parameter `name`.
pub fn without(params: &[(&str, &str)], name: &str) -> String {
    let kept: Vec<(&str, &str)> = params.iter().copied().filter(|(n, _)| *n != name).collect();
    form(&kept)
}
