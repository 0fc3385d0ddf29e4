//! A router over a real, migrated database, driven text by text: each text is delivered to the
//! inbound handler exactly as the consumer would (inbox claim, handle, commit), and the replies
//! are read back from the outbox and decrypted.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use conversation_router::inbound::InboundHandler;
use conversation_router::reactions::ReactionsHandler;
use conversation_router::{Context, SERVICE, replies};
use platform::clock::ManualClock;
use proto::v1::{SendSms, SmsReceived};
use proto::{Envelope, Payload};
use sqlx::PgPool;
use testkit::TestDb;
use time::macros::datetime;

pub const KEYS: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
pub const PEPPER: &str = "test-pepper";
pub const JOSH: &str = "+15005550006";

/// What JOSH sent back: the text and its send-SMS command.
#[derive(Debug, Clone)]
pub struct Sent {
    pub text: String,
    pub command: SendSms,
}

pub struct Router {
    pub db: TestDb,
    pub pool: PgPool,
    pub clock: ManualClock,
    pub ctx: Arc<Context>,
    handler: InboundHandler,
    /// The Stripe simulator behind billing's API (kept alive for the test).
    pub stripe: stripe_sim::StripeSim,
    reactions: ReactionsHandler,
    seen: std::sync::Mutex<i64>,
    counter: std::sync::atomic::AtomicU64,
}

