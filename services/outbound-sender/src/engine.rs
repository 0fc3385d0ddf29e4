//! The sending engine: everything the consumers, workers and reconciliation share, and the
//! task tree that runs them until shutdown.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bus::{ConsumerSpec, RelayWaker, ServiceBus};
use sqlx::PgPool;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use twilio::client::{MessagesClient, Sender};

use crate::config::Tuning;
use crate::polls::Polls;
use crate::rate::RateLimiter;
use crate::{SERVICE, erasure, intake, optout, status};
use platform::clock::SharedClock;

/// The Postgres channel a new job is announced on (NOTIFY, delivered at commit).
pub const JOBS_CHANNEL: &str = "josh_outbound_jobs";

/// Delays before the retries of a status report (milliseconds; the last repeats).
const STATUS_RETRIES: [u64; 5] = [250, 1_000, 5_000, 30_000, 120_000];

/// How the engine behaves. [`Settings::new`] gives production values; tests shorten them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Who texts come from.
    pub sender: Sender,
    /// `StatusCallback` of every text (`PUBLIC_BASE_URL` + `/v1/twilio/status`).
    pub status_callback: String,
    /// Segments per second per sender.
    pub segments_per_second: f64,
    /// Tries before a retryable failure becomes final.
    pub max_attempts: u32,
    /// Concurrent send loops.
    pub workers: usize,
    /// How long a claimed job stays with its worker; longer than a Twilio request can take.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (NOTIFY wakes it sooner).
    pub poll_interval: Duration,
    /// First retry delay; doubled per attempt, with jitter.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_cap: Duration,
    /// How often stuck statuses are checked.
    pub reconcile_interval: Duration,
    /// A status unchanged this long is asked for.
    pub reconcile_after: Duration,
    /// Names this process's workers in `lease_owner` (`{instance}/{worker}`); leases held
    /// under it when the workers start are taken back.
    pub instance: String,
}

impl Settings {
    /// Production settings for `sender`, with callbacks to `public_base_url`.
    pub fn new(sender: Sender, public_base_url: &str, tuning: &Tuning) -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            sender,
            status_callback: format!("{}/v1/twilio/status", public_base_url.trim_end_matches('/')),
            segments_per_second: tuning.segments_per_second,
            max_attempts: tuning.max_attempts,
            workers: tuning.workers,
            lease: (tuning.twilio_timeout * 3).max(Duration::from_secs(60)),
            poll_interval: Duration::from_millis(500),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(15 * 60),
            reconcile_interval: tuning.reconcile_interval,
            reconcile_after: tuning.reconcile_after,
            instance: tuning
                .instance_id
                .clone()
                .unwrap_or_else(|| format!("{SERVICE}-{}", id.get(..8).unwrap_or(&id))),
        }
    }
}

/// What the engine is built from.
#[derive(Debug)]
pub struct Parts {
    /// Postgres, as `josh_outbound_sender`.
    pub pool: PgPool,
    /// Body keys.
    pub keyring: crypto::Keyring,
    /// Phone-hash pepper.
    pub pepper: crypto::PhonePepper,
    /// Twilio's Messages API.
    pub client: MessagesClient,
    /// The clock of every time decision.
    pub clock: SharedClock,
    /// Behaviour.
    pub settings: Settings,
}

/// The sending engine (cheap to clone).
#[derive(Debug, Clone)]
pub struct Outbound {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) pool: PgPool,
    pub(crate) keyring: crypto::Keyring,
    pub(crate) pepper: crypto::PhonePepper,
    pub(crate) client: MessagesClient,
    pub(crate) clock: SharedClock,
    pub(crate) settings: Settings,
    pub(crate) limiter: RateLimiter,
    /// Wake-ups owed to the workers: one per announced job (and per pass-on in a backlog).
    pub(crate) wake: Semaphore,
    pub(crate) polls: Polls,
    /// Wakes this service's relay after a settle commits (set by [`Outbound::run`]; without it
    /// the outbox trigger's NOTIFY does).
    pub(crate) relay: OnceLock<RelayWaker>,
}

