//! billing over a real, migrated database: events are signed here with an independent
//! HMAC-SHA256 (the `hmac` crate, not billing's signer), posted to the webhook route in process,
//! and processed by calling the processor directly (no worker, no sleeping).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use billing::entitlement::{Entitlement, Reason};
use billing::process::Processor;
use billing::stripe::StripeClient;
use billing::webhook::{self, WebhookState};
use hmac::{Hmac, KeyInit, Mac};
use platform::clock::ManualClock;
use proto::Payload;
use serde_json::{Value, json};
use sqlx::PgPool;
use testkit::TestDb;
use time::OffsetDateTime;
use tower::ServiceExt as _;
use uuid::Uuid;

pub const SECRET: &str = "whsec_test_secret_for_billing";
pub const KEYS: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/// Stripe times in the tests: the fixtures' own epoch (2024-07-26).
pub const T0: i64 = 1_721_954_054;

pub struct Billing {
    pub db: TestDb,
    pub pool: PgPool,
    pub clock: ManualClock,
    pub processor: Processor,
    pub keyring: crypto::Keyring,
    router: axum::Router,
}

impl Billing {
    pub async fn new() -> Self {
        Self::with_stripe("http://127.0.0.1:1").await
    }

    /// With the Stripe API at `stripe_base` (a stub of charge and subscription reads), applying
    /// subscription events as they come (ordered by event time).
    pub async fn with_stripe(stripe_base: &str) -> Self {
        Self::build(stripe_base, false).await
    }

    /// With the Stripe simulator at `stripe_base`, re-fetching every subscription an event names.
    pub async fn refetching(stripe_base: &str) -> Self {
        Self::build(stripe_base, true).await
    }

    async fn build(stripe_base: &str, refetch: bool) -> Self {
        let db = TestDb::migrated().await.unwrap();
        let pool = db.pool_as("josh_billing").await.unwrap();
        let clock = ManualClock::at(at(T0));
        let keyring = crypto::Keyring::from_config(KEYS, "1").unwrap();
        let stripe = StripeClient::new(stripe_base, "sk_test_x".to_owned().into()).unwrap();
        let processor = Processor::new(
            pool.clone(),
            keyring.clone(),
            Arc::new(clock.clone()),
            stripe,
        )
        .with_refetch(refetch);
        let router = webhook::router(WebhookState {
            pool: pool.clone(),
            secret: SECRET.to_owned().into(),
            clock: Arc::new(clock.clone()),
            signature_clock: Arc::new(clock.clone()),
            wake: Arc::default(),
        });
        Self {
            db,
            pool,
            clock,
            processor,
            keyring,
            router,
        }
    }

    /// Serves the webhook route on a free port; returns its URL (for the simulator).
    pub async fn serve_webhook(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = self.router.clone();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}{}", webhook::PATH)
    }

    /// A registered user (inserted as the superuser: billing only reads users).
    pub async fn user(&self, phone: &str) -> Uuid {
        sqlx::query_scalar(
            "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                                sms_consent, age_consent, terms_consent, privacy_consent)
             values ($1, $2, 'Ada', 'Lovelace', '1990-12-10', true, true, true, true)
             returning id",
        )
        .bind(phone)
        .bind(format!("hash-{phone}"))
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    /// Posts raw `body` with a `Stripe-Signature` header value.
    pub async fn post_raw(&self, body: &[u8], signature: Option<&str>) -> StatusCode {
        let mut request = Request::post(webhook::PATH).header("content-type", "application/json");
        if let Some(signature) = signature {
            request = request.header("Stripe-Signature", signature);
        }
        let response = self
            .router
            .clone()
            .oneshot(request.body(Body::from(body.to_vec())).unwrap())
            .await
            .unwrap();
        response.status()
    }

    /// Posts `event` correctly signed now.
    pub async fn post(&self, event: &Value) -> StatusCode {
        let body = serde_json::to_vec(event).unwrap();
        let t = self.clock_now().unix_timestamp();
        self.post_raw(&body, Some(&format!("t={t},v1={}", sign(SECRET, t, &body))))
            .await
    }

    /// Posts and processes `event`, asserting it was accepted.
    pub async fn deliver(&self, event: &Value) {
        assert_eq!(self.post(event).await, StatusCode::OK);
        self.processor.process_pending().await.unwrap();
    }

    pub fn clock_now(&self) -> OffsetDateTime {
        use platform::clock::Clock as _;
        self.clock.now()
    }

    /// Moves the clock to Stripe time `t`.
    pub fn set_time(&self, t: i64) {
        self.clock.set(at(t));
    }

    pub async fn entitlement(&self, user: Uuid) -> Option<Entitlement> {
        let mut conn = self.pool.acquire().await.unwrap();
        billing::store::entitlements::get(&mut conn, user)
            .await
            .unwrap()
    }

    pub async fn reason(&self, user: Uuid) -> Reason {
        self.entitlement(user).await.unwrap().reason
    }

    pub async fn state(&self, user: Uuid) -> String {
        sqlx::query_scalar("select state::text from subscriptions where user_id = $1")
            .bind(user)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Every text billing enqueued, decrypted, in order.
    pub async fn texts(&self) -> Vec<String> {
        self.payloads("outbound.send_sms")
            .await
            .into_iter()
            .map(|envelope| {
                let Some(Payload::SendSms(command)) = &envelope.payload else {
                    panic!("not a SendSms")
                };
                let body = command.body.as_ref().unwrap();
                let sealed = crypto::EncryptedBody::from_parts(
                    body.key_version,
                    &body.nonce,
                    &body.ciphertext,
                    &body.tag,
                )
                .unwrap();
                let text = self
                    .keyring
                    .decrypt_to_string(&sealed, envelope.idempotency_key.as_bytes())
                    .unwrap();
                secrecy::ExposeSecret::expose_secret(&text).to_owned()
            })
            .collect()
    }

    /// The entitlement changes published, in order.
    pub async fn changes(&self) -> Vec<proto::v1::EntitlementChanged> {
        self.payloads("billing.entitlement_changed")
            .await
            .into_iter()
            .map(|envelope| match envelope.payload {
                Some(Payload::EntitlementChanged(e)) => e,
                _ => panic!("not EntitlementChanged"),
            })
            .collect()
    }

    async fn payloads(&self, event_type: &str) -> Vec<proto::Envelope> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "select payload from event_outbox where event_type = $1 and producer = 'billing' order by id",
        )
        .bind(event_type)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        rows.iter()
            .map(|p| proto::decode_envelope(p).unwrap())
            .collect()
    }
}

