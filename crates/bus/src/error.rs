/// Errors of the event bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// A stream could not be created, updated or read.
    #[error("JetStream stream {stream} is unavailable")]
    Stream {
        /// Stream name.
        stream: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A consumer could not be created or read.
    #[error("JetStream consumer {consumer} is unavailable")]
    Consumer {
        /// Durable name.
        consumer: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Publishing (or waiting for its ack) failed.
    #[error("publishing to {subject} failed")]
    Publish {
        /// The subject.
        subject: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Acknowledging a delivery failed.
    #[error("acknowledging a delivery failed")]
    Ack(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The database failed.
    #[error("database error in the event platform")]
    Database(#[from] sqlx::Error),
    /// An envelope lacked something the bus needs.
    #[error("invalid envelope: {0}")]
    InvalidEnvelope(&'static str),
    /// A dead letter was not found.
    #[error("no dead letter with sequence {0}")]
    NoSuchDeadLetter(u64),
}

impl BusError {
    pub(crate) fn publish(
        subject: &str,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Publish {
            subject: subject.to_owned(),
            source: Box::new(e),
        }
    }
}