impl Outbound {
    /// An engine from its parts.
    pub fn new(parts: Parts) -> Self {
        let limiter = RateLimiter::new(parts.settings.segments_per_second);
        Self {
            inner: Arc::new(Inner {
                pool: parts.pool,
                keyring: parts.keyring,
                pepper: parts.pepper,
                client: parts.client,
                clock: parts.clock,
                settings: parts.settings,
                limiter,
                wake: Semaphore::new(0),
                polls: Polls::new(),
                relay: OnceLock::new(),
            }),
        }
    }

    /// The consumers this service runs, with production retry policies.
    pub fn consumer_specs() -> Result<[ConsumerSpec; 6], &'static str> {
        let info =
            |name| proto::catalog::by_type_name(name).ok_or("payload missing from the catalog");
        let statuses = |payload| {
            ConsumerSpec::unordered(SERVICE, payload, 1)
                .with_batch(64)
                .with_retries(6, STATUS_RETRIES.map(Duration::from_millis).to_vec())
        };
        Ok([
            // Up to four phones' commands in one transaction (docs/benchmarks.md, session 12).
            ConsumerSpec::ordered(SERVICE, info("outbound.send_sms")?).with_batch(4),
            // One batch at a time: a message's statuses arrive close together, and batches side
            // by side waited on each other's row locks (docs/benchmarks.md). A report can beat
            // its send's record by a few milliseconds (it waits for a retry then): the first
            // retry comes after 250 ms, and the rest still span the sender's lease, after which
            // a send cut mid-flight is recorded.
            statuses(info("sms.statuses_reported")?),
            // What inbound-sms published, one per callback, before it grouped them: still read,
            // so none is stranded by a rolling upgrade.
            statuses(info("sms.status_reported")?),
            ConsumerSpec::ordered(SERVICE, info("identity.user_opted_out")?),
            ConsumerSpec::ordered(SERVICE, info("identity.user_opted_in")?),
            ConsumerSpec::ordered(SERVICE, info("identity.user_deleted")?),
        ])
    }

    /// Runs the consumers (on `bus`, holding the service's readiness until they exist), the send
    /// workers and the maintenance loop (gauges, reconciliation) until `shutdown` fires;
    /// in-flight sends finish first.
    pub fn run(
        self,
        bus: &ServiceBus,
        shutdown: CancellationToken,
    ) -> impl Future<Output = ()> + Send + 'static {
        // Spawned now, so the consumers hold readiness before the caller serves `/readyz`.
        let mut tasks = JoinSet::new();
        let _ = self.inner.relay.set(bus.waker());
        match Self::consumer_specs() {
            Ok([send, statuses, status, opted_out, opted_in, deleted]) => {
                let stop = || shutdown.clone();
                let intake = intake::SendSmsHandler::new(self.clone());
                tasks.spawn(bus.consume(send, intake, stop()));
                let reports = || status::StatusHandler::new(self.clone());
                tasks.spawn(bus.consume(statuses, reports(), stop()));
                tasks.spawn(bus.consume(status, reports(), stop()));
                let opt_outs = || optout::OptOutHandler::new(self.clone());
                tasks.spawn(bus.consume(opted_out, opt_outs(), stop()));
                tasks.spawn(bus.consume(opted_in, opt_outs(), stop()));
                tasks.spawn(bus.consume(deleted, erasure::ErasureHandler, stop()));
            }
            Err(error) => tracing::error!(error, "cannot build the consumers"),
        }
        async move {
            tasks.spawn(self.clone().run_workers(shutdown.clone()));
            tasks.spawn(self.clone().run_maintenance(shutdown.clone()));
            while tasks.join_next().await.is_some() {}
        }
    }
}