/// Stripe's scheme, computed independently: hex HMAC-SHA256 over "{t}.{body}".
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

pub fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A subscription's customer and id in one test.
#[derive(Debug, Clone)]
pub struct Sub {
    pub customer: String,
    pub id: String,
    pub created: i64,
    pub user: Uuid,
}

impl Sub {
    pub fn new(user: Uuid, n: u32) -> Self {
        Self {
            customer: format!("cus_test{n}"),
            id: format!("sub_test{n}"),
            created: T0,
            user,
        }
    }

    /// A `customer.subscription.<kind>` event at `t` with `status`.
    pub fn event(&self, evt: &str, kind: &str, t: i64, status: &str) -> Value {
        let mut e = fixture("customer.subscription.updated.past_due");
        e["id"] = json!(evt);
        e["type"] = json!(format!("customer.subscription.{kind}"));
        e["created"] = json!(t);
        let o = &mut e["data"]["object"];
        o["id"] = json!(self.id);
        o["customer"] = json!(self.customer);
        o["created"] = json!(self.created);
        o["status"] = json!(status);
        o["metadata"] = json!({ "user_id": self.user.to_string() });
        o["items"]["data"][0]["current_period_end"] = json!(t + 30 * 86_400);
        e
    }

    /// `checkout.session.completed` at `t` for this user and customer.
    pub fn checkout(&self, evt: &str, t: i64) -> Value {
        let mut e = fixture("checkout.session.completed");
        e["id"] = json!(evt);
        e["created"] = json!(t);
        let o = &mut e["data"]["object"];
        o["customer"] = json!(self.customer);
        o["subscription"] = json!(self.id);
        o["client_reference_id"] = json!(self.user.to_string());
        e
    }

    /// `invoice.paid` / `invoice.payment_failed` at `t`.
    pub fn invoice(&self, evt: &str, kind: &str, t: i64) -> Value {
        let name = if kind == "paid" {
            "invoice.paid"
        } else {
            "invoice.payment_failed"
        };
        let mut e = fixture(name);
        e["id"] = json!(evt);
        e["type"] = json!(format!("invoice.{kind}"));
        e["created"] = json!(t);
        e["data"]["object"]["customer"] = json!(self.customer);
        e
    }

    /// `charge.refunded` at `t` (shape: Stripe's charge object, trimmed).
    pub fn refund(&self, evt: &str, t: i64) -> Value {
        json!({
            "id": evt, "object": "event", "api_version": "2026-07-29.dahlia", "created": t,
            "type": "charge.refunded", "livemode": false, "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "data": { "object": {
                "id": "ch_test1", "object": "charge", "amount": 3999, "amount_refunded": 3999,
                "currency": "usd", "customer": self.customer, "refunded": true, "status": "succeeded"
            } }
        })
    }

    /// `charge.dispute.created` at `t` for charge `charge`.
    pub fn dispute(&self, evt: &str, t: i64, charge: &str) -> Value {
        json!({
            "id": evt, "object": "event", "api_version": "2026-07-29.dahlia", "created": t,
            "type": "charge.dispute.created", "livemode": false, "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "data": { "object": {
                "id": "dp_test1", "object": "dispute", "amount": 3999, "charge": charge,
                "currency": "usd", "reason": "fraudulent", "status": "needs_response"
            } }
        })
    }
}

pub const DAY: i64 = 86_400;

/// A stand-in for the two Stripe reads billing makes while processing (`GET /v1/charges/{id}`,
/// `GET /v1/subscriptions/{id}`), answering objects the test puts in, 404 otherwise.
#[derive(Clone, Default)]
pub struct StripeReads {
    objects: Arc<std::sync::Mutex<std::collections::HashMap<String, Value>>>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl StripeReads {
    /// Serves on a free port; returns its base URL.
    pub async fn serve(&self) -> String {
        use axum::extract::{Path, State};
        use axum::routing::get;
        async fn read(
            State(reads): State<StripeReads>,
            Path((_, id)): Path<(String, String)>,
        ) -> axum::response::Response {
            use axum::response::IntoResponse as _;
            if reads.down.load(std::sync::atomic::Ordering::SeqCst) {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    axum::Json(json!({ "error": { "message": "down", "type": "api_error" } })),
                )
                    .into_response();
            }
            match reads.objects.lock().unwrap().get(&id) {
                Some(o) => axum::Json(o.clone()).into_response(),
                None => (
                    StatusCode::NOT_FOUND,
                    axum::Json(json!({ "error": { "message": "No such object", "type": "invalid_request_error" } })),
                )
                    .into_response(),
            }
        }
        let app = axum::Router::new()
            .route("/v1/{kind}/{id}", get(read))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }

    /// Answers 503 to everything while `down`.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn put(&self, id: &str, object: Value) {
        self.objects.lock().unwrap().insert(id.to_owned(), object);
    }
}
