//! The outbox relay: publishes stored events to JetStream in order, marks them sent only after
//! the publish ack, and never loses or reorders a row when NATS or Postgres break.

use std::time::{Duration, Instant};

use async_nats::jetstream;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

use platform::errors::ErrorChain;

use crate::BusError;

mod leader;
mod publish;
mod signals;

use leader::Leadership;
use publish::{OutboxRow, nats_headers};
use signals::Signals;

/// The Postgres channel the outbox insert trigger notifies for `producer`'s rows: one per
/// producer, so a row wakes only its own service's relay (on one shared channel every relay's
/// connection received every row's notification, to drop all but its own).
pub fn outbox_channel(producer: &str) -> String {
    format!("josh_outbox.{producer}")
}

/// Publishes one producer's outbox rows.
///
/// Safe with several replicas: only the holder of the producer's advisory lock publishes (so
/// rows leave in id order): a running relay keeps it on a connection of its own, a single
/// [`Relay::publish_batch`] takes it for its transaction. A row is marked published only after
/// JetStream acknowledged it; if the relay dies in between, the row is published again with the
/// same `Nats-Msg-Id` and JetStream's duplicate window drops it.
#[derive(Debug, Clone)]
pub struct Relay {
    pool: PgPool,
    js: jetstream::Context,
    producer: &'static str,
    batch_size: i64,
    poll_interval: Duration,
    linger: Duration,
    retention: Duration,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Rows published and marked.
    pub published: usize,
    /// Whether another replica held the producer's lock (nothing was attempted).
    pub busy: bool,
}

impl Relay {
    /// A relay for `producer` with defaults: batches of 200, a 250 ms polling fallback, batches
    /// started at least 10 ms apart (at most 100 a second, so under load each takes several
    /// rows; a row waits 10 ms at most for it), sent rows kept 7 days.
    pub fn new(pool: PgPool, js: jetstream::Context, producer: &'static str) -> Self {
        Self {
            pool,
            js,
            producer,
            batch_size: 200,
            poll_interval: Duration::from_millis(250),
            linger: Duration::from_millis(10),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Overrides the batch size.
    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Overrides the polling fallback interval.
    pub fn with_poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// Overrides the shortest time between the starts of two batches. A row committed within
    /// that time of the previous batch waits for the rest of it, so rows arriving close together
    /// leave in one batch (one transaction) instead of one batch each; a row arriving after a
    /// quiet spell is taken at once. Zero turns it off.
    pub fn with_linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// Publishes until `shutdown` fires: on every NOTIFY or NATS wake-up ([`crate::wake`]), and
    /// every poll interval in case one was missed. Failures are logged and retried with
    /// backoff; rows wait.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut signals = Signals::new(self.producer);
        let client = self.js.client();
        let mut failures: u32 = 0;
        let mut last_prune = Instant::now();
        let mut last_lag: Option<Instant> = None;
        let mut last_batch: Option<Instant> = None;
        let mut leadership = Leadership::default();
        while !shutdown.is_cancelled() {
            signals.connect(&self.pool, &client).await;
            if let Some(started) = last_batch {
                self.linger(started, &mut signals, &shutdown).await;
            }
            last_batch = Some(Instant::now());
            // The lag gauge is for dashboards: a query per second is plenty, not one per batch.
            if last_lag.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                last_lag = Some(Instant::now());
                self.record_lag().await;
            }
            match self.publish_led(&mut leadership).await {
                Ok(report) => {
                    failures = 0;
                    // A full batch may have left rows behind: take the next one at once. A
                    // shorter batch took every row committed before it; each later row's
                    // NOTIFY wakes the relay again (an empty batch per text otherwise).
                    if i64::try_from(report.published).unwrap_or(i64::MAX) >= self.batch_size {
                        continue;
                    }
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    metrics::counter!("bus_outbox_publish_failures_total", "producer" => self.producer).increment(1);
                    tracing::warn!(producer = self.producer, error = %ErrorChain(&error), failures, "outbox batch failed; retrying");
                }
            }
            if last_prune.elapsed() > Duration::from_secs(600) {
                last_prune = Instant::now();
                if let Err(error) = self.prune().await {
                    tracing::warn!(producer = self.producer, error = %ErrorChain(&error), "outbox prune failed");
                }
            }
            let pause = if failures == 0 {
                self.poll_interval
            } else {
                backoff(failures)
            };
            signals.wait(pause, &shutdown).await;
        }
        tracing::info!(producer = self.producer, "outbox relay stopped");
    }

    /// Waits out the rest of the linger after a batch `started`, then drops the wake-ups that
    /// arrived meanwhile: the batch about to run takes their rows.
    async fn linger(&self, started: Instant, signals: &mut Signals, shutdown: &CancellationToken) {
        let left = self.linger.saturating_sub(started.elapsed());
        if left.is_zero() {
            return;
        }
        tokio::select! {
            () = shutdown.cancelled() => {}
            () = tokio::time::sleep(left) => {}
        }
        signals.drain();
    }

