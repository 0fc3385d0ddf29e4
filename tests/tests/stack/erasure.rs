//! The rest of the services for tests that follow a person everywhere their data lives:
//! inbound-sms storing each text (its real store function and outbox), outbound-sender taking
//! each send command and sending it through the Twilio simulator with its real workers, and the
//! `identity.user_deleted` consumers of inbound-sms, outbound-sender and billing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use outbound_sender::{Outbound, Parts, Settings};
use proto::Envelope;
use secrecy::SecretString;
use sqlx::PgPool;
use testkit::TestDb;
use tokio_util::sync::CancellationToken;
use twilio::client::{MessagesClient, Sender};

const ACCOUNT: &str = "AC00000000000000000000000000000000";
const TOKEN: &str = "sim-auth-token";
/// JOSH's number.
pub const JOSH: &str = "+15005550006";

/// inbound-sms, outbound-sender (sending for real to the simulator) and billing's erasure.
pub struct Others {
    pub inbound_pool: PgPool,
    pub outbound_pool: PgPool,
    pub billing_pool: PgPool,
    pub outbound_clock: platform::clock::ManualClock,
    pub sim: twilio_sim::Simulator,
    intake: outbound_sender::intake::SendSmsHandler,
    billing: billing::erasure::ErasureHandler,
    stop: CancellationToken,
}

impl Others {
    pub async fn start(
        db: &TestDb,
        keyring: crypto::Keyring,
        clock: &platform::clock::ManualClock,
    ) -> Self {
        use platform::clock::Clock as _;
        let sim = twilio_sim::Simulator::start(twilio_sim::SimConfig {
            auto_callbacks: false,
            ..twilio_sim::SimConfig::new(ACCOUNT, TOKEN)
        })
        .await
        .unwrap();
        let outbound_pool = db.pool_as("josh_outbound_sender").await.unwrap();
        let client = MessagesClient::new(
            &sim.base_url(),
            ACCOUNT,
            SecretString::from(TOKEN),
            Duration::from_secs(5),
        )
        .unwrap();
        let outbound_clock = platform::clock::ManualClock::at(clock.now());
        let settings = Settings {
            sender: Sender::From(JOSH.to_owned()),
            status_callback: "http://127.0.0.1:9/v1/twilio/status".to_owned(),
            segments_per_second: 1000.0,
            max_attempts: 3,
            workers: 1,
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(20),
            retry_base: Duration::from_secs(10),
            retry_cap: Duration::from_secs(60),
            reconcile_interval: Duration::from_secs(3600),
            reconcile_after: Duration::from_secs(3600),
            instance: "stack".to_owned(),
        };
        let engine = Outbound::new(Parts {
            pool: outbound_pool.clone(),
            keyring,
            pepper: crypto::PhonePepper::new(super::PEPPER).unwrap(),
            client,
            clock: Arc::new(outbound_clock.clone()),
            settings,
        });
        let stop = CancellationToken::new();
        tokio::spawn(engine.clone().run_workers(stop.clone()));
        Self {
            inbound_pool: db.pool_as("josh_inbound_sms").await.unwrap(),
            billing_pool: db.pool_as("josh_billing").await.unwrap(),
            outbound_pool,
            outbound_clock,
            sim,
            intake: outbound_sender::intake::SendSmsHandler::new(engine),
            // No subscription runs here, so the erasure never calls Stripe.
            billing: billing::erasure::ErasureHandler::new(
                Arc::new(clock.clone()),
                billing::stripe::StripeClient::new(
                    "http://127.0.0.1:9",
                    "sk_test_x".to_owned().into(),
                )
                .unwrap(),
            ),
            stop,
        }
    }

    /// inbound-sms stores the text and its `sms.received` envelope as it does for a webhook.
    pub async fn store_inbound(&self, envelope: &Envelope) {
        let Some(proto::Payload::SmsReceived(sms)) = &envelope.payload else {
            panic!("not an SmsReceived")
        };
        let body = sms.body.as_ref().unwrap();
        let body = crypto::EncryptedBody::from_parts(
            body.key_version,
            &body.nonce,
            &body.ciphertext,
            &body.tag,
        )
        .unwrap();
        let audit = serde_json::json!({ "media_count": 0 });
        let message = inbound_sms::store::NewInbound {
            message_sid: &sms.message_sid,
            from_e164: &sms.from_e164,
            to_e164: &sms.to_e164,
            phone_hash: &sms.phone_hash,
            body: &body,
            media_count: 0,
            correlation_id: uuid::Uuid::parse_str(&envelope.correlation_id).unwrap(),
            audit: &audit,
        };
        let mut tx = self.inbound_pool.begin().await.unwrap();
        inbound_sms::store::claim_inbound(&mut tx, &[message])
            .await
            .unwrap();
        bus::outbox::enqueue(&mut tx, envelope).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// outbound-sender takes a send command (its workers send it).
    pub async fn send(&self, envelope: &Envelope) {
        bus::deliver(
            &self.outbound_pool,
            outbound_sender::SERVICE,
            &self.intake,
            envelope,
        )
        .await
        .unwrap();
    }

    /// The deletion reaches inbound-sms, outbound-sender and billing.
    pub async fn erase(&self, envelope: &Envelope) {
        let inbound = inbound_sms::erasure::ErasureHandler;
        bus::deliver(&self.inbound_pool, inbound_sms::SERVICE, &inbound, envelope)
            .await
            .unwrap();
        let outbound = outbound_sender::erasure::ErasureHandler;
        bus::deliver(
            &self.outbound_pool,
            outbound_sender::SERVICE,
            &outbound,
            envelope,
        )
        .await
        .unwrap();
        bus::deliver(
            &self.billing_pool,
            billing::SERVICE,
            &self.billing,
            envelope,
        )
        .await
        .unwrap();
    }

    /// Waits until the workers settled every due job.
    pub async fn settle(&self, now: time::OffsetDateTime) {
        self.outbound_clock.set(now);
        let pool = self.outbound_pool.clone();
        testkit::wait_until("every due job settled", Duration::from_secs(20), || {
            let pool = pool.clone();
            async move {
                let due: i64 = sqlx::query_scalar(
                    "select count(*) from sms_outbound_jobs where status = 'pending' and run_at <= $1",
                )
                .bind(now)
                .fetch_one(&pool)
                .await
                .unwrap();
                due == 0
            }
        })
        .await
        .unwrap();
    }
}

impl Drop for Others {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
