//! Processing stored events, each in its own transaction: the effect and `processed_at` commit
//! together; a failure rolls the effect back and records `processing_error` on the stored event,
//! which stays unprocessed until [`Processor::retry_failed`] releases it.
//!
//! Failures while Stripe is unreachable or failing are marked [`TRANSIENT`] and retried by the
//! worker every minute. Ops retry any failed event by clearing its error (the worker polls every
//! 10 s):
//! `update stripe_events set processing_error = null where stripe_event_id = 'evt_...'`; the
//! reconciliation pass also releases every failed event each 15 minutes.

use std::sync::Arc;

use platform::clock::SharedClock;
use platform::errors::ErrorChain;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::entitlement::{self, Subscription};
use crate::error::BillingError;
use crate::notify::{self, Change};
use crate::store;
use crate::stripe::StripeClient;
use crate::wire::{Event, Fact};

/// How `processing_error` starts for a failure worth retrying soon.
pub const TRANSIENT: &str = "transient: ";

/// What processing one stored event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Processed (whatever it changed).
    Processed,
    /// Failed; the error is recorded on the event.
    Failed,
    /// Already processed, or being processed by another worker.
    Skipped,
}

/// Applies stored Stripe events to subscriptions and entitlements.
#[derive(Debug, Clone)]
pub struct Processor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    keyring: crypto::Keyring,
    clock: SharedClock,
    stripe: StripeClient,
    refetch: bool,
}

