//! The router and the matcher wired together as the bus wires them, without a broker: every
//! outbox row goes to the handlers that consume its type (through `bus::deliver`, exactly as the
//! consumers do), send-SMS commands are collected as the texts each phone receives, and one
//! manual clock drives both services' time. Billing's real gRPC API (against the Stripe
//! simulator) answers the router's entitlement questions.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod erasure;

use std::collections::BTreeMap;
use std::sync::Arc;

use platform::clock::{Clock, ManualClock};
use proto::{Envelope, Payload};
use sqlx::PgPool;
use testkit::TestDb;
use time::macros::datetime;

pub const KEYS: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/// The phone-hash pepper of every service in the stack.
pub const PEPPER: &str = "journey-pepper";

/// Router, matcher and billing over one database and one clock.
pub struct Stack {
    pub db: TestDb,
    pub clock: ManualClock,
    router_pool: PgPool,
    matcher_pool: PgPool,
    router_ctx: Arc<conversation_router::Context>,
    matcher_ctx: Arc<linkup_matcher::Context>,
    inbound: conversation_router::inbound::InboundHandler,
    reactions: conversation_router::reactions::ReactionsHandler,
    create: linkup_matcher::create::CreateHandler,
    reply: linkup_matcher::replies::ReplyHandler,
    after: linkup_matcher::after::AfterHandler,
    eligibility: linkup_matcher::eligibility::EligibilityHandler,
    pub stripe: stripe_sim::StripeSim,
    pumped: std::sync::Mutex<i64>,
    counter: std::sync::atomic::AtomicU64,
    /// Every text each phone received, in order.
    pub inbox: std::sync::Mutex<BTreeMap<String, Vec<String>>>,
    /// inbound-sms, outbound-sender and billing's erasure, when the test needs them.
    pub others: Option<erasure::Others>,
}

impl Stack {
    pub async fn new() -> Self {
        let db = TestDb::migrated().await.unwrap();
        sqlx::raw_sql(
            r#"insert into regions (slug, display_name, state, geometry, rules) values
               ('sf', 'San Francisco', 'open', '{"type":"zip_set","zips":["94110","94103"]}', '{"timezone":"America/Los_Angeles"}')"#,
        )
        .execute(&db.pool)
        .await
        .unwrap();
        // Wednesday 10:00 in San Francisco.
        let clock = ManualClock::at(datetime!(2026-11-25 18:00 UTC));
        let keyring = crypto::Keyring::from_config(KEYS, "1").unwrap();
        let (billing, stripe) = billing_api(&db, &clock).await;
        let router_ctx = Arc::new(conversation_router::Context {
            keyring: keyring.clone(),
            clock: Arc::new(clock.clone()),
            public_base_url: "https://josh.example".to_owned(),
            phone_pepper: crypto::PhonePepper::new(PEPPER).unwrap(),
            otp_key: crypto::OtpKey::new("journey-pepper").unwrap(),
            billing: conversation_router::billing::Billing::from_channel(billing),
            safety_rules: Default::default(),
        });
        let matcher_ctx = Arc::new(linkup_matcher::Context {
            keyring,
            clock: Arc::new(clock.clone()),
            public_base_url: "https://josh.example".to_owned(),
        });
        Self {
            router_pool: db.pool_as("josh_conversation_router").await.unwrap(),
            matcher_pool: db.pool_as("josh_linkup_matcher").await.unwrap(),
            inbound: conversation_router::inbound::InboundHandler::new(router_ctx.clone()),
            reactions: conversation_router::reactions::ReactionsHandler::new(router_ctx.clone()),
            create: linkup_matcher::create::CreateHandler::new(matcher_ctx.clone()),
            reply: linkup_matcher::replies::ReplyHandler::new(matcher_ctx.clone()),
            after: linkup_matcher::after::AfterHandler::new(matcher_ctx.clone()),
            eligibility: linkup_matcher::eligibility::EligibilityHandler::new(matcher_ctx.clone()),
            router_ctx,
            matcher_ctx,
            db,
            clock,
            stripe,
            pumped: std::sync::Mutex::new(0),
            counter: Default::default(),
            inbox: Default::default(),
            others: None,
        }
    }

    /// A stack where inbound-sms stores every text, outbound-sender sends every reply through
    /// the Twilio simulator, and deletions reach every service.
    pub async fn with_others() -> Self {
        let mut stack = Self::new().await;
        let keyring = crypto::Keyring::from_config(KEYS, "1").unwrap();
        stack.others = Some(erasure::Others::start(&stack.db, keyring, &stack.clock).await);
        stack
    }

    /// `phone` texts JOSH; everything it causes runs to quiescence.
    pub async fn text(&self, phone: &str, text: &str) {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let sid = format!("SM{:032x}", u128::from(n) + 0x5000);
        let hash = self.router_ctx.phone_pepper.hash(phone);
        let body =
            conversation_router::replies::seal(&self.router_ctx.keyring, text, &sid).unwrap();
        let sms = proto::v1::SmsReceived {
            message_sid: sid.clone(),
            from_e164: phone.to_owned(),
            to_e164: "+15005550006".to_owned(),
            phone_hash: hash.clone(),
            body: Some(body),
            ..Default::default()
        };
        let envelope = Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            producer: "inbound-sms".to_owned(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            idempotency_key: format!("sms.received:{sid}"),
            partition_key: hash,
            occurred_at: Some(proto::timestamp::to_timestamp(self.clock.now())),
            ..Envelope::for_payload(sms)
        };
        if let Some(others) = &self.others {
            others.store_inbound(&envelope).await;
        }
        bus::deliver(
            &self.router_pool,
            conversation_router::SERVICE,
            &self.inbound,
            &envelope,
        )
        .await
        .unwrap();
        self.pump().await;
    }

