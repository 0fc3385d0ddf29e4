//! A private world per test: a migrated Postgres database, a JetStream server, the Twilio
//! simulator, a manual clock, and the engine connected as `josh_outbound_sender`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use outbound_sender::{Outbound, Parts, Settings};
use platform::clock::ManualClock;
use prost::Message as _;
use proto::v1::{
    EncryptedBody, SendSms, SmsPurpose, SmsStatus, SmsStatusReported, SmsStatusesReported,
};
use proto::{Envelope, Payload};
use secrecy::SecretString;
use sqlx::PgPool;
use time::OffsetDateTime;
use time::macros::datetime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use twilio::client::{MessagesClient, Sender};
use twilio_sim::{SimConfig, Simulator};

pub const ACCOUNT: &str = "AC00000000000000000000000000000000";
pub const TOKEN: &str = "sim-auth-token";
pub const FROM: &str = "+15005550006";
pub const KEYS: &str = "2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
pub const PEPPER: &str = "test-pepper-not-a-secret";
/// Noon in New York: outside quiet hours.
pub const NOON_NY: OffsetDateTime = datetime!(2026-11-23 17:00 UTC);
pub const NY: &str = "America/New_York";

pub struct World {
    pub db: testkit::TestDb,
    pub pool: PgPool,
    pub nats: testkit::NatsServer,
    pub js: jetstream::Context,
    bus: bus::ServiceBus,
    pub sim: Simulator,
    pub clock: ManualClock,
    pub keyring: crypto::Keyring,
    pub pepper: crypto::PhonePepper,
    pub settings: Settings,
    running: Vec<Running>,
}

/// An engine running in this world: its handle (to observe it), shutdown and task.
struct Running {
    engine: Outbound,
    token: CancellationToken,
    task: JoinHandle<()>,
}

