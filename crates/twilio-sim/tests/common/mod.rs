//! Shared by the simulator's tests: a webhook receiver that records what it is sent, and a
//! simulator with known credentials.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a part

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::extract::{Form, OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;
use twilio_sim::{SimConfig, Simulator};

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "sim-test-auth-token";
pub const JOSH: &str = "+15005550006";
pub const PHONE: &str = "+15555550100";

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Path and query, as requested.
    pub path: String,
    /// `X-Twilio-Signature`.
    pub signature: String,
    /// The form parameters, in the order sent.
    pub params: Vec<(String, String)>,
}

impl Hit {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A small HTTP server that records every POST and answers with a settable status.
pub struct Receiver {
    pub base: String,
    hits: mpsc::UnboundedReceiver<Hit>,
    answer: Arc<AtomicU16>,
}

#[derive(Clone)]
struct ReceiverState {
    hits: mpsc::UnboundedSender<Hit>,
    answer: Arc<AtomicU16>,
}

async fn record(
    State(state): State<ReceiverState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> StatusCode {
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let path = uri
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    let _ = state.hits.send(Hit {
        path,
        signature,
        params,
    });
    StatusCode::from_u16(state.answer.load(Ordering::SeqCst)).unwrap()
}

impl Receiver {
    pub async fn start() -> Receiver {
        twilio::client::install_crypto_provider();
        let (tx, rx) = mpsc::unbounded_channel();
        let answer = Arc::new(AtomicU16::new(200));
        let state = ReceiverState {
            hits: tx,
            answer: Arc::clone(&answer),
        };
        let app = axum::Router::new()
            .route("/{*path}", post(record))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            base,
            hits: rx,
            answer,
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The HTTP status it answers from now on.
    pub fn answer_with(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    /// The next request, within 5 s.
    pub async fn next(&mut self) -> Hit {
        tokio::time::timeout(Duration::from_secs(5), self.hits.recv())
            .await
            .expect("no request within 5 s")
            .unwrap()
    }

    /// Asserts nothing more arrives from `sim`: once none of its messages is still moving
    /// through its statuses, every callback it posts has reached this receiver.
    pub async fn assert_quiet(&mut self, sim: &Simulator) {
        testkit::wait_until(
            "the simulator's message lifecycles to end",
            Duration::from_secs(10),
            || async { sim.lifecycles_running() == 0 },
        )
        .await
        .unwrap();
        if let Ok(hit) = self.hits.try_recv() {
            panic!("unexpected request {hit:?}");
        }
    }

    /// Asserts `hit` carries a valid Twilio signature for the URL it was posted to.
    pub fn assert_signed(&self, hit: &Hit) {
        let url = self.url(&hit.path);
        assert!(
            twilio::signature::validate(TOKEN, &url, &hit.params, &hit.signature),
            "bad signature on {hit:?}"
        );
    }
}

/// A simulator with the test credentials, callbacks 20 ms apart.
pub async fn simulator(inbound_webhook_url: Option<String>) -> Simulator {
    Simulator::start(SimConfig {
        inbound_webhook_url,
        callback_delay: Duration::from_millis(20),
        ..SimConfig::new(ACCOUNT, TOKEN)
    })
    .await
    .unwrap()
}

/// The Messages collection URL.
pub fn messages_url(sim: &Simulator) -> String {
    format!(
        "{}/2010-04-01/Accounts/{ACCOUNT}/Messages.json",
        sim.base_url()
    )
}

/// `POST .../Messages.json` with the test credentials.
pub async fn create(sim: &Simulator, form: &[(&str, &str)]) -> reqwest::Response {
    reqwest::Client::new()
        .post(messages_url(sim))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Creates a message from JOSH to `to` and returns the JSON answer (asserting 201).
pub async fn create_ok(sim: &Simulator, to: &str, extra: &[(&str, &str)]) -> serde_json::Value {
    let mut form = vec![("To", to), ("From", JOSH), ("Body", "Hi from JOSH")];
    form.extend_from_slice(extra);
    let response = create(sim, &form).await;
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}
