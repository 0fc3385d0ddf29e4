//! `identity.user_deleted`: billing keeps what accounting needs and drops what describes the
//! person.
//!
//! Kept, and why: `stripe_customers` (our user id ↔ `cus_...`) and `subscriptions` (Stripe
//! ids, states, periods) are the link from a payment, refund or chargeback Stripe reports later
//! to the record it concerns; payment records must be kept for tax and bookkeeping for years,
//! and they hold no name, number or email (we create customers with our user id as the only
//! metadata). The stored Stripe events keep their ids, types, amounts and times for the same
//! reason. Dropped: the personal details Stripe Checkout collected inside those events (email,
//! name, phone, addresses), the entitlement (revoked), and this service's published outbox rows
//! about the person (billing texts carry the number). A subscription still running is canceled
//! at Stripe at once ([`ErasureHandler`]): nobody keeps paying for an account that is gone.

use bus::{Handler, HandlerError};
use platform::clock::SharedClock;
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::SERVICE;
use crate::error::BillingError;
use crate::store::{customers, erasure};
use crate::stripe::{StripeClient, StripeError};

/// Handles `identity.user_deleted`.
#[derive(Debug, Clone)]
pub struct ErasureHandler {
    clock: SharedClock,
    stripe: StripeClient,
}

impl ErasureHandler {
    /// A handler reading `clock`, canceling subscriptions through `stripe`.
    pub fn new(clock: SharedClock, stripe: StripeClient) -> Self {
        Self { clock, stripe }
    }

    async fn erase(&self, tx: &mut PgConnection, user: Uuid) -> Result<(), BillingError> {
        let canceled = self.cancel_subscription(tx, user).await?;
        let customer = customers::of_user(tx, user).await?;
        let revoked = erasure::revoke_entitlement(tx, user, self.clock.now()).await?;
        let scrubbed = erasure::scrub_events(tx, user, customer.as_deref()).await?;
        let needles = [user.to_string()];
        bus::outbox::forget_published(tx, SERVICE, &needles).await?;
        tracing::info!(
            revoked,
            scrubbed,
            canceled = canceled.as_deref(),
            "deleted user's billing data scrubbed"
        );
        Ok(())
    }

    /// Cancels the person's subscription at Stripe now, unless it has ended; returns its id
    /// when this call canceled it. Stripe is asked for the subscription first (the newest
    /// truth), so a redelivered deletion finds it canceled and does nothing. Stripe's own
    /// `customer.subscription.deleted` then updates the row as any cancel does. A failure is
    /// retried with the whole erasure (nothing is committed before it succeeds).
    async fn cancel_subscription(
        &self,
        tx: &mut PgConnection,
        user: Uuid,
    ) -> Result<Option<String>, BillingError> {
        let Some(id) = erasure::running_subscription(tx, user).await? else {
            return Ok(None);
        };
        let path = format!("subscriptions/{id}");
        let current = match self.stripe.get(&path).await {
            Ok(current) => current,
            Err(StripeError::Status { status: 404, .. }) => {
                tracing::warn!(subscription = %id, "Stripe does not know the subscription; nothing to cancel");
                return Ok(None);
            }
            Err(error) => return Err(error.into()),
        };
        let status = current["status"].as_str().unwrap_or_default();
        if matches!(status, "canceled" | "incomplete_expired") {
            return Ok(None);
        }
        self.stripe.delete(&path).await?;
        tracing::info!(subscription = %id, "deleted user's subscription canceled at Stripe");
        Ok(Some(id))
    }
}

/// A deletion fact billing cannot read.
#[derive(Debug, thiserror::Error)]
#[error("invalid identity.user_deleted: {0}")]
pub struct InvalidDeletion(&'static str);

impl Handler for ErasureHandler {
    #[tracing::instrument(skip_all, fields(event_id = %envelope.event_id))]
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        let Some(Payload::UserDeleted(deleted)) = &envelope.payload else {
            return Err(HandlerError::reject(InvalidDeletion("not a user deletion")));
        };
        let user = Uuid::parse_str(&deleted.user_id)
            .map_err(|_| HandlerError::reject(InvalidDeletion("malformed user id")))?;
        self.erase(tx, user).await.map_err(HandlerError::retry)
    }
}

/// The consumer of `identity.user_deleted`, ordered per user.
///
/// # Panics
/// Never: the type is in the payload catalog.
pub fn consumer() -> bus::ConsumerSpec {
    let payload = proto::catalog::by_type_name("identity.user_deleted")
        .unwrap_or_else(|| unreachable!("identity.user_deleted is in the payload catalog"));
    bus::ConsumerSpec::ordered(SERVICE, payload)
}
