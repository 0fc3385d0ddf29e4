//! The service's error type.

/// What can go wrong while storing or processing an event, or serving a request.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// Postgres failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Writing an event to the outbox failed.
    #[error("event outbox error")]
    Bus(#[from] bus::BusError),
    /// A text could not be encrypted.
    #[error("message body encryption failed")]
    Crypto(#[from] crypto::CryptoError),
    /// The Stripe API failed or answered something unusable.
    #[error("stripe API error")]
    Stripe(#[from] crate::stripe::StripeError),
    /// A stored event lacks a field billing needs.
    #[error("malformed event")]
    Wire(#[from] crate::wire::WireError),
    /// A stored event cannot be parsed at all.
    #[error("unparsable stored event")]
    Json(#[from] serde_json::Error),
    /// An event names a customer billing cannot link to a user (yet): retried later.
    #[error("no user for Stripe customer {0}")]
    UnknownCustomer(String),
    /// The user does not exist.
    #[error("no such user")]
    UnknownUser,
}

impl BillingError {
    /// Whether trying again soon may succeed: Stripe unreachable, overloaded or failing, or
    /// Postgres unreachable, or a deadlock / serialization failure. Content errors (a malformed event, an unknown customer, a
    /// 4xx from Stripe) wait for the reconciliation pass or ops.
    pub fn is_transient(&self) -> bool {
        use crate::stripe::StripeError;
        match self {
            Self::Stripe(StripeError::Http(_)) => true,
            Self::Database(error) => platform::db::is_transient(error),
            Self::Stripe(StripeError::Status { status, .. }) => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
