//! All five services in-process on port 0, each connected as its own Postgres role, over a
//! private NATS JetStream, with twilio-sim and stripe-sim in-process over HTTP and one shared
//! manual clock. Phones text through twilio-sim; what each phone receives is read back from it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod quiet;
pub mod tables;
pub mod transcript;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use platform::clock::{Clock, ManualClock, SharedClock};
use platform::config::Env;
use testkit::{NatsServer, TestDb};
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use transcript::Transcripts;

/// JOSH's number (`TWILIO_FROM_NUMBER` of `testkit::service::service_env`).
pub const JOSH: &str = "+15005550006";
const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
const TWILIO_TOKEN: &str = "test-twilio-auth-token";
const STRIPE_KEY: &str = "sk_test_notasecret";
const STRIPE_WEBHOOK: &str = "whsec_notasecret";
/// The base of links JOSH texts (magic links, terms).
pub const PUBLIC: &str = "https://josh.example";

/// The whole system, running.
pub struct System {
    pub db: TestDb,
    pub clock: ManualClock,
    pub twilio: twilio_sim::Simulator,
    pub stripe: stripe_sim::StripeSim,
    pub nats: NatsServer,
    pub transcripts: Transcripts,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    services: Vec<(&'static str, JoinHandle<Result<(), String>>)>,
}

impl System {
    /// Starts everything with the clock at `at` and waits until every service is ready.
    pub async fn start(at: OffsetDateTime) -> Self {
        let db = TestDb::migrated().await.unwrap();
        seed_region(&db).await;
        let nats = NatsServer::start().await.unwrap();
        let clock = ManualClock::at(at);
        let shared: SharedClock = Arc::new(clock.clone());
        let shutdown = CancellationToken::new();
        let mut stripe_config = stripe_sim::SimConfig::new(STRIPE_KEY, STRIPE_WEBHOOK);
        stripe_config.clock = shared.clone();
        let stripe = stripe_sim::StripeSim::start(stripe_config).await.unwrap();
        // inbound-sms must know its own URL (it rebuilds the signed URL from it) before it
        // binds, and twilio-sim must know it before it starts: reserve a port for it.
        let inbound_port = free_port();
        let inbound_url = format!("http://127.0.0.1:{inbound_port}");
        let twilio = twilio_sim::Simulator::start(twilio_sim::SimConfig {
            inbound_webhook_url: Some(format!("{inbound_url}/v1/twilio/sms")),
            callback_delay: StdDuration::from_millis(5),
            ..twilio_sim::SimConfig::new(ACCOUNT_SID, TWILIO_TOKEN)
        })
        .await
        .unwrap();
        twilio.set_josh_number(Some(JOSH.to_owned()));
        let ports = Ports {
            inbound: inbound_url,
            twilio_api: twilio.base_url(),
            stripe_api: stripe.base_url(),
        };
        let started = start_services(&db, &nats.url(), &shared, &ports, &shutdown).await;
        stripe.set_webhook_url(format!("{}/v1/stripe/webhook", started.billing_http));
        let system = Self {
            db,
            clock,
            twilio,
            stripe,
            nats,
            transcripts: Transcripts::default(),
            http: reqwest::Client::new(),
            shutdown,
            services: started.running,
        };
        quiet::wait_ready(&system.http, &started.readyz).await;
        system
    }

    /// The simulated now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Stops every service and checks each stopped cleanly.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for (name, task) in self.services {
            let stopped = tokio::time::timeout(StdDuration::from_secs(20), task)
                .await
                .unwrap_or_else(|_| panic!("{name} did not stop within 20 s"));
            stopped.unwrap().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        self.twilio.shutdown().await;
        self.stripe.shutdown().await;
    }
}

struct Ports {
    inbound: String,
    twilio_api: String,
    stripe_api: String,
}

