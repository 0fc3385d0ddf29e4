//! `entitlements`: what each user may do now, and `domain_events` for each change.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entitlement::{Entitlement, Reason};

/// The stored entitlement of a user, if any.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn get(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<Entitlement>, sqlx::Error> {
    let row = sqlx::query!(
        "select eligible_to_participate, reason, expires_at from entitlements where user_id = $1",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|r| Entitlement {
        eligible: r.eligible_to_participate,
        reason: Reason::from_label(&r.reason),
        expires_at: r.expires_at,
    }))
}

/// Writes the user's entitlement, effective `at`.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn put(
    conn: &mut PgConnection,
    user_id: Uuid,
    entitlement: &Entitlement,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into entitlements (user_id, eligible_to_participate, eligible_to_initiate, source,
                                   effective_at, expires_at, reason)
         values ($1, $2, $2, 'stripe', $3, $4, $5)
         on conflict (user_id) do update set
            eligible_to_participate = excluded.eligible_to_participate,
            eligible_to_initiate = excluded.eligible_to_initiate,
            effective_at = excluded.effective_at,
            expires_at = excluded.expires_at,
            reason = excluded.reason",
        user_id,
        entitlement.eligible,
        at,
        entitlement.expires_at,
        entitlement.reason.as_str()
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Appends the change to `domain_events` (once per idempotency key).
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn record_change(
    conn: &mut PgConnection,
    user_id: Uuid,
    from: &str,
    to: &str,
    idempotency_key: &str,
    payload: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into domain_events (entity_type, entity_id, event_type, from_state, to_state,
                                    idempotency_key, payload)
         values ('user', $1, 'billing.entitlement_changed', $2, $3, $4, $5)
         on conflict do nothing",
        user_id,
        from,
        to,
        idempotency_key,
        payload
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}
