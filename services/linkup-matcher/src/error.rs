//! The matcher's one error type.

use bus::HandlerError;

/// Errors of the linkup-matcher.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// The database failed (retried).
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The bus refused an outbox row.
    #[error("event bus error")]
    Bus(#[from] bus::BusError),
    /// A text could not be encrypted.
    #[error("message body crypto failed")]
    Crypto(#[from] crypto::CryptoError),
    /// The inbound event is not what this consumer handles, or is malformed.
    #[error("unexpected event: {0}")]
    UnexpectedEvent(&'static str),
}

impl From<MatcherError> for HandlerError {
    fn from(error: MatcherError) -> Self {
        match error {
            // Content that can never succeed goes to the dead-letter subject at once.
            MatcherError::Crypto(_) | MatcherError::UnexpectedEvent(_) => {
                HandlerError::reject(error)
            }
            MatcherError::Database(_) | MatcherError::Bus(_) => HandlerError::retry(error),
        }
    }
}
