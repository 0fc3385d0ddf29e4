//! The router's one error type.

use bus::HandlerError;

/// Errors of the conversation-router.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// The database failed (retried).
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// The bus refused an outbox row.
    #[error("event bus error")]
    Bus(#[from] bus::BusError),
    /// A body could not be encrypted or decrypted.
    #[error("message body crypto failed")]
    Crypto(#[from] crypto::CryptoError),
    /// The inbound event is not what this consumer handles.
    #[error("unexpected event: {0}")]
    UnexpectedEvent(&'static str),
}

impl From<RouterError> for HandlerError {
    fn from(error: RouterError) -> Self {
        match error {
            // Content that can never succeed goes to the dead-letter subject at once.
            RouterError::Crypto(_) | RouterError::UnexpectedEvent(_) => HandlerError::reject(error),
            RouterError::Database(_) | RouterError::Bus(_) => HandlerError::retry(error),
        }
    }
}
