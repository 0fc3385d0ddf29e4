//! Data maintenance that runs beside the live services (issue 8, design.md "Crypto and secrets"):
//!
//! - [`retention`]: null message bodies (ciphertext, nonce, tag) past the retention window, keeping
//!   every row's metadata; an outbound job's body goes only once the job is settled.
//! - [`rekey`]: re-encrypt every body under the active key, in small batches that each commit, so
//!   the job can stop and resume at any time while the services keep writing; it reports the
//!   rows left under each older key, so a key is retired only when nothing needs it.
//!
//! Message bodies are bound to their row by associated data: an SMS row to its Twilio message
//! SID, an outbound job to its idempotency key. Both jobs claim rows with `SKIP LOCKED` and leave
//! rows a service holds for the next batch.

pub mod rekey;
pub mod retention;

/// What a maintenance job could not do.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    /// The database failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A body could not be decrypted or re-encrypted (an unknown key version, or tampering).
    #[error("body of {table} row {id} could not be re-encrypted")]
    Crypto {
        /// `sms_messages` or `sms_outbound_jobs`.
        table: &'static str,
        /// The row.
        id: uuid::Uuid,
        /// Why.
        #[source]
        source: crypto::CryptoError,
    },
    /// The requested key is not in the keyring, or is not the active one.
    #[error("key version {0} is not the active key of JOSH_ENCRYPTION_KEYS")]
    NotActive(i32),
}
