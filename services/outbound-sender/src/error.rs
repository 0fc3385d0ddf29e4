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