/// billing's real gRPC API over the same database, talking to an in-process Stripe simulator.
async fn billing_api(
    db: &TestDb,
    clock: &ManualClock,
) -> (tonic::transport::Channel, stripe_sim::StripeSim) {
    let config = stripe_sim::SimConfig::new("sk_test_router", "whsec_router");
    let sim = stripe_sim::StripeSim::start(config).await.unwrap();
    let stripe =
        billing::stripe::StripeClient::new(&sim.base_url(), "sk_test_router".to_owned().into())
            .unwrap();
    let api = billing::grpc::BillingApi::new(
        db.pool_as("josh_billing").await.unwrap(),
        stripe,
        Arc::new(clock.clone()),
        billing::config::Prices {
            monthly: "price_josh_monthly".to_owned(),
            annual: "price_josh_annual".to_owned(),
        },
        "https://josh.example".to_owned(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(api.into_server())
            .serve_with_incoming(incoming),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    (channel, sim)
}

impl Router {
    pub async fn new() -> Self {
        let db = TestDb::migrated().await.unwrap();
        sqlx::raw_sql(
            r#"insert into regions (slug, display_name, state, geometry, rules) values
               ('sf', 'San Francisco', 'open', '{"type":"zip_set","zips":["94110","94103"]}', '{"timezone":"America/Los_Angeles"}'),
               ('oak', 'Oakland', 'waitlisted', '{"type":"zip_set","zips":["94606"]}', '{"timezone":"America/Los_Angeles"}')"#,
        )
        .execute(&db.pool)
        .await
        .unwrap();
        let pool = db.pool_as("josh_conversation_router").await.unwrap();
        let clock = ManualClock::at(datetime!(2026-11-22 18:00 UTC));
        let (billing, stripe) = billing_api(&db, &clock).await;
        let ctx = Arc::new(Context {
            keyring: crypto::Keyring::from_config(KEYS, "1").unwrap(),
            clock: Arc::new(clock.clone()),
            public_base_url: "https://josh.example".to_owned(),
            phone_pepper: crypto::PhonePepper::new(PEPPER).unwrap(),
            otp_key: crypto::OtpKey::new(PEPPER).unwrap(),
            billing: conversation_router::billing::Billing::from_channel(billing),
            safety_rules: Default::default(),
        });
        let handler = InboundHandler::new(ctx.clone());
        let reactions = ReactionsHandler::new(ctx.clone());
        Self {
            db,
            pool,
            clock,
            ctx,
            handler,
            stripe,
            reactions,
            seen: std::sync::Mutex::new(0),
            counter: Default::default(),
        }
    }

    /// The keyed hash a phone gets (any stable value works here: the router only compares).
    pub fn hash(phone: &str) -> String {
        format!("hash-{phone}")
    }

    /// An inbound text as inbound-sms would publish it.
    pub fn envelope(&self, phone: &str, text: &str) -> Envelope {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sid = format!("SM{:032x}", u128::from(n) + 0xabc0_0000);
        let body = replies::seal(&self.ctx.keyring, text, &sid).unwrap();
        let sms = SmsReceived {
            message_sid: sid.clone(),
            from_e164: phone.to_owned(),
            to_e164: JOSH.to_owned(),
            phone_hash: Self::hash(phone),
            body: Some(body),
            ..SmsReceived::default()
        };
        Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            producer: "inbound-sms".to_owned(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            idempotency_key: format!("sms.received:{sid}"),
            partition_key: Self::hash(phone),
            occurred_at: Some(proto::timestamp::to_timestamp(self.ctx.clock.now())),
            ..Envelope::for_payload(sms)
        }
    }

    /// Delivers `envelope` (as the consumer would) and returns what JOSH sent since last asked.
    pub async fn deliver(&self, envelope: &Envelope) -> Vec<Sent> {
        bus::deliver(&self.pool, SERVICE, &self.handler, envelope)
            .await
            .unwrap();
        self.new_replies().await
    }

    /// What the consumer does after dead-lettering `envelope`.
    pub async fn dead_letter(&self, envelope: &Envelope) -> Vec<Sent> {
        use bus::Handler as _;
        self.handler.dead_lettered(&self.pool, envelope).await;
        self.new_replies().await
    }

    /// Delivers another service's fact to the router's reactions; returns what JOSH sent.
    pub async fn react(&self, payload: impl Into<Payload>) -> Vec<Sent> {
        let envelope = Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            producer: "linkup-matcher".to_owned(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            occurred_at: Some(proto::timestamp::to_timestamp(self.ctx.clock.now())),
            ..Envelope::for_payload(payload)
        };
        self.react_envelope(&envelope).await
    }

    /// Delivers `envelope` to the router's reactions (as the consumer would).
    pub async fn react_envelope(&self, envelope: &Envelope) -> Vec<Sent> {
        bus::deliver(&self.pool, SERVICE, &self.reactions, envelope)
            .await
            .unwrap();
        self.new_replies().await
    }

    /// Serves the router's HTTP API on a free port; returns its base URL.
    pub async fn serve(&self) -> String {
        let state = conversation_router::api::ApiState {
            pool: self.pool.clone(),
            ctx: self.ctx.clone(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = conversation_router::api::routes(state)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    /// The id of the user with `phone`.
    pub async fn user_id(&self, phone: &str) -> uuid::Uuid {
        sqlx::query_scalar("select id from users where phone_e164 = $1")
            .bind(phone)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// A LinkUp as the matcher would have stored it (written as the superuser).
    pub async fn linkup(&self, initiator: &str, activity: &str, window: &str) -> uuid::Uuid {
        let initiator = self.user_id(initiator).await;
        sqlx::query_scalar(
            "insert into linkups (initiator_user_id, region_id, state, brief, linkup_create_key)
             select $1, region_id, 'broadcasting', jsonb_build_object('activity_key', $2::text, 'time_window', $3::text), gen_random_uuid()::text
             from users where id = $1 returning id",
        )
        .bind(initiator)
        .bind(activity)
        .bind(window)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    /// Seats `members` (phone, role) in `linkup` as the matcher would (written as the superuser).
    pub async fn seat(&self, linkup: uuid::Uuid, members: &[(&str, &str)]) {
        for (phone, role) in members {
            sqlx::query(
                "insert into linkup_participants (linkup_id, user_id, role) values ($1, $2, $3)",
            )
            .bind(linkup)
            .bind(self.user_id(phone).await)
            .bind(*role)
            .execute(&self.db.pool)
            .await
            .unwrap();
        }
    }

    /// `people` (phone, first name) registered and seated in one coffee LinkUp, the first as its
    /// initiator; the LinkUp's id.
    pub async fn met(&self, people: &[(&str, &str)]) -> uuid::Uuid {
        for (phone, name) in people {
            self.onboard(phone, name).await;
        }
        let linkup = self.linkup(people[0].0, "coffee", "SAT_MORNING").await;
        let seats: Vec<(&str, &str)> = people
            .iter()
            .enumerate()
            .map(|(i, (phone, _))| (*phone, if i == 0 { "initiator" } else { "participant" }))
            .collect();
        self.seat(linkup, &seats).await;
        linkup
    }

    /// `phone` texts `text`; returns the texts JOSH sends back.
    pub async fn text(&self, phone: &str, text: &str) -> Vec<String> {
        let envelope = self.envelope(phone, text);
        self.deliver(&envelope)
            .await
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    /// Every send-SMS command enqueued since the last call, decrypted.
    pub async fn new_replies(&self) -> Vec<Sent> {
        let mut seen = *self.seen.lock().unwrap();
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "select id, payload from event_outbox where event_type = 'outbound.send_sms' and id > $1 order by id",
        )
        .bind(seen)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        let mut out = Vec::new();
        for (id, payload) in rows {
            seen = id;
            let envelope = proto::decode_envelope(&payload).unwrap();
            let Some(Payload::SendSms(command)) = envelope.payload else {
                panic!("not a SendSms")
            };
            let body = command.body.as_ref().unwrap();
            let text = replies::open(&self.ctx.keyring, body, &envelope.idempotency_key).unwrap();
            out.push(Sent { text, command });
        }
        *self.seen.lock().unwrap() = seen;
        out
    }

    /// Event types published by the router so far, in order (send-SMS commands excluded).
    pub async fn events(&self) -> Vec<String> {
        sqlx::query_scalar(
            "select event_type from event_outbox where producer = 'conversation-router'
             and event_type <> 'outbound.send_sms' order by id",
        )
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    /// Registers `phone` over SMS with a birthday and ZIP, returning the last reply.
    pub async fn register(&self, phone: &str, first: &str, zip: &str) -> Vec<String> {
        self.text(phone, "hi").await;
        self.text(phone, first).await;
        self.text(phone, "Tester").await;
        self.text(phone, "5/17/1990").await;
        self.text(phone, zip).await;
        self.text(phone, "AGREE").await
    }

    /// Registers `phone` and answers the whole interview, so the user is active with a
    /// complete_mvp profile (coffee top pick, mornings and weekends, groups of 4-6).
    pub async fn onboard(&self, phone: &str, first: &str) {
        self.register(phone, first, "94110").await;
        for answer in [
            "coffee, walk, brunch",
            "coffee",
            "a",
            "b",
            "ideas",
            "b",
            "b",
            "a",
            "skip",
            "a and d",
        ] {
            self.clock.advance(time::Duration::seconds(20));
            self.text(phone, answer).await;
        }
        let state = self
            .scalar_text(&format!(
                "select state::text from users where phone_e164 = '{phone}'"
            ))
            .await;
        assert_eq!(
            state.as_deref(),
            Some("active"),
            "{phone} finished the interview"
        );
        self.entitle(phone).await;
        self.clock.advance(time::Duration::minutes(2));
    }

    /// Makes `phone` a member (as billing would record a paid subscription).
    pub async fn entitle(&self, phone: &str) {
        sqlx::query(
            "insert into entitlements (user_id, eligible_to_participate, eligible_to_initiate, reason)
             select id, true, true, 'subscription' from users where phone_e164 = $1
             on conflict (user_id) do update set eligible_to_participate = true, eligible_to_initiate = true",
        )
        .bind(phone)
        .execute(&self.db.pool)
        .await
        .unwrap();
    }

    /// Payloads of the events of `event_type` the router published, in order.
    pub async fn published(&self, event_type: &str) -> Vec<Payload> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "select payload from event_outbox where event_type = $1 order by id",
        )
        .bind(event_type)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        rows.iter()
            .map(|p| proto::decode_envelope(p).unwrap().payload.unwrap())
            .collect()
    }

    pub async fn scalar_text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_optional(&self.db.pool)
            .await
            .unwrap()
    }
}
