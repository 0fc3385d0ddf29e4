//! The admin API's SQL: the person a request names, their inbound texts and message events.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The person an admin request names.
#[derive(Debug, Clone)]
pub struct Person {
    /// `users.id`.
    pub id: Uuid,
    /// The number their texts come from; `None` once the account is deleted (the row then
    /// holds a placeholder, and their texts were scrubbed).
    pub phone_e164: Option<String>,
}

/// The user with this E.164 number or id, if any.
#[tracing::instrument(skip_all)]
pub async fn person(
    tx: &mut PgConnection,
    phone_e164: Option<&str>,
    user_id: Option<Uuid>,
) -> Result<Option<Person>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select id, phone_e164, deleted_at is not null as "deleted!" from users
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
    }))
}

/// An inbound text as the messages view shows it.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// `sms_messages.id`.
    pub id: Uuid,
    /// Received.
    pub created_at: OffsetDateTime,
    /// `MessageSid`.
    pub sid: String,
    /// JOSH's number it came in on.
    pub to_e164: String,
    /// `received`.
    pub status: Option<String>,
    /// The last status change.
    pub last_status_at: Option<OffsetDateTime>,
    /// Twilio's error code.
    pub error_code: Option<i32>,
    /// Segments.
    pub num_segments: Option<i32>,
    /// Attached media.
    pub media_count: i32,
    /// The body's columns (bound to the `MessageSid`).
    pub body: crypto::StoredBody,
}

/// The person's inbound texts (their user id, or sent from `phone` before it was theirs),
/// newest first, at most `limit` (all when `None`).
#[tracing::instrument(skip_all)]
pub async fn inbound_of(
    tx: &mut PgConnection,
    user_id: Uuid,
    phone: Option<&str>,
    limit: Option<i64>,
) -> Result<Vec<Inbound>, sqlx::Error> {
    let rows = sqlx::query!(
        "select id, created_at, twilio_message_sid, to_e164, status, last_status_at, error_code,
                num_segments, media_count, key_version, body_iv, body_ciphertext, body_tag
           from sms_messages
          where direction = 'in' and (user_id = $1 or from_e164 = $2)
          order by created_at desc, id desc
          limit $3",
        user_id,
        phone,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Inbound {
            id: r.id,
            created_at: r.created_at,
            sid: r.twilio_message_sid,
            to_e164: r.to_e164,
            status: r.status,
            last_status_at: r.last_status_at,
            error_code: r.error_code,
            num_segments: r.num_segments,
            media_count: r.media_count,
            body: crypto::StoredBody {
                key_version: r.key_version,
                nonce: r.body_iv,
                ciphertext: r.body_ciphertext,
                tag: r.body_tag,
            },
        })
        .collect())
}

/// The person's inbound texts for an export, oldest first: every column but the body's (and the
/// derived `unsettled`) as one JSON object each, with the `MessageSid` and the body's columns to
/// decrypt.
#[tracing::instrument(skip_all)]
pub async fn inbound_export(
    tx: &mut PgConnection,
    user_id: Uuid,
    phone: Option<&str>,
) -> Result<Vec<(serde_json::Value, String, crypto::StoredBody)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select to_jsonb(m) - 'body_ciphertext' - 'body_iv' - 'body_tag' - 'unsettled'
                  as "row!", m.twilio_message_sid, m.key_version, m.body_iv, m.body_ciphertext, m.body_tag
             from sms_messages m
            where m.direction = 'in' and (m.user_id = $1 or m.from_e164 = $2)
            order by m.created_at, m.id"#,
        user_id,
        phone
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let body = crypto::StoredBody {
                key_version: r.key_version,
                nonce: r.body_iv,
                ciphertext: r.body_ciphertext,
                tag: r.body_tag,
            };
            (r.row, r.twilio_message_sid, body)
        })
        .collect())
}

/// The person's `message_events` (ids and counts, never bodies), oldest first, as a JSON array.
#[tracing::instrument(skip_all)]
pub async fn message_events_export(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<serde_json::Value, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select coalesce(jsonb_agg(to_jsonb(e) order by e.created_at, e.id), '[]'::jsonb)
                  as "rows!"
             from message_events e where e.user_id = $1"#,
        user_id
    )
    .fetch_one(&mut *tx)
    .await
}
