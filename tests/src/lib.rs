//! Fixtures for the system tests in `tests/tests/`: minimal valid rows, inserted as the
//! superuser, so each test states only what it is about.

use sqlx::PgPool;
use uuid::Uuid;

/// The Postgres error code of a failed query, e.g. `23505` for a unique violation.
pub fn sql_state(result: Result<impl Sized, sqlx::Error>) -> Option<String> {
    match result {
        Err(sqlx::Error::Database(e)) => e.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// The constraint a failed query violated.
pub fn violated_constraint(result: Result<impl Sized, sqlx::Error>) -> Option<String> {
    match result {
        Err(sqlx::Error::Database(e)) => e.constraint().map(str::to_owned),
        _ => None,
    }
}

/// Inserts a user with a unique phone and returns its id.
///
/// # Errors
/// Fails when the insert fails.
pub async fn user(pool: &PgPool) -> anyhow::Result<Uuid> {
    let n = Uuid::new_v4().as_u128() % 10_000_000_000;
    let id = sqlx::query_scalar(
        "insert into users (phone_e164, phone_hash, first_name, last_name, birthday,
                            sms_consent, age_consent, terms_consent, privacy_consent)
         values ($1, $2, 'Test', 'Person', '1990-01-01', true, true, true, true) returning id",
    )
    .bind(format!("+1{n:010}"))
    .bind(format!("hash-{n}"))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Inserts an open region and returns its id.
///
/// # Errors
/// Fails when the insert fails.
pub async fn region(pool: &PgPool) -> anyhow::Result<Uuid> {
    let id = sqlx::query_scalar(
        "insert into regions (slug, display_name, state, geometry, rules)
         values ($1, 'Test Region', 'open', '{\"zips\": [\"94110\"]}',
                 '{\"timezone\": \"America/Los_Angeles\"}')
         returning id",
    )
    .bind(format!("test-{}", Uuid::new_v4().simple()))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Inserts a broadcasting LinkUp started by `initiator` and returns its id.
///
/// # Errors
/// Fails when the insert fails.
pub async fn linkup(pool: &PgPool, initiator: Uuid, region: Uuid) -> anyhow::Result<Uuid> {
    let id = sqlx::query_scalar(
        "insert into linkups (initiator_user_id, region_id, state, brief, linkup_create_key)
         values ($1, $2, 'broadcasting', '{\"activity_key\": \"coffee\"}', $3) returning id",
    )
    .bind(initiator)
    .bind(region)
    .bind(format!("key-{}", Uuid::new_v4()))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Invites `user` to `linkup`.
///
/// # Errors
/// Fails when the insert fails.
pub async fn invite(pool: &PgPool, linkup: Uuid, user: Uuid) -> anyhow::Result<Uuid> {
    let id = sqlx::query_scalar(
        "insert into linkup_invites (linkup_id, invited_user_id, idempotency_key)
         values ($1, $2, $3) returning id",
    )
    .bind(linkup)
    .bind(user)
    .bind(format!("invite-{}", Uuid::new_v4()))
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Adds `user` to `linkup` as a participant with `role` (`initiator` or `participant`).
///
/// # Errors
/// Fails when the insert fails.
pub async fn participant(
    pool: &PgPool,
    linkup: Uuid,
    user: Uuid,
    role: &str,
) -> anyhow::Result<Uuid> {
    let id = sqlx::query_scalar(
        "insert into linkup_participants (linkup_id, user_id, role) values ($1, $2, $3) returning id",
    )
    .bind(linkup)
    .bind(user)
    .bind(role)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

/// Creates the user's profile.
///
/// # Errors
/// Fails when the insert fails.
pub async fn profile(pool: &PgPool, user: Uuid) -> anyhow::Result<Uuid> {
    let id = sqlx::query_scalar("insert into profiles (user_id) values ($1) returning id")
        .bind(user)
        .fetch_one(pool)
        .await?;
    Ok(id)
}
