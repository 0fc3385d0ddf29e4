//! Registrations in progress over SMS (before a users row can exist).

use sqlx::PgConnection;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// How long an unfinished SMS registration is kept.
pub const TTL: Duration = Duration::days(7);

/// An open registration.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Id.
    pub id: Uuid,
    /// The step being asked: `first_name`, `last_name`, `birthday`, `zip` or `agree`.
    pub step: String,
    /// Collected so far.
    pub first_name: Option<String>,
    /// Collected so far.
    pub last_name: Option<String>,
    /// Collected so far.
    pub birthday: Option<Date>,
    /// Collected so far.
    pub zip_code: Option<String>,
}

/// Starts a registration at its first step, clearing an expired one.
#[tracing::instrument(skip_all)]
pub async fn start(
    tx: &mut PgConnection,
    phone_hash: &str,
    phone_e164: &str,
    now: OffsetDateTime,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query!(
        "delete from sms_registrations where phone_hash = $1 and completed_at is null",
        phone_hash
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query_scalar!(
        "insert into sms_registrations (phone_hash, phone_e164, step, expires_at)
         values ($1, $2, 'first_name', $3) returning id",
        phone_hash,
        phone_e164,
        now + TTL
    )
    .fetch_one(&mut *tx)
    .await
}

/// An answer to one step, moving to the next.
#[derive(Debug, Clone)]
pub enum Answer {
    /// First name given; next: last name.
    FirstName(String),
    /// Last name given; next: birthday.
    LastName(String),
    /// Birthday given; next: ZIP.
    Birthday(Date),
    /// ZIP given; next: AGREE.
    Zip(String),
}

/// Stores an answer and advances the step.
#[tracing::instrument(skip_all)]
pub async fn answer(tx: &mut PgConnection, id: Uuid, answer: &Answer) -> Result<(), sqlx::Error> {
    let query = match answer {
        Answer::FirstName(v) => sqlx::query!(
            "update sms_registrations set first_name = $2, step = 'last_name' where id = $1",
            id,
            v
        ),
        Answer::LastName(v) => sqlx::query!(
            "update sms_registrations set last_name = $2, step = 'birthday' where id = $1",
            id,
            v
        ),
        Answer::Birthday(v) => sqlx::query!(
            "update sms_registrations set birthday = $2, step = 'zip' where id = $1",
            id,
            v
        ),
        Answer::Zip(v) => sqlx::query!(
            "update sms_registrations set zip_code = $2, step = 'agree' where id = $1",
            id,
            v
        ),
    };
    query.execute(&mut *tx).await?;
    Ok(())
}

/// Marks the registration done, linked to the user it became.
#[tracing::instrument(skip_all)]
pub async fn complete(
    tx: &mut PgConnection,
    id: Uuid,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update sms_registrations set consented_at = $3, completed_at = $3, user_id = $2 where id = $1",
        id,
        user_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Ends a registration that cannot go on (e.g. under 18): its data is deleted.
#[tracing::instrument(skip_all)]
pub async fn discard(tx: &mut PgConnection, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from sms_registrations where id = $1", id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
