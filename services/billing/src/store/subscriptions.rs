//! `subscriptions`: one row per user, the newest Stripe truth about their subscription.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entitlement::Subscription;
use crate::wire::Status;

/// The user's row, created empty if missing, locked for this transaction (so events of one user
/// apply one at a time).
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn lock(conn: &mut PgConnection, user_id: Uuid) -> Result<Subscription, sqlx::Error> {
    sqlx::query!(
        "insert into subscriptions (user_id) values ($1) on conflict (user_id) do nothing",
        user_id
    )
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query!(
        r#"select stripe_subscription_id, stripe_customer_id, stripe_subscription_created_at,
                  state::text as "state!", stripe_state_at, last_stripe_event_id,
                  current_period_end, cancel_at_period_end, grace_until,
                  checkout_pending_until, revoked_at
           from subscriptions where user_id = $1 for update"#,
        user_id
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(Subscription {
        stripe_subscription_id: row.stripe_subscription_id,
        stripe_customer_id: row.stripe_customer_id,
        created: row.stripe_subscription_created_at,
        status: row.stripe_state_at.map(|_| Status::from_db(&row.state)),
        state_at: row.stripe_state_at,
        source: row.last_stripe_event_id,
        current_period_end: row.current_period_end,
        cancel_at_period_end: row.cancel_at_period_end,
        grace_until: row.grace_until,
        checkout_pending_until: row.checkout_pending_until,
        revoked_at: row.revoked_at,
    })
}

/// Writes the user's row (locked earlier by [`lock`]).
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn save(
    conn: &mut PgConnection,
    user_id: Uuid,
    sub: &Subscription,
) -> Result<(), sqlx::Error> {
    let state = sub.status.unwrap_or(Status::None).as_db();
    sqlx::query!(
        "update subscriptions set
            stripe_subscription_id = $2, stripe_customer_id = $3, stripe_subscription_created_at = $4,
            state = $5::text::subscription_state, stripe_state_at = $6, last_stripe_event_id = $7,
            current_period_end = $8, cancel_at_period_end = $9, grace_until = $10,
            checkout_pending_until = $11, revoked_at = $12
         where user_id = $1",
        user_id,
        sub.stripe_subscription_id,
        sub.stripe_customer_id,
        sub.created,
        state,
        sub.state_at,
        sub.source,
        sub.current_period_end,
        sub.cancel_at_period_end,
        sub.grace_until,
        sub.checkout_pending_until,
        sub.revoked_at
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Users whose subscription is live (trialing, active, past_due), for reconciliation.
#[tracing::instrument(skip_all)]
pub async fn live(conn: &mut PgConnection) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select user_id, stripe_subscription_id as "sub!" from subscriptions
           where state in ('trialing', 'active', 'past_due') and stripe_subscription_id is not null
           order by user_id"#
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.sub)).collect())
}

/// Users whose stored entitlement window (grace, checkout) has passed at `now` but still reads
/// eligible, so a job re-derives them.
#[tracing::instrument(skip_all)]
pub async fn expired_windows(
    conn: &mut PgConnection,
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select user_id from entitlements
         where eligible_to_participate and expires_at is not null and expires_at <= $1
         order by user_id",
        now
    )
    .fetch_all(&mut *conn)
    .await
}

/// The user's subscription state label, if a row exists.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn state(conn: &mut PgConnection, user_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select state::text as "state!" from subscriptions where user_id = $1"#,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await
}

/// The user's newest checkout session id.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn checkout_session(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "select checkout_session_id from subscriptions where user_id = $1",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten())
}

/// Records the user's newest checkout session (the row exists: see [`lock`]).
#[tracing::instrument(skip_all, fields(%user_id, session))]
pub async fn set_checkout_session(
    conn: &mut PgConnection,
    user_id: Uuid,
    session: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update subscriptions set checkout_session_id = $2 where user_id = $1",
        user_id,
        session
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Users with a checkout session but no subscription yet, whose row changed since `since`
/// (a checkout whose webhooks may have been lost).
#[tracing::instrument(skip_all)]
pub async fn awaiting_checkout(
    conn: &mut PgConnection,
    since: OffsetDateTime,
) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select user_id, checkout_session_id as "session!" from subscriptions
           where state = 'none' and stripe_subscription_id is null
             and checkout_session_id is not null and updated_at >= $1
           order by user_id"#,
        since
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.user_id, r.session)).collect())
}