    /// Publishes one batch of this producer's unpublished rows, in id order, in a transaction
    /// holding the producer's lock (busy when a running relay holds it).
    ///
    /// # Errors
    /// [`BusError`] when Postgres fails or NATS refuses a publish; rows published before the
    /// failure are marked, the rest stay for the next batch.
    #[tracing::instrument(skip_all, fields(producer = self.producer))]
    pub async fn publish_batch(&self) -> Result<BatchReport, BusError> {
        let mut tx = self.pool.begin().await?;
        // Marks commit without waiting for their WAL flush (see `leader`).
        let locked = sqlx::query_scalar!(
            r#"select pg_try_advisory_xact_lock(hashtextextended('josh_outbox:' || $1, 0))
                      and set_config('synchronous_commit', 'off', true) = 'off' as "locked!""#,
            self.producer
        )
        .fetch_one(&mut *tx)
        .await?;
        if !locked {
            return Ok(BUSY);
        }
        let batch = self.publish_on(&mut tx).await?;
        tx.commit().await?;
        self.reported(batch)
    }

    /// [`Relay::publish_batch`] on the running relay's own connection, which keeps the lock
    /// between batches.
    #[tracing::instrument(skip_all, fields(producer = self.producer))]
    async fn publish_led(&self, leadership: &mut Leadership) -> Result<BatchReport, BusError> {
        let Some(conn) = leadership.connection(&self.pool, self.producer).await? else {
            return Ok(BUSY);
        };
        match self.publish_on(conn).await {
            Ok(batch) => self.reported(batch),
            Err(error) => {
                leadership.lost();
                Err(error.into())
            }
        }
    }

    /// Selects a batch on `conn` (which holds the producer's lock), publishes it and marks
    /// what JetStream acknowledged; a failed row keeps its error for the next try.
    async fn publish_on(&self, conn: &mut PgConnection) -> Result<Batch, sqlx::Error> {
        // No row locks: the advisory lock already keeps every other relay away.
        let rows = sqlx::query!(
            "select id, subject, idempotency_key, payload, headers from event_outbox
             where producer = $1 and published_at is null
             order by id limit $2",
            self.producer,
            self.batch_size
        )
        .fetch_all(&mut *conn)
        .await?;
        let rows = rows
            .into_iter()
            .map(|r| OutboxRow {
                id: r.id,
                headers: nats_headers(self.producer, &r.idempotency_key, &r.headers),
                subject: r.subject,
                payload: r.payload,
            })
            .collect();
        let (published, failures) = self.publish_rows(rows).await;
        for (id, error) in &failures {
            sqlx::query!(
                "update event_outbox set attempts = attempts + 1, last_error = $2 where id = $1",
                id,
                ErrorChain(error).to_string()
            )
            .execute(&mut *conn)
            .await?;
        }
        if !published.is_empty() {
            sqlx::query!(
                "update event_outbox set published_at = now(), attempts = attempts + 1 where id = any($1)",
                &published
            )
            .execute(&mut *conn)
            .await?;
        }
        Ok(Batch {
            published: published.len(),
            failure: failures.into_iter().next().map(|(_, error)| error),
        })
    }

    /// Counts a stored batch and reports it (its first publish failure as the error).
    fn reported(&self, batch: Batch) -> Result<BatchReport, BusError> {
        metrics::counter!("bus_outbox_published_total", "producer" => self.producer)
            .increment(batch.published as u64);
        match batch.failure {
            Some(error) => Err(error),
            None => Ok(BatchReport {
                published: batch.published,
                busy: false,
            }),
        }
    }

    async fn record_lag(&self) {
        let lag = sqlx::query_scalar!(
            r#"select coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as "lag!"
               from event_outbox where producer = $1 and published_at is null"#,
            self.producer
        )
        .fetch_one(&self.pool)
        .await;
        if let Ok(lag) = lag {
            metrics::gauge!("bus_outbox_lag_seconds", "producer" => self.producer).set(lag);
        }
    }

    /// Deletes this producer's rows published longer ago than the retention period.
    ///
    /// # Errors
    /// [`BusError::Database`] when the delete fails.
    pub async fn prune(&self) -> Result<u64, BusError> {
        let cutoff = time::OffsetDateTime::now_utc() - self.retention;
        let deleted = sqlx::query!(
            "delete from event_outbox where id in (
               select id from event_outbox
               where producer = $1 and published_at < $2 limit 10000)",
            self.producer,
            cutoff
        )
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(deleted)
    }
}

/// What a batch needs nothing of: another replica holds the producer's lock.
const BUSY: BatchReport = BatchReport {
    published: 0,
    busy: true,
};

/// A batch whose marks are stored: rows published, and the first row that failed.
struct Batch {
    published: usize,
    failure: Option<BusError>,
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(100 * 2_u64.saturating_pow(failures.min(6)))
}
