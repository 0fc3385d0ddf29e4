//! What wakes a relay: its producer's Postgres NOTIFY channel, its core NATS wake-up subject
//! ([`crate::wake`]), or its polling interval running out.

use std::time::Duration;

use futures::{FutureExt as _, StreamExt as _};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use super::outbox_channel;
use crate::subjects;

/// The relay's two wake-up sources, (re)connected as needed.
pub(super) struct Signals {
    producer: &'static str,
    listener: Option<PgListener>,
    wakes: Option<async_nats::Subscriber>,
}

impl Signals {
    pub(super) fn new(producer: &'static str) -> Self {
        Self {
            producer,
            listener: None,
            wakes: None,
        }
    }

    /// Connects whichever source is missing; one that cannot connect is tried again next time
    /// (the polling interval covers for it meanwhile).
    pub(super) async fn connect(&mut self, pool: &PgPool, client: &async_nats::Client) {
        if self.listener.is_none() {
            self.listener = listen(pool, self.producer).await;
        }
        if self.wakes.is_none() {
            self.wakes = client
                .subscribe(subjects::relay_wake(self.producer))
                .await
                .ok();
        }
    }

    /// Waits for a wake-up from either source, `pause`, or `shutdown`, then drops the wake-ups
    /// already buffered: the batch about to run publishes every row committed before it.
    pub(super) async fn wait(&mut self, pause: Duration, shutdown: &CancellationToken) {
        let Self {
            listener, wakes, ..
        } = self;
        // Ok(None) or Err means the connection dropped; reconnect next round.
        let notified = async {
            match listener.as_mut() {
                Some(l) => matches!(l.try_recv().await, Ok(Some(_))),
                None => std::future::pending().await,
            }
        };
        let woken = async {
            match wakes.as_mut() {
                Some(w) => w.next().await.is_some(),
                None => std::future::pending().await,
            }
        };
        let (lost_listener, lost_wakes) = tokio::select! {
            () = shutdown.cancelled() => (false, false),
            () = tokio::time::sleep(pause) => (false, false),
            alive = notified => (!alive, false),
            alive = woken => (false, !alive),
        };
        if lost_listener {
            self.listener = None;
        }
        if lost_wakes {
            self.wakes = None;
        }
        self.drain();
    }

    /// Drops the wake-ups that arrived meanwhile: the batch about to run takes their rows.
    pub(super) fn drain(&mut self) {
        if let Some(l) = self.listener.as_mut() {
            while l.next_buffered().is_some() {}
        }
        if let Some(w) = self.wakes.as_mut() {
            while let Some(Some(_)) = w.next().now_or_never() {}
        }
    }
}

async fn listen(pool: &PgPool, producer: &str) -> Option<PgListener> {
    let mut listener = PgListener::connect_with(pool).await.ok()?;
    listener.listen(&outbox_channel(producer)).await.ok()?;
    Some(listener)
}