type Running = Vec<(&'static str, JoinHandle<Result<(), String>>)>;

/// The services, running, and their `/readyz` URLs.
struct Started {
    running: Running,
    readyz: Vec<String>,
    billing_http: String,
}

/// Builds and runs the five services.
async fn start_services(
    db: &TestDb,
    nats: &str,
    clock: &SharedClock,
    ports: &Ports,
    shutdown: &CancellationToken,
) -> Started {
    let env = |role: &str, extra: &[(&str, &str)]| service_env(db, nats, role, extra);
    let mut s = Started {
        running: Vec::new(),
        readyz: Vec::new(),
        billing_http: String::new(),
    };
    let stop = || shutdown.clone();

    let config = billing::Config::from_env(&env(
        "josh_billing",
        &[("STRIPE_API_BASE", &ports.stripe_api)],
    ))
    .unwrap();
    let billing = billing::Service::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    s.billing_http = format!("http://{}", billing.http_addr());
    let billing_grpc = format!("http://{}", billing.grpc_addr().unwrap());
    s.add(
        "billing",
        billing.http_addr(),
        billing.run_until_stopped(stop()),
    );

    let router_env = env(
        "josh_conversation_router",
        &[("BILLING_GRPC_URL", &billing_grpc)],
    );
    let config = conversation_router::Config::from_env(&router_env).unwrap();
    let router = conversation_router::Service::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    s.add(
        "conversation-router",
        router.http_addr(),
        router.run_until_stopped(stop()),
    );

    let config = linkup_matcher::Config::from_env(&env("josh_linkup_matcher", &[])).unwrap();
    let matcher = linkup_matcher::Service::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    s.add(
        "linkup-matcher",
        matcher.http_addr(),
        matcher.run_until_stopped(stop()),
    );

    let inbound_addr = ports.inbound.trim_start_matches("http://");
    let config = inbound_sms::Config::from_env(&env(
        "josh_inbound_sms",
        &[
            ("HTTP_ADDR", inbound_addr),
            ("PUBLIC_BASE_URL", &ports.inbound),
        ],
    ))
    .unwrap();
    let inbound = inbound_sms::Service::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    s.add(
        "inbound-sms",
        inbound.http_addr(),
        inbound.run_until_stopped(stop()),
    );

    let sender_env = env(
        "josh_outbound_sender",
        &[
            ("TWILIO_API_BASE", &ports.twilio_api),
            ("PUBLIC_BASE_URL", &ports.inbound),
            // The token bucket waits on the shared clock: keep its slots far below a second.
            ("OUTBOUND_SENDER_MPS", "10000"),
        ],
    );
    let config = outbound_sender::Config::from_env(&sender_env).unwrap();
    let sender = outbound_sender::Service::build_with_clock(config, clock.clone())
        .await
        .unwrap();
    s.add(
        "outbound-sender",
        sender.http_addr(),
        sender.run_until_stopped(stop()),
    );
    s
}

impl Started {
    fn add<E: std::fmt::Display + Send + 'static>(
        &mut self,
        name: &'static str,
        addr: std::net::SocketAddr,
        run: impl std::future::Future<Output = Result<(), E>> + Send + 'static,
    ) {
        self.readyz.push(format!("http://{addr}/readyz"));
        let task = tokio::spawn(async move { run.await.map_err(|e| e.to_string()) });
        self.running.push((name, task));
    }
}

/// testkit's valid settings, connecting as `role` (as in production), with `extra` on top.
fn service_env(db: &TestDb, nats: &str, role: &str, extra: &[(&str, &str)]) -> Env {
    let addr = db.postgres_addr().unwrap();
    let url = format!(
        "postgres://postgres@{addr}/{}?options=-c%20role%3D{role}",
        db.name
    );
    let mut pairs = testkit::service::service_env(&url, nats);
    pairs.retain(|(k, _)| k != "PUBLIC_BASE_URL" && !extra.iter().any(|(e, _)| e == k));
    if !extra.iter().any(|(e, _)| *e == "PUBLIC_BASE_URL") {
        pairs.push(("PUBLIC_BASE_URL".to_owned(), PUBLIC.to_owned()));
    }
    pairs.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    Env::from_pairs(pairs)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// San Francisco, open, in Pacific time.
async fn seed_region(db: &TestDb) {
    sqlx::raw_sql(
        r#"insert into regions (slug, display_name, state, geometry, rules) values
           ('sf', 'San Francisco', 'open', '{"type":"zip_set","zips":["94110","94103"]}',
            '{"timezone":"America/Los_Angeles"}')"#,
    )
    .execute(&db.pool)
    .await
    .unwrap();
}

/// What each phone received in one step, raw (links intact).
pub type Received = std::collections::BTreeMap<String, Vec<String>>;

impl System {
    /// Adds a person's phone to the transcripts.
    pub fn person(&self, phone: &str, name: &str) {
        self.transcripts.person(phone, name);
    }

    /// Each phone texts its body at the same simulated moment; returns what every phone
    /// received once everything it caused has happened.
    pub async fn texts(&self, batch: &[(&str, &str)]) -> Received {
        let at = self.now();
        let sends = batch.iter().map(|(phone, body)| async move {
            self.transcripts.sent(phone, at, body);
            let status = self.twilio.send_inbound(phone, JOSH, body).await.unwrap();
            assert_eq!(status, 200, "{phone} texting {body:?}");
        });
        futures::future::join_all(sends).await;
        self.settle(at).await
    }

    /// One phone texts; returns what it received.
    pub async fn text(&self, phone: &str, body: &str) -> Vec<String> {
        let mut got = self.texts(&[(phone, body)]).await;
        got.remove(phone).unwrap_or_default()
    }

    /// Moves the clock forward by `by`; returns what arrived because of it.
    pub async fn advance(&self, by: time::Duration) -> Received {
        self.clock.advance(by);
        self.settle(self.now()).await
    }

    /// Sets the clock to `at` (never back); returns what arrived because of it.
    pub async fn advance_to(&self, at: OffsetDateTime) -> Received {
        assert!(at >= self.now(), "time only moves forward");
        self.clock.set(at);
        self.settle(at).await
    }

    /// Pays on the stripe-sim checkout page behind `link` (as the person's browser would).
    pub async fn pay(&self, link: &str) -> Received {
        let at = self.now();
        let answer = self.http.post(format!("{link}/pay")).send().await.unwrap();
        assert!(
            answer.status().is_success() || answer.status().is_redirection(),
            "paying {link}: {}",
            answer.status()
        );
        self.settle(at).await
    }

    async fn settle(&self, at: OffsetDateTime) -> Received {
        quiet::settle(self).await;
        self.transcripts.collect(&self.twilio, at)
    }
}