impl World {
    pub async fn start() -> World {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut Settings)) -> World {
        let db = testkit::TestDb::migrated().await.unwrap();
        let pool = db.pool_as("josh_outbound_sender").await.unwrap();
        let nats = testkit::NatsServer::start().await.unwrap();
        let client = async_nats::connect(nats.url()).await.unwrap();
        let js = jetstream::new(client.clone());
        bus::ensure_streams(&js, 1).await.unwrap();
        let bus = bus::ServiceBus::new(
            client,
            pool.clone(),
            "outbound-sender",
            1,
            platform::health::StartupGate::default(),
        );
        let sim = Simulator::start(SimConfig {
            auto_callbacks: false,
            ..SimConfig::new(ACCOUNT, TOKEN)
        })
        .await
        .unwrap();
        let mut settings = Settings {
            sender: Sender::From(FROM.to_owned()),
            status_callback: "http://127.0.0.1:9/v1/twilio/status".to_owned(),
            segments_per_second: 1.0,
            max_attempts: 6,
            workers: 1,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(50),
            retry_base: Duration::from_secs(10),
            retry_cap: Duration::from_secs(60),
            reconcile_interval: Duration::from_secs(3600),
            reconcile_after: Duration::from_secs(60),
            instance: "test-a".to_owned(),
        };
        tune(&mut settings);
        World {
            db,
            pool,
            nats,
            js,
            bus,
            sim,
            clock: ManualClock::at(NOON_NY),
            keyring: crypto::Keyring::from_config(KEYS, "2").unwrap(),
            pepper: crypto::PhonePepper::new(PEPPER).unwrap(),
            settings,
            running: Vec::new(),
        }
    }

    /// An engine with this world's parts; `instance` names its workers.
    pub fn engine(&self, instance: &str) -> Outbound {
        let client = MessagesClient::new(
            &self.sim.base_url(),
            ACCOUNT,
            SecretString::from(TOKEN),
            Duration::from_secs(5),
        )
        .unwrap();
        Outbound::new(Parts {
            pool: self.pool.clone(),
            keyring: self.keyring.clone(),
            pepper: self.pepper.clone(),
            client,
            clock: Arc::new(self.clock.clone()),
            settings: Settings {
                instance: instance.to_owned(),
                ..self.settings.clone()
            },
        })
    }

    /// Runs an engine (consumers, workers, maintenance) until the world ends; returns its task.
    pub fn run(&mut self, instance: &str) -> usize {
        let token = CancellationToken::new();
        let engine = self.engine(instance);
        let task = tokio::spawn(engine.clone().run(&self.bus, token.clone()));
        self.running.push(Running {
            engine,
            token,
            task,
        });
        self.running.len() - 1
    }

    /// Kills engine `n` at once (no draining), like a crashed process.
    pub fn kill(&mut self, n: usize) {
        self.running[n].task.abort();
    }

    /// Waits until engine `n`'s worker, looking for due jobs after this call, found nothing to
    /// send: what was committed before is left alone on purpose (the engines here run one
    /// worker unless a test asks for more).
    pub async fn wait_idle_poll(&self, n: usize, what: &str) {
        let engine = &self.running[n].engine;
        let mark = engine.poll_mark();
        tokio::time::timeout(Duration::from_secs(15), engine.idle_poll_since(mark))
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
    }

    /// Waits until this service's consumer has handled `n` distinct events of `type_name`
    /// (its inbox rows, committed with their effects).
    pub async fn wait_handled(&self, type_name: &str, n: i64) {
        let what = format!("{n} {type_name} events handled");
        testkit::wait_until(&what, Duration::from_secs(15), || async {
            let handled: i64 = sqlx::query_scalar(
                "select count(*) from event_inbox where consumer = $1 and event_type = $2",
            )
            .bind(outbound_sender::SERVICE)
            .bind(type_name)
            .fetch_one(&self.db.pool)
            .await
            .unwrap();
            handled >= n
        })
        .await
        .unwrap();
    }

    /// Publishes a send command the way a producer's relay would.
    pub async fn command(&self, cmd: Cmd<'_>) -> Envelope {
        let envelope = self.command_envelope(&cmd);
        self.publish(&envelope).await;
        envelope
    }

    pub fn command_envelope(&self, cmd: &Cmd<'_>) -> Envelope {
        let sealed = self
            .keyring
            .encrypt_str(cmd.body, cmd.key.as_bytes())
            .unwrap();
        let send = SendSms {
            user_id: cmd.user_id.map(|u| u.to_string()).unwrap_or_default(),
            to_e164: cmd.to.to_owned(),
            body: Some(EncryptedBody::from_parts(
                sealed.key_version,
                sealed.nonce,
                sealed.ciphertext,
                sealed.tag,
            )),
            purpose: cmd.purpose.into(),
            urgent: false,
            validity_seconds: cmd.validity,
            not_before: None,
            region_timezone: NY.to_owned(),
            phone_hash: self.pepper.hash(cmd.to),
            linkup_id: String::new(),
        };
        Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            occurred_at: Some(proto::timestamp::to_timestamp(self.clock_now())),
            producer: "conversation-router".to_owned(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            idempotency_key: cmd.key.to_owned(),
            partition_key: cmd
                .user_id
                .map_or_else(|| self.pepper.hash(cmd.to), |u| u.to_string()),
            ..Envelope::for_payload(send)
        }
    }

    fn clock_now(&self) -> OffsetDateTime {
        use platform::clock::Clock as _;
        self.clock.now()
    }

    /// Publishes a status report the way inbound-sms does for a Twilio callback.
    pub async fn status(&self, sid: &str, status: SmsStatus, error_code: i32) {
        let envelope = self.status_envelope(sid, status, error_code);
        self.publish(&envelope).await;
    }

    /// A status report as inbound-sms publishes a Twilio callback stored alone: a group of one.
    pub fn status_envelope(&self, sid: &str, status: SmsStatus, error_code: i32) -> Envelope {
        self.group_envelope(&[(sid, status, error_code)])
    }

    /// Status reports as inbound-sms publishes callbacks stored together: one
    /// `sms.statuses_reported` event of (SID, status, error code) reports, in order.
    pub fn group_envelope(&self, reports: &[(&str, SmsStatus, i32)]) -> Envelope {
        let reports: Vec<SmsStatusReported> = reports
            .iter()
            .map(|(sid, status, code)| self.report(sid, *status, *code))
            .collect();
        let event_id = uuid::Uuid::now_v7().to_string();
        Envelope {
            producer: "inbound-sms".to_owned(),
            idempotency_key: format!("statuses:{event_id}"),
            partition_key: reports[0].message_sid.clone(),
            event_id,
            ..Envelope::for_payload(SmsStatusesReported { reports })
        }
    }

    /// A lone `sms.status_reported`, as inbound-sms published each callback before it grouped
    /// them.
    pub fn legacy_status_envelope(
        &self,
        sid: &str,
        status: SmsStatus,
        error_code: i32,
    ) -> Envelope {
        Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            producer: "inbound-sms".to_owned(),
            idempotency_key: format!("status:{sid}:{}", status.as_str_name()),
            partition_key: sid.to_owned(),
            ..Envelope::for_payload(self.report(sid, status, error_code))
        }
    }

    fn report(&self, sid: &str, status: SmsStatus, error_code: i32) -> SmsStatusReported {
        SmsStatusReported {
            message_sid: sid.to_owned(),
            status: status.into(),
            error_code,
            reported_at: Some(proto::timestamp::to_timestamp(self.clock_now())),
            raw_status: String::new(),
            account_sid: ACCOUNT.to_owned(),
            phone_hash: String::new(),
        }
    }

    pub async fn publish(&self, envelope: &Envelope) {
        let subject = bus::subjects::subject_of(envelope).unwrap();
        self.js
            .publish(subject, envelope.encode_to_vec().into())
            .await
            .unwrap()
            .await
            .unwrap();
    }

    /// The job with idempotency key `key`, once it exists: (status, attempts, sid).
    pub async fn job(&self, key: &str) -> Option<Job> {
        sqlx::query_as::<_, Job>(
            "select id, status, attempts, twilio_message_sid, delivery_status, error_code,
                    run_at, sent_at, purpose
               from sms_outbound_jobs where idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(&self.db.pool)
        .await
        .unwrap()
    }

    /// Waits until job `key` satisfies `done`.
    pub async fn wait_job(&self, key: &str, what: &str, done: impl Fn(&Job) -> bool) -> Job {
        testkit::wait_until(what, Duration::from_secs(15), || async {
            self.job(key).await.is_some_and(|j| done(&j))
        })
        .await
        .unwrap();
        self.job(key).await.unwrap()
    }

    /// Asserts Twilio got exactly one text for `phone`, the one `job` recorded.
    pub fn assert_sent_once(&self, phone: &str, job: &Job) {
        let to_phone: Vec<_> = self
            .sim
            .messages()
            .into_iter()
            .filter(|m| m.to == phone)
            .collect();
        assert_eq!(to_phone.len(), 1, "the text went out once");
        assert_eq!(
            job.twilio_message_sid.as_deref(),
            Some(to_phone[0].sid.as_str())
        );
    }

    /// Envelopes of `type_name` in the outbox, oldest first.
    pub async fn events(&self, type_name: &str) -> Vec<Payload> {
        let rows: Vec<Vec<u8>> = sqlx::query_scalar(
            "select payload from event_outbox where event_type = $1 order by id",
        )
        .bind(type_name)
        .fetch_all(&self.db.pool)
        .await
        .unwrap();
        rows.iter()
            .map(|bytes| Envelope::decode(bytes.as_slice()).unwrap().payload.unwrap())
            .collect()
    }

    /// A user with this phone (hash from the test pepper), opted out when `opted_out_at`.
    pub async fn user(&self, phone: &str, opted_out_at: Option<OffsetDateTime>) -> uuid::Uuid {
        sqlx::query_scalar(
            "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                                sms_consent, age_consent, terms_consent, privacy_consent,
                                opted_out_at)
             values ($1, $2, 'Test', 'Person', '1990-01-01', true, true, true, true, $3)
             returning id",
        )
        .bind(phone)
        .bind(self.pepper.hash(phone))
        .bind(opted_out_at)
        .fetch_one(&self.db.pool)
        .await
        .unwrap()
    }

    pub async fn suppression(&self, phone: &str) -> Option<String> {
        sqlx::query_scalar(
            "select reason from sms_suppressions where phone_hash = $1 and lifted_at is null",
        )
        .bind(self.pepper.hash(phone))
        .fetch_optional(&self.db.pool)
        .await
        .unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for running in &self.running {
            running.token.cancel();
            running.task.abort();
        }
    }
}

/// A send command.
#[derive(Debug, Clone, Copy)]
pub struct Cmd<'a> {
    pub key: &'a str,
    pub to: &'a str,
    pub body: &'a str,
    pub purpose: SmsPurpose,
    pub user_id: Option<uuid::Uuid>,
    pub validity: u32,
}

impl<'a> Cmd<'a> {
    pub fn new(key: &'a str, to: &'a str, body: &'a str) -> Self {
        Self {
            key,
            to,
            body,
            purpose: SmsPurpose::Reply,
            user_id: None,
            validity: 0,
        }
    }

    pub fn purpose(self, purpose: SmsPurpose) -> Self {
        Self { purpose, ..self }
    }

    pub fn user(self, user_id: uuid::Uuid) -> Self {
        Self {
            user_id: Some(user_id),
            ..self
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub id: uuid::Uuid,
    pub status: String,
    pub attempts: i32,
    pub twilio_message_sid: Option<String>,
    pub delivery_status: Option<String>,
    pub error_code: Option<i32>,
    pub run_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub purpose: String,
}
