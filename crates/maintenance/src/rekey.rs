//! Re-encryption under the active key (key rotation step 3 of design.md: add a key, make it
//! active, run this, retire the old key once [`left_under_old_keys`] says nothing needs it).

use crypto::{EncryptedBody, Keyring};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{MaintenanceError, Progress, Tracker};

/// Bodies still under one key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUse {
    /// `sms_messages` or `sms_outbound_jobs`.
    pub table: &'static str,
    /// The key version.
    pub key_version: i32,
    /// Rows with a body under it.
    pub rows: i64,
}

/// A table whose rows hold encrypted bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyTable {
    /// `sms_messages`, bound to the Twilio message SID.
    Messages,
    /// `sms_outbound_jobs`, bound to the job's idempotency key.
    Jobs,
}

impl BodyTable {
    const ALL: [Self; 2] = [Self::Messages, Self::Jobs];

    fn name(self) -> &'static str {
        match self {
            Self::Messages => "sms_messages",
            Self::Jobs => "sms_outbound_jobs",
        }
    }
}

/// One row's body and what binds it.
struct Row {
    id: Uuid,
    associated_data: String,
    key_version: i32,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    tag: Vec<u8>,
}

/// Re-encrypts every body not under `target` (which must be the keyring's active key), `batch`
/// rows per committed transaction; returns how many rows changed. Safe to stop and run again,
/// and to run while the services write (they write under the active key already). `progress`
/// hears the count of rows under older keys first, then every committed batch.
///
/// # Errors
/// [`MaintenanceError::NotActive`] when `target` is not the active key;
/// [`MaintenanceError::Crypto`] for a body that cannot be decrypted (its batch rolls back);
/// [`MaintenanceError::Database`] when the database fails.
#[tracing::instrument(skip_all, fields(target))]
pub async fn run(
    pool: &PgPool,
    keyring: &Keyring,
    target: i32,
    batch: i64,
    progress: impl FnMut(Progress),
) -> Result<u64, MaintenanceError> {
    if keyring.active_version() != target {
        return Err(MaintenanceError::NotActive(target));
    }
    let expected: i64 = left_under_old_keys(pool, target)
        .await?
        .iter()
        .map(|k| k.rows)
        .sum();
    let first = BodyTable::Messages.name();
    let mut tracker = Tracker::start(u64::try_from(expected).unwrap_or(0), first, progress);
    let mut changed = 0;
    for table in BodyTable::ALL {
        loop {
            let mut tx = pool.begin().await?;
            let rows = claim(&mut tx, table, target, batch).await?;
            for row in &rows {
                reencrypt(&mut tx, keyring, table, row).await?;
            }
            tx.commit().await?;
            let n = rows.len() as u64;
            changed += n;
            tracker.batch(table.name(), n);
            if n == 0 {
                break;
            }
        }
    }
    tracing::info!(changed, "rekey run finished");
    Ok(changed)
}

async fn claim(
    tx: &mut PgConnection,
    table: BodyTable,
    target: i32,
    batch: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    if table == BodyTable::Messages {
        sqlx::query_as!(
            Row,
            r#"select id, twilio_message_sid as "associated_data!", key_version,
                      body_ciphertext as "ciphertext!", body_iv as "nonce!", body_tag as "tag!"
               from sms_messages
               where key_version <> $1 and body_ciphertext is not null
               order by id limit $2 for update skip locked"#,
            target,
            batch
        )
        .fetch_all(&mut *tx)
        .await
    } else {
        sqlx::query_as!(
            Row,
            r#"select id, idempotency_key as "associated_data!", key_version,
                      body_ciphertext as "ciphertext!", body_iv as "nonce!", body_tag as "tag!"
               from sms_outbound_jobs
               where key_version <> $1 and body_ciphertext is not null
               order by id limit $2 for update skip locked"#,
            target,
            batch
        )
        .fetch_all(&mut *tx)
        .await
    }
}

async fn reencrypt(
    tx: &mut PgConnection,
    keyring: &Keyring,
    table: BodyTable,
    row: &Row,
) -> Result<(), MaintenanceError> {
    let crypto_error = |source| MaintenanceError::Crypto {
        table: table.name(),
        id: row.id,
        source,
    };
    let body = EncryptedBody::from_parts(row.key_version, &row.nonce, &row.ciphertext, &row.tag)
        .map_err(crypto_error)?;
    let fresh = keyring
        .reencrypt(&body, row.associated_data.as_bytes())
        .map_err(crypto_error)?;
    let (nonce, tag) = (fresh.nonce.to_vec(), fresh.tag.to_vec());
    if table == BodyTable::Messages {
        sqlx::query!(
            "update sms_messages set body_ciphertext = $2, body_iv = $3, body_tag = $4, key_version = $5
             where id = $1",
            row.id, fresh.ciphertext, nonce, tag, fresh.key_version
        )
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query!(
            "update sms_outbound_jobs set body_ciphertext = $2, body_iv = $3, body_tag = $4, key_version = $5
             where id = $1",
            row.id, fresh.ciphertext, nonce, tag, fresh.key_version
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// Bodies left under each key version other than `active`, per table (empty: the old keys can
/// be retired).
///
/// # Errors
/// [`MaintenanceError::Database`] when the database fails.
pub async fn left_under_old_keys(
    pool: &PgPool,
    active: i32,
) -> Result<Vec<KeyUse>, MaintenanceError> {
    let messages = sqlx::query!(
        r#"select key_version, count(*) as "rows!" from sms_messages
           where key_version <> $1 and body_ciphertext is not null group by key_version order by key_version"#,
        active
    )
    .fetch_all(pool)
    .await?;
    let jobs = sqlx::query!(
        r#"select key_version, count(*) as "rows!" from sms_outbound_jobs
           where key_version <> $1 and body_ciphertext is not null group by key_version order by key_version"#,
        active
    )
    .fetch_all(pool)
    .await?;
    let mut left: Vec<KeyUse> = messages
        .into_iter()
        .map(|r| KeyUse {
            table: BodyTable::Messages.name(),
            key_version: r.key_version,
            rows: r.rows,
        })
        .collect();
    left.extend(jobs.into_iter().map(|r| KeyUse {
        table: BodyTable::Jobs.name(),
        key_version: r.key_version,
        rows: r.rows,
    }));
    Ok(left)
}
