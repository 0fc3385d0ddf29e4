//! What billing scrubs when an account is deleted. Kept for accounting: the customer and
//! subscription rows (Stripe ids, states, periods) and each Stripe event's id, type, amounts
//! and times; removed: the personal details Stripe Checkout collected (email, name, phone,
//! addresses) from the stored event payloads.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Fields of a Stripe object (`data.object`) that describe the person rather than the money.
pub const PERSONAL_FIELDS: [&str; 14] = [
    "customer_details",
    "customer_email",
    "customer_name",
    "customer_phone",
    "customer_address",
    "customer_shipping",
    "billing_details",
    "shipping",
    "shipping_details",
    "email",
    "name",
    "phone",
    "address",
    "receipt_email",
];

/// Removes [`PERSONAL_FIELDS`] from every stored event about `user_id` or its Stripe
/// customer (by customer id, object id, or the `user_id` metadata we attach). Returns how many.
///
/// # Errors
/// When the update fails.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn scrub_events(
    conn: &mut PgConnection,
    user_id: Uuid,
    customer: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let fields: Vec<String> = PERSONAL_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    let scrubbed = sqlx::query!(
        "update stripe_events
            set payload = jsonb_set(payload, '{data,object}', (payload #> '{data,object}') - $3::text[])
          where jsonb_typeof(payload #> '{data,object}') = 'object'
            and ((payload #> '{data,object}') ?| $3::text[])
            and (payload #>> '{data,object,customer}' = $2
                 or payload #>> '{data,object,id}' = $2
                 or payload #>> '{data,object,metadata,user_id}' = $1::uuid::text
                 or payload #>> '{data,object,client_reference_id}' = $1::uuid::text)",
        user_id,
        customer,
        &fields
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(scrubbed)
}

/// Takes away participation and initiation (reason `revoked`), effective `at`.
///
/// # Errors
/// When the update fails.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn revoke_entitlement(
    conn: &mut PgConnection,
    user_id: Uuid,
    at: OffsetDateTime,
) -> Result<u64, sqlx::Error> {
    let revoked = sqlx::query!(
        "update entitlements
            set eligible_to_participate = false, eligible_to_initiate = false,
                reason = 'revoked', effective_at = $2
          where user_id = $1 and (eligible_to_participate or eligible_to_initiate)",
        user_id,
        at
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(revoked)
}

/// The person's Stripe subscription while it still runs (trialing, active, past_due or unpaid).
///
/// # Errors
/// When the query fails.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn running_subscription(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "select stripe_subscription_id from subscriptions
          where user_id = $1 and state in ('trialing', 'active', 'past_due', 'unpaid')",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await?
    .flatten())
}
