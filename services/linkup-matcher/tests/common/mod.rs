//! A matcher over a real, migrated database: a fixture that seeds people as the superuser
//! (users, profiles, memberships, entitlements), events delivered to the handlers exactly as the
//! consumer would, and texts read back from the outbox and decrypted.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod scenarios;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use linkup_matcher::create::CreateHandler;
use linkup_matcher::replies::ReplyHandler;
use linkup_matcher::{Context, SERVICE, scheduler};
use platform::clock::ManualClock;
use proto::v1::{InviteReplied, InviteReply, LinkupBrief, LinkupRequested, SendSms};
use proto::{Envelope, Payload};
use serde_json::json;
use sqlx::PgPool;
use testkit::TestDb;
use time::OffsetDateTime;
use time::macros::datetime;
use uuid::Uuid;

pub const KEYS: &str = "1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
/// Thursday 2026-11-26, 10:00 in Los Angeles.
pub const START: OffsetDateTime = datetime!(2026-11-26 18:00 UTC);

/// A text the matcher sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub user_id: Uuid,
    pub text: String,
    pub command: SendSms,
}

/// Who to seed; `Default` is an eligible coffee lover who likes weekend mornings.
#[derive(Debug, Clone)]
pub struct Spec {
    pub first_name: String,
    pub user_state: &'static str,
    pub profile_state: &'static str,
    pub participate: bool,
    pub initiate: bool,
    pub fingerprint: serde_json::Value,
    pub patterns: serde_json::Value,
    pub boundaries: serde_json::Value,
    pub preferences: serde_json::Value,
    pub opted_out: bool,
    pub region: Option<Uuid>,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            first_name: "Sam".into(),
            user_state: "active",
            profile_state: "complete_mvp",
            participate: true,
            initiate: true,
            fingerprint: fingerprint(0.5, 0.5),
            patterns: coffee(&["morning", "weekend"]),
            boundaries: json!({}),
            preferences: json!({}),
            opted_out: false,
            region: None,
        }
    }
}

pub fn fingerprint(pace: f64, depth: f64) -> serde_json::Value {
    json!({
        "social_pace": {"range_value": pace, "confidence": 0.8},
        "connection_depth": {"range_value": depth, "confidence": 0.8},
        "humor": {"range_value": 0.5, "confidence": 0.6},
    })
}

pub fn coffee(windows: &[&str]) -> serde_json::Value {
    json!([{"activity_key": "coffee", "motive_weights": {"connection": 0.7},
            "preferred_windows": windows, "confidence": 0.8}])
}

pub struct Matcher {
    pub db: TestDb,
    pub pool: PgPool,
    pub clock: ManualClock,
    pub ctx: Arc<Context>,
    pub region: Uuid,
    create: CreateHandler,
    reply: ReplyHandler,
    counter: AtomicU64,
}

impl Matcher {
    pub async fn new() -> Self {
        let db = TestDb::migrated().await.unwrap();
        let region: Uuid = sqlx::query_scalar(
            r#"insert into regions (slug, display_name, state, geometry, rules) values
               ('sf', 'San Francisco', 'open', '{"type":"zip_set","zips":["94110"]}',
                '{"timezone":"America/Los_Angeles"}') returning id"#,
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        let pool = db.pool_as("josh_linkup_matcher").await.unwrap();
        let clock = ManualClock::at(START);
        let ctx = Arc::new(Context {
            keyring: crypto::Keyring::from_config(KEYS, "1").unwrap(),
            clock: Arc::new(clock.clone()),
            public_base_url: "https://josh.example".to_owned(),
        });
        Self {
            create: CreateHandler::new(ctx.clone()),
            reply: ReplyHandler::new(ctx.clone()),
            db,
            pool,
            clock,
            ctx,
            region,
            counter: AtomicU64::new(0),
        }
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::SeqCst)
    }

