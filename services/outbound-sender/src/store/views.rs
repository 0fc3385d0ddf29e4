//! The admin API's reads about one person: who a request names, their outbound jobs for the
//! messages view, and everything the sender holds about them for an export.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The person an admin request names.
#[derive(Debug, Clone)]
pub struct Person {
    /// `users.id`.
    pub id: Uuid,
    /// Their number; `None` once the account is deleted (their texts were scrubbed).
    pub phone_e164: Option<String>,
    /// Their keyed phone hash (a placeholder once deleted).
    pub phone_hash: String,
}

/// The user with this E.164 number or id, if any.
#[tracing::instrument(skip_all)]
pub async fn person(
    tx: &mut PgConnection,
    phone_e164: Option<&str>,
    user_id: Option<Uuid>,
) -> Result<Option<Person>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, phone_e164, phone_hash, deleted_at is not null as "deleted!" from users
            where ($1::text is not null and phone_e164 = $1) or ($2::uuid is not null and id = $2)
            limit 1"#,
        phone_e164,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| Person {
        id: r.id,
        phone_e164: (!r.deleted).then_some(r.phone_e164),
        phone_hash: r.phone_hash,
    }))
}

/// A stored body and the associated data it is bound to (a job's idempotency key, or a
/// message's SID).
#[derive(Debug, Clone)]
pub struct Sealed {
    /// The body's columns.
    pub body: crypto::StoredBody,
    /// Its associated data.
    pub bound_to: String,
}

impl Sealed {
    fn new(key_version: i32, columns: [Option<Vec<u8>>; 3], bound_to: String) -> Self {
        let [nonce, ciphertext, tag] = columns;
        Self {
            body: crypto::StoredBody {
                key_version,
                nonce,
                ciphertext,
                tag,
            },
            bound_to,
        }
    }

    /// Decrypts the body: `Ok(None)` when it was purged.
    ///
    /// # Errors
    /// An unknown key version or a body that fails authentication.
    pub fn open(
        &self,
        keyring: &crypto::Keyring,
    ) -> Result<Option<secrecy::SecretString>, crypto::CryptoError> {
        keyring.decrypt_stored(&self.body, self.bound_to.as_bytes())
    }
}

/// An outbound job as the messages view shows it.
#[derive(Debug, Clone)]
pub struct Outbound {
    /// `sms_outbound_jobs.id`.
    pub id: Uuid,
    /// Queued.
    pub created_at: OffsetDateTime,
    /// Twilio's SID, once sent.
    pub sid: Option<String>,
    /// pending, sent, failed or suppressed.
    pub status: String,
    /// Twilio's delivery status.
    pub delivery_status: Option<String>,
    /// Twilio's error code.
    pub error_code: Option<i32>,
    /// What it was for.
    pub purpose: String,
    /// Segments.
    pub segments: Option<i32>,
    /// The sender it went from.
    pub sender: Option<String>,
    /// The message's last status change.
    pub last_status_at: Option<OffsetDateTime>,
    /// The body (bound to the idempotency key).
    pub body: Sealed,
}

/// The person's outbound jobs (by user id or phone hash), newest first, at most `limit`.
#[tracing::instrument(skip_all)]
pub async fn outbound_of(
    tx: &mut PgConnection,
    person: &Person,
    limit: i64,
) -> Result<Vec<Outbound>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select j.id, j.created_at, j.twilio_message_sid, j.status,
                  coalesce(m.status, j.delivery_status) as delivery_status,
                  j.error_code, j.purpose, j.segments, coalesce(j.sender, m.from_e164) as sender,
                  m.last_status_at as "last_status_at?", j.idempotency_key, j.key_version,
                  j.body_iv, j.body_ciphertext, j.body_tag
             from sms_outbound_jobs j
             left join sms_messages m
               on m.twilio_message_sid = j.twilio_message_sid and m.direction = 'out'
            where j.user_id = $1 or j.phone_hash = $2
            order by j.created_at desc, j.id desc
            limit $3"#,
        person.id,
        person.phone_hash,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Outbound {
            id: r.id,
            created_at: r.created_at,
            sid: r.twilio_message_sid,
            status: r.status,
            delivery_status: r.delivery_status,
            error_code: r.error_code,
            purpose: r.purpose,
            segments: r.segments,
            sender: r.sender,
            last_status_at: r.last_status_at,
            body: Sealed::new(
                r.key_version,
                [r.body_iv, r.body_ciphertext, r.body_tag],
                r.idempotency_key,
            ),
        })
        .collect())
}

/// An exported row: every column but the body's (and the phone hash and the columns derived
/// for indexes), and the body to decrypt.
pub type ExportRow = (serde_json::Value, Sealed);

/// The person's outbound jobs for an export, oldest first.
#[tracing::instrument(skip_all)]
pub async fn jobs_export(
    tx: &mut PgConnection,
    person: &Person,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select to_jsonb(j) - 'body_ciphertext' - 'body_iv' - 'body_tag' - 'phone_hash'
                  - 'pending' as "row!",
                  j.idempotency_key, j.key_version, j.body_iv, j.body_ciphertext, j.body_tag
             from sms_outbound_jobs j
            where j.user_id = $1 or j.phone_hash = $2
            order by j.created_at, j.id"#,
        person.id,
        person.phone_hash
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let body = Sealed::new(
                r.key_version,
                [r.body_iv, r.body_ciphertext, r.body_tag],
                r.idempotency_key,
            );
            (r.row, body)
        })
        .collect())
}

/// The person's outbound `sms_messages` rows for an export, oldest first.
#[tracing::instrument(skip_all)]
pub async fn messages_export(
    tx: &mut PgConnection,
    person: &Person,
) -> Result<Vec<ExportRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select to_jsonb(m) - 'body_ciphertext' - 'body_iv' - 'body_tag' - 'unsettled'
                  as "row!", m.twilio_message_sid, m.key_version, m.body_iv, m.body_ciphertext, m.body_tag
             from sms_messages m
            where m.direction = 'out' and (m.user_id = $1 or m.to_e164 = $2)
            order by m.created_at, m.id"#,
        person.id,
        person.phone_e164
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let body = Sealed::new(
                r.key_version,
                [r.body_iv, r.body_ciphertext, r.body_tag],
                r.twilio_message_sid,
            );
            (r.row, body)
        })
        .collect())
}

/// The person's suppressions (opt-outs, carrier opt-outs, unusable numbers), lifted ones
/// included, as a JSON array without the phone hash.
#[tracing::instrument(skip_all)]
pub async fn suppressions_export(
    tx: &mut PgConnection,
    person: &Person,
) -> Result<serde_json::Value, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select coalesce(jsonb_agg(to_jsonb(s) - 'phone_hash' order by s.created_at, s.id),
                           '[]'::jsonb) as "rows!"
             from sms_suppressions s where s.user_id = $1 or s.phone_hash = $2"#,
        person.id,
        person.phone_hash
    )
    .fetch_one(&mut *tx)
    .await
}