impl Processor {
    /// A processor writing through `pool` (as `josh_billing`) that re-fetches every
    /// subscription an event names from Stripe and applies what Stripe has now (see
    /// [`Processor::with_refetch`]).
    pub fn new(
        pool: PgPool,
        keyring: crypto::Keyring,
        clock: SharedClock,
        stripe: StripeClient,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                keyring,
                clock,
                stripe,
                refetch: true,
            }),
        }
    }

    /// With `refetch` off, subscription events apply the object they carry, ordered by event
    /// time (Stripe's `created`, whole seconds: two changes within one second are ordered by
    /// lifecycle stage, which can be wrong for a fast failure-and-recovery; re-fetching is
    /// exact). Off only where no Stripe API is reachable (tests of the ordering rule).
    #[must_use]
    pub fn with_refetch(self, refetch: bool) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                pool: inner.pool.clone(),
                keyring: inner.keyring.clone(),
                clock: inner.clock.clone(),
                stripe: inner.stripe.clone(),
                refetch,
            }),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The clock.
    pub fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// The Stripe client.
    pub fn stripe(&self) -> &StripeClient {
        &self.inner.stripe
    }

    /// Processes every waiting event (batch after batch); returns how many were processed.
    ///
    /// # Errors
    /// [`BillingError::Database`] when the waiting events cannot be listed.
    pub async fn process_pending(&self) -> Result<usize, BillingError> {
        let mut processed = 0;
        loop {
            let ids = {
                let mut conn = self.inner.pool.acquire().await?;
                store::events::pending(&mut conn, 100).await?
            };
            if ids.is_empty() {
                return Ok(processed);
            }
            let mut progressed = false;
            for id in ids {
                let outcome = self.process_one(id).await?;
                progressed |= outcome != Outcome::Skipped;
                processed += usize::from(outcome == Outcome::Processed);
            }
            if !progressed {
                return Ok(processed);
            }
        }
    }

    /// Processes one stored event.
    ///
    /// # Errors
    /// [`BillingError::Database`] when even recording the failure fails.
    #[tracing::instrument(skip_all, fields(%id, stripe_event_id = tracing::field::Empty))]
    pub async fn process_one(&self, id: Uuid) -> Result<Outcome, BillingError> {
        let mut tx = self.inner.pool.begin().await?;
        let Some(stored) = store::events::claim(&mut tx, id).await? else {
            return Ok(Outcome::Skipped);
        };
        tracing::Span::current().record("stripe_event_id", stored.stripe_event_id.as_str());
        let result = async {
            let event: Event = serde_json::from_value(stored.payload.clone())?;
            self.handle(&mut tx, &event).await?;
            store::events::mark_processed(&mut tx, id, self.inner.clock.now()).await?;
            Ok::<_, BillingError>(())
        }
        .await;
        match result {
            Ok(()) => {
                tx.commit().await?;
                crate::metrics::event("processed");
                tracing::info!(
                    stripe_event_id = stored.stripe_event_id,
                    "stripe event processed"
                );
                Ok(Outcome::Processed)
            }
            Err(error) => {
                tx.rollback().await?;
                // Transient failures are marked so the worker retries them within a minute.
                let prefix = if error.is_transient() { TRANSIENT } else { "" };
                let message = format!("{prefix}{}", ErrorChain(&error));
                tracing::warn!(stripe_event_id = stored.stripe_event_id, error = %message, "stripe event failed; kept for retry");
                let mut conn = self.inner.pool.acquire().await?;
                store::events::mark_failed(&mut conn, id, &message).await?;
                crate::metrics::event("failed");
                Ok(Outcome::Failed)
            }
        }
    }

    /// Releases events that failed for a transient reason (Stripe unreachable or answering 5xx
    /// or 429) and processes them; returns how many were released.
    ///
    /// # Errors
    /// [`BillingError::Database`].
    pub async fn retry_transient(&self) -> Result<u64, BillingError> {
        let released = {
            let mut conn = self.inner.pool.acquire().await?;
            store::events::release_transient(&mut conn, TRANSIENT).await?
        };
        if released > 0 {
            self.process_pending().await?;
        }
        Ok(released)
    }

    /// Releases failed events (all, or one `evt_...`) for processing again and processes them;
    /// returns how many were released.
    ///
    /// # Errors
    /// [`BillingError::Database`].
    pub async fn retry_failed(&self, stripe_event_id: Option<&str>) -> Result<u64, BillingError> {
        let released = {
            let mut conn = self.inner.pool.acquire().await?;
            store::events::release_failed(&mut conn, stripe_event_id).await?
        };
        self.process_pending().await?;
        Ok(released)
    }

    async fn handle(&self, tx: &mut PgConnection, event: &Event) -> Result<(), BillingError> {
        let at = event.at();
        match event.fact()? {
            Fact::Checkout {
                customer, user_id, ..
            } => {
                let user = match user_id {
                    Some(user) => user,
                    None => user_of(tx, &customer).await?,
                };
                link(tx, user, &customer).await?;
                self.update(tx, user, &event.id, |sub| entitlement::checkout(sub, at))
                    .await
            }
            Fact::Subscription(snap) => {
                let snap = if self.inner.refetch {
                    self.fetch(&snap.id, &event.id).await?
                } else {
                    snap
                };
                let user = match store::customers::user_of(tx, &snap.customer).await? {
                    Some(user) => user,
                    None => {
                        let user = snap
                            .user_id
                            .ok_or_else(|| BillingError::UnknownCustomer(snap.customer.clone()))?;
                        // Only a live subscription links its customer: the deletion events
                        // that follow customer.deleted must not bring a deleted customer back.
                        if snap.status.is_live() {
                            link(tx, user, &snap.customer).await?;
                        }
                        user
                    }
                };
                self.update(tx, user, &event.id, |sub| {
                    entitlement::apply(sub, &snap).unwrap_or_else(|| sub.clone())
                })
                .await
            }
            Fact::Refund {
                customer: Some(customer),
            } => {
                let user = user_of(tx, &customer).await?;
                self.update(tx, user, &event.id, |sub| entitlement::revoke(sub, at))
                    .await
            }
            Fact::Dispute { charge } => {
                let customer = self.inner.stripe.charge_customer(&charge).await?;
                let user = user_of(tx, &customer).await?;
                self.update(tx, user, &event.id, |sub| entitlement::revoke(sub, at))
                    .await
            }
            Fact::CustomerDeleted { customer } => {
                store::customers::forget(tx, &customer).await?;
                Ok(())
            }
            Fact::Invoice {
                customer,
                subscription: Some(subscription),
            } if self.inner.refetch => {
                let snap = self.fetch(&subscription, &event.id).await?;
                let user = user_of(tx, &customer).await?;
                self.update(tx, user, &event.id, |sub| {
                    entitlement::apply(sub, &snap).unwrap_or_else(|| sub.clone())
                })
                .await
            }
            Fact::Refund { customer: None } | Fact::Invoice { .. } | Fact::Ignored => Ok(()),
        }
    }

    /// The subscription as Stripe has it now: the newest truth, whatever the event carried.
    async fn fetch(&self, id: &str, event_id: &str) -> Result<crate::wire::Snapshot, BillingError> {
        // Stamped with the time the request starts: Stripe answers with that state or a newer
        // one, so a slow answer never outranks a later request's.
        let now = self.inner.clock.now();
        let object = self
            .inner
            .stripe
            .get(&format!("subscriptions/{id}"))
            .await?;
        crate::wire::snapshot(&object, now, &format!("fetch:{event_id}"))
            .map_err(|field| BillingError::Stripe(crate::stripe::StripeError::Missing(field)))
    }

    /// Locks the user's subscription, applies `f`, and re-derives the entitlement.
    async fn update(
        &self,
        tx: &mut PgConnection,
        user_id: Uuid,
        cause: &str,
        f: impl FnOnce(&Subscription) -> Subscription,
    ) -> Result<(), BillingError> {
        let sub = store::subscriptions::lock(tx, user_id).await?;
        let next = f(&sub);
        if next != sub {
            store::subscriptions::save(tx, user_id, &next).await?;
        }
        self.rederive(tx, user_id, &next, cause, cause).await
    }

    /// Stores the entitlement `sub` gives now, announcing a change.
    pub(crate) async fn rederive(
        &self,
        tx: &mut PgConnection,
        user_id: Uuid,
        sub: &Subscription,
        cause: &str,
        stripe_event_id: &str,
    ) -> Result<(), BillingError> {
        let now = self.inner.clock.now();
        let before = store::entitlements::get(tx, user_id).await?;
        let change = Change {
            user_id,
            before,
            after: entitlement::derive(sub, now),
            subscription: sub,
            cause,
            stripe_event_id,
            at: now,
        };
        notify::apply(tx, &self.inner.keyring, &change).await?;
        Ok(())
    }
}

/// Links a customer to a user under the user's subscription row lock, taken first as
/// CreateCheckoutLink takes it, so the two never wait on each other in opposite orders.
async fn link(tx: &mut PgConnection, user_id: Uuid, customer: &str) -> Result<(), BillingError> {
    store::subscriptions::lock(tx, user_id).await?;
    store::customers::link(tx, user_id, customer).await?;
    Ok(())
}

async fn user_of(tx: &mut PgConnection, customer: &str) -> Result<Uuid, BillingError> {
    store::customers::user_of(tx, customer)
        .await?
        .ok_or_else(|| BillingError::UnknownCustomer(customer.to_owned()))
}