    /// Seeds one person; returns their user id.
    pub async fn person(&self, spec: Spec) -> Uuid {
        let n = self.next();
        let phone = format!("+1555{:07}", n);
        let region = spec.region.unwrap_or(self.region);
        let id: Uuid = sqlx::query_scalar(
            "insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state,
                                sms_consent, age_consent, terms_consent, privacy_consent, region_id, opted_out_at)
             values ($1, $2, $3, 'Tester', '1990-05-17', $4::user_state, true, true, true, true, $5, $6)
             returning id",
        )
        .bind(&phone)
        .bind(format!("hash-{phone}"))
        .bind(&spec.first_name)
        .bind(spec.user_state)
        .bind(region)
        .bind(spec.opted_out.then_some(START))
        .fetch_one(&self.db.pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into profiles (user_id, state, fingerprint, activity_patterns, boundaries, preferences)
             values ($1, $2::profile_state, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(spec.profile_state)
        .bind(&spec.fingerprint)
        .bind(&spec.patterns)
        .bind(&spec.boundaries)
        .bind(&spec.preferences)
        .execute(&self.db.pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into region_memberships (user_id, region_id, status) values ($1, $2, 'active')",
        )
        .bind(id)
        .bind(region)
        .execute(&self.db.pool)
        .await
        .unwrap();
        sqlx::query(
            "insert into entitlements (user_id, eligible_to_participate, eligible_to_initiate) values ($1, $2, $3)",
        )
        .bind(id)
        .bind(spec.participate)
        .bind(spec.initiate)
        .execute(&self.db.pool)
        .await
        .unwrap();
        id
    }

    /// Seeds `n` default people.
    pub async fn people(&self, n: usize) -> Vec<Uuid> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.person(Spec::default()).await);
        }
        out
    }

    /// Runs superuser SQL (seeding holds, blocks, history).
    pub async fn exec(&self, sql: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.db.pool)
            .await
            .unwrap();
    }

    pub fn envelope(
        &self,
        payload: impl Into<Payload>,
        key: String,
        partition: String,
    ) -> Envelope {
        Envelope {
            event_id: Uuid::now_v7().to_string(),
            producer: "conversation-router".to_owned(),
            correlation_id: Uuid::new_v4().to_string(),
            idempotency_key: key,
            partition_key: partition,
            occurred_at: Some(proto::timestamp::to_timestamp(self.clock_now())),
            ..Envelope::for_payload(payload)
        }
    }

    pub fn clock_now(&self) -> OffsetDateTime {
        use platform::clock::Clock;
        self.clock.now()
    }

    /// A `linkup.requested` from `initiator` for coffee in `window` (sizes min..max).
    pub fn request(&self, initiator: Uuid, window: &str, sizes: (u32, u32)) -> Envelope {
        let key = format!("req-{initiator}-{window}-{}", self.next());
        let req = LinkupRequested {
            request_key: key.clone(),
            initiator_user_id: initiator.to_string(),
            region_id: self.region.to_string(),
            brief: Some(LinkupBrief {
                activity_key: "coffee".into(),
                time_window: window.into(),
                min_size: sizes.0,
                max_size: sizes.1,
                motive_emphasis: [("connection".to_owned(), 0.7)].into(),
                location_hint: "near the Mission".into(),
                ..LinkupBrief::default()
            }),
            requested_at: Some(proto::timestamp::to_timestamp(self.clock_now())),
            ..LinkupRequested::default()
        };
        self.envelope(
            req,
            format!("linkup.requested:{key}"),
            initiator.to_string(),
        )
    }

    /// Delivers a LinkUp request; returns the LinkUp id if one exists for its key.
    pub async fn create(&self, envelope: &Envelope) -> Option<Uuid> {
        bus::deliver(&self.pool, SERVICE, &self.create, envelope)
            .await
            .unwrap();
        let Some(Payload::LinkupRequested(req)) = &envelope.payload else {
            panic!()
        };
        sqlx::query_scalar("select id from linkups where linkup_create_key = $1")
            .bind(&req.request_key)
            .fetch_optional(&self.db.pool)
            .await
            .unwrap()
    }

    pub fn reply_envelope(&self, invite: Uuid, yes: bool) -> Envelope {
        let n = self.next();
        let reply = InviteReplied {
            invite_id: invite.to_string(),
            reply: if yes {
                InviteReply::Accept
            } else {
                InviteReply::Decline
            }
            .into(),
            response_message_sid: format!("SM{n:032x}"),
            ..InviteReplied::default()
        };
        self.envelope(
            reply,
            format!("linkup.invite_replied:{n}"),
            invite.to_string(),
        )
    }

    /// Delivers a reply to an invite.
    pub async fn reply(&self, invite: Uuid, yes: bool) {
        let envelope = self.reply_envelope(invite, yes);
        self.deliver_reply(&envelope).await;
    }

    pub async fn deliver_reply(&self, envelope: &Envelope) {
        bus::deliver(&self.pool, SERVICE, &self.reply, envelope)
            .await
            .unwrap();
    }

    /// Fires every timer and reminder due at the clock's time.
    pub async fn tick(&self) -> usize {
        scheduler::run_due(&self.pool, &self.ctx).await.unwrap()
    }

    pub async fn advance(&self, by: time::Duration) -> usize {
        self.clock.advance(by);
        self.tick().await
    }

    /// Invites of a LinkUp: (invite id, user, state, wave), in wave then user order.
    pub async fn invites(&self, linkup: Uuid) -> Vec<(Uuid, Uuid, String, i32)> {
        sqlx::query_as(
            "select id, invited_user_id, state::text, wave_number from linkup_invites
             where linkup_id = $1 order by wave_number, sent_at, invited_user_id",
        )
        .bind(linkup)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    pub async fn state(&self, linkup: Uuid) -> String {
        sqlx::query_scalar("select state::text from linkups where id = $1")
            .bind(linkup)
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }

    pub async fn participants(&self, linkup: Uuid) -> Vec<Uuid> {
        sqlx::query_scalar(
            "select user_id from linkup_participants where linkup_id = $1 order by user_id",
        )
        .bind(linkup)
        .fetch_all(&self.db.pool)
        .await
        .unwrap()
    }

    /// Every text sent so far, decrypted.
    pub async fn texts(&self) -> Vec<Sent> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "select payload from event_outbox where event_type = 'outbound.send_sms' order by id",
        )
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|payload| {
                let envelope = proto::decode_envelope(&payload).unwrap();
                let Some(Payload::SendSms(command)) = envelope.payload else {
                    panic!("not SendSms")
                };
                let body = command.body.as_ref().unwrap();
                let text = self
                    .ctx
                    .keyring
                    .decrypt_to_string(
                        &crypto::EncryptedBody::from_parts(
                            body.key_version,
                            &body.nonce,
                            &body.ciphertext,
                            &body.tag,
                        )
                        .unwrap(),
                        envelope.idempotency_key.as_bytes(),
                    )
                    .unwrap();
                use crypto::ExposeSecret;
                Sent {
                    user_id: command.user_id.parse().unwrap(),
                    text: text.expose_secret().to_owned(),
                    command,
                }
            })
            .collect()
    }

    /// Texts to `user` so far.
    pub async fn texts_to(&self, user: Uuid) -> Vec<String> {
        self.texts()
            .await
            .into_iter()
            .filter(|s| s.user_id == user)
            .map(|s| s.text)
            .collect()
    }

    /// Decoded events of `event_type` published by the matcher, in order.
    pub async fn events(&self, event_type: &str) -> Vec<Payload> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "select payload from event_outbox where producer = 'linkup-matcher' and event_type = $1 order by id",
        )
        .bind(event_type)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|p| proto::decode_envelope(&p).unwrap().payload.unwrap())
            .collect()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.db.pool)
            .await
            .unwrap()
    }
}