    /// Moves time forward, fires the matcher's due timers, and runs everything they cause.
    pub async fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
        linkup_matcher::scheduler::run_due(&self.matcher_pool, &self.matcher_ctx)
            .await
            .unwrap();
        self.pump().await;
    }

    /// Delivers every new outbox row to its consumers until nothing new appears.
    pub async fn pump(&self) {
        loop {
            let last = *self.pumped.lock().unwrap();
            let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(
                "select id, event_type, payload from event_outbox where id > $1 order by id",
            )
            .bind(last)
            .fetch_all(&self.db.pool)
            .await
            .unwrap();
            if rows.is_empty() {
                if let Some(others) = &self.others {
                    others.settle(self.clock.now()).await;
                }
                return;
            }
            for (id, event_type, payload) in rows {
                *self.pumped.lock().unwrap() = id;
                // Published, as the relay marks it.
                sqlx::query("update event_outbox set published_at = now() where id = $1")
                    .bind(id)
                    .execute(&self.db.pool)
                    .await
                    .unwrap();
                let envelope = proto::decode_envelope(&payload).unwrap();
                self.route(&event_type, &envelope).await;
            }
        }
    }

    async fn route(&self, event_type: &str, envelope: &Envelope) {
        let (router, matcher) = (conversation_router::SERVICE, linkup_matcher::SERVICE);
        let (rp, mp) = (&self.router_pool, &self.matcher_pool);
        let outcome = match event_type {
            "outbound.send_sms" => {
                self.collect(envelope);
                if let Some(others) = &self.others {
                    others.send(envelope).await;
                }
                return;
            }
            "identity.user_deleted" => {
                if let Some(others) = &self.others {
                    others.erase(envelope).await;
                }
                bus::deliver(mp, matcher, &self.eligibility, envelope).await
            }
            "linkup.requested" => bus::deliver(mp, matcher, &self.create, envelope).await,
            "linkup.invite_replied" => bus::deliver(mp, matcher, &self.reply, envelope).await,
            t if linkup_matcher::ELIGIBILITY_INPUTS.contains(&t) => {
                bus::deliver(mp, matcher, &self.eligibility, envelope).await
            }
            t if linkup_matcher::AFTER_INPUTS.contains(&t) => {
                bus::deliver(mp, matcher, &self.after, envelope).await
            }
            t if conversation_router::reactions::TYPES.contains(&t) => {
                bus::deliver(rp, router, &self.reactions, envelope).await
            }
            _ => return,
        };
        outcome.unwrap();
    }

    fn collect(&self, envelope: &Envelope) {
        let Some(Payload::SendSms(cmd)) = &envelope.payload else {
            panic!("not a SendSms")
        };
        let text = conversation_router::replies::open(
            &self.router_ctx.keyring,
            cmd.body.as_ref().unwrap(),
            &envelope.idempotency_key,
        )
        .unwrap();
        self.inbox
            .lock()
            .unwrap()
            .entry(cmd.to_e164.clone())
            .or_default()
            .push(text);
    }

    /// What `phone` received since the last call.
    pub fn received(&self, phone: &str) -> Vec<String> {
        self.inbox.lock().unwrap().remove(phone).unwrap_or_default()
    }

    pub async fn user_id(&self, phone: &str) -> uuid::Uuid {
        sqlx::query_scalar("select id from users where phone_e164 = $1")
            .bind(phone)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    /// Registers `phone` by SMS and answers the interview; then makes them a member.
    pub async fn join(&self, phone: &str, first: &str, answers: &[&str]) {
        self.join_named(phone, first, "Tester", answers).await;
    }

    /// Like [`Stack::join`], with a last name.
    pub async fn join_named(&self, phone: &str, first: &str, last: &str, answers: &[&str]) {
        for text in ["hi", first, last, "5/17/1990", "94110", "AGREE"]
            .iter()
            .chain(answers)
        {
            self.clock.advance(time::Duration::seconds(20));
            self.text(phone, text).await;
        }
        sqlx::query(
            "insert into entitlements (user_id, eligible_to_participate, eligible_to_initiate, reason)
             select id, true, true, 'subscription' from users where phone_e164 = $1",
        )
        .bind(phone)
        .execute(&self.db.pool)
        .await
        .unwrap();
        self.received(phone);
    }

    pub async fn scalar(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_optional(&self.db.pool)
            .await
            .unwrap()
    }
}

/// billing's real gRPC API over the same database, against an in-process Stripe simulator.
async fn billing_api(
    db: &TestDb,
    clock: &ManualClock,
) -> (tonic::transport::Channel, stripe_sim::StripeSim) {
    let sim = stripe_sim::StripeSim::start(stripe_sim::SimConfig::new("sk_test_j", "whsec_j"))
        .await
        .unwrap();
    let api = billing::grpc::BillingApi::new(
        db.pool_as("josh_billing").await.unwrap(),
        billing::stripe::StripeClient::new(&sim.base_url(), "sk_test_j".to_owned().into()).unwrap(),
        Arc::new(clock.clone()),
        billing::config::Prices {
            monthly: "price_josh_monthly".to_owned(),
            annual: "price_josh_annual".to_owned(),
        },
        "https://josh.example".to_owned(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(api.into_server())
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    (channel, sim)
}
