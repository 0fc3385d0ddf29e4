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
//!
//! Neither prints: each reports [`Progress`] to a callback (rows done of the rows it counted at
//! the start), and the caller decides how to show it (`joshctl` draws a progress bar).

pub mod rekey;
pub mod retention;

/// How far a job has come: reported once at the start (nothing done yet) and after every
/// committed batch that changed rows. `done` and `total` never decrease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The table of the last batch (`sms_messages` or `sms_outbound_jobs`).
    pub table: &'static str,
    /// Rows the last batch changed (0 in the first report).
    pub batch: u64,
    /// Rows changed so far, over every table.
    pub done: u64,
    /// Rows the job expects to change: counted when it starts, raised to `done` if rows became
    /// due while it ran. Rows a service holds locked are left for the next run, so a job can end
    /// below it.
    pub total: u64,
}

/// Keeps the running counts and hands each [`Progress`] to the caller's callback.
struct Tracker<F> {
    report: F,
    done: u64,
    total: u64,
}

impl<F: FnMut(Progress)> Tracker<F> {
    /// Starts at zero of `total` and reports it.
    fn start(total: u64, first_table: &'static str, mut report: F) -> Self {
        report(Progress {
            table: first_table,
            batch: 0,
            done: 0,
            total,
        });
        Self {
            report,
            done: 0,
            total,
        }
    }

    /// Records a committed batch of `rows` in `table`.
    fn batch(&mut self, table: &'static str, rows: u64) {
        if rows == 0 {
            return;
        }
        self.done += rows;
        self.total = self.total.max(self.done);
        (self.report)(Progress {
            table,
            batch: rows,
            done: self.done,
            total: self.total,
        });
    }
}

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
