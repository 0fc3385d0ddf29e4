//! The service's error type.

/// What can go wrong while accepting, sending or settling a text.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    /// Postgres failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// Writing an event to the outbox failed.
    #[error("event outbox error")]
    Bus(#[from] bus::BusError),
    /// A body could not be decrypted or encrypted.
    #[error("message body encryption failed")]
    Crypto(#[from] crypto::CryptoError),
    /// A command or event is malformed and can never be handled.
    #[error("invalid message: {0}")]
    Invalid(&'static str),
}

impl SenderError {
    /// Whether the same work may succeed if tried again soon: Postgres unreachable, restarting
    /// or giving up on a transaction for a reason other than its content.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(error) | Self::Bus(bus::BusError::Database(error)) => {
                platform::db::is_transient(error)
            }
            _ => false,
        }
    }
}
