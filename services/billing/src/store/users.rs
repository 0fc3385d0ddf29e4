//! `users` (read only): where to text a user.

use sqlx::PgConnection;
use uuid::Uuid;

/// A user's number and its keyed hash.
#[derive(Debug, Clone)]
pub struct Contact {
    /// E.164.
    pub phone_e164: String,
    /// Keyed hash of the number.
    pub phone_hash: String,
}

/// The contact of a user that exists and is not deleted.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn contact(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<Contact>, sqlx::Error> {
    sqlx::query_as!(
        Contact,
        "select phone_e164, phone_hash from users where id = $1 and deleted_at is null",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await
}

/// Whether the user exists.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn exists(conn: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query_scalar!("select exists(select 1 from users where id = $1)", user_id)
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or(false),
    )
}
