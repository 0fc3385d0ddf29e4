//! What the admin API reads: a person's subscription, entitlement and Stripe events, and their
//! rows for an export. Stripe events carry no user id: they are a person's when their object
//! names the person's customer (or is it), or carries our user id (metadata, client reference).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The person's `subscriptions` row.
#[derive(Debug, Clone)]
pub struct SubscriptionRow {
    /// sub_...
    pub stripe_subscription_id: Option<String>,
    /// The subscription state.
    pub state: String,
    /// Period end.
    pub current_period_end: Option<OffsetDateTime>,
    /// Cancels at the period's end.
    pub cancel_at_period_end: bool,
    /// Grace of a past_due subscription.
    pub grace_until: Option<OffsetDateTime>,
    /// A checkout is in progress until then.
    pub checkout_pending_until: Option<OffsetDateTime>,
    /// A refund or dispute took it away then.
    pub revoked_at: Option<OffsetDateTime>,
    /// The time of the Stripe state held.
    pub stripe_state_at: Option<OffsetDateTime>,
    /// When Stripe created it.
    pub stripe_subscription_created_at: Option<OffsetDateTime>,
    /// The event that last changed it.
    pub last_stripe_event_id: Option<String>,
}

/// The person's subscription row, if any.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn subscription(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<SubscriptionRow>, sqlx::Error> {
    sqlx::query_as!(
        SubscriptionRow,
        r#"select stripe_subscription_id, state::text as "state!", current_period_end,
                  cancel_at_period_end, grace_until, checkout_pending_until, revoked_at,
                  stripe_state_at, stripe_subscription_created_at, last_stripe_event_id
             from subscriptions where user_id = $1"#,
        user_id
    )
    .fetch_optional(&mut *conn)
    .await
}

/// The person's `entitlements` row.
#[derive(Debug, Clone)]
pub struct EntitlementRow {
    /// May take part.
    pub eligible_to_participate: bool,
    /// May start LinkUps.
    pub eligible_to_initiate: bool,
    /// Why.
    pub reason: String,
    /// Eligible until then.
    pub expires_at: Option<OffsetDateTime>,
    /// Since when.
    pub effective_at: OffsetDateTime,
}

/// The person's entitlement row, if any.
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn entitlement(
    conn: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<EntitlementRow>, sqlx::Error> {
    sqlx::query_as!(
        EntitlementRow,
        "select eligible_to_participate, eligible_to_initiate, reason, expires_at, effective_at
           from entitlements where user_id = $1",
        user_id
    )
    .fetch_optional(&mut *conn)
    .await
}

/// A stored Stripe event, without its payload.
#[derive(Debug, Clone)]
pub struct EventRow {
    /// evt_...
    pub stripe_event_id: String,
    /// e.g. `invoice.paid`.
    pub event_type: String,
    /// When it arrived.
    pub received_at: OffsetDateTime,
    /// When it was applied.
    pub processed_at: Option<OffsetDateTime>,
    /// Why applying it failed.
    pub processing_error: Option<String>,
}

/// The person's Stripe events, newest first, at most `limit`; only those whose processing
/// failed when `failed_only`.
#[tracing::instrument(skip_all, fields(%user_id, failed_only))]
pub async fn events(
    conn: &mut PgConnection,
    user_id: Uuid,
    customer: Option<&str>,
    limit: i64,
    failed_only: bool,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as!(
        EventRow,
        "select stripe_event_id, event_type, received_at, processed_at, processing_error
           from stripe_events
          where (payload #>> '{data,object,customer}' = $2
                 or payload #>> '{data,object,id}' = $2
                 or payload #>> '{data,object,metadata,user_id}' = $1::uuid::text
                 or payload #>> '{data,object,client_reference_id}' = $1::uuid::text)
            and (not $4 or processing_error is not null)
          order by received_at desc, id desc
          limit $3",
        user_id,
        customer,
        limit,
        failed_only
    )
    .fetch_all(&mut *conn)
    .await
}

/// billing's rows about the person as one JSON object, table name -> rows: the customer link,
/// the subscription (without its checkout session), the entitlement, and each Stripe event's
/// id, type, object and times (payloads stay out: they hold checkout links and what Stripe
/// collected).
#[tracing::instrument(skip_all, fields(%user_id))]
pub async fn export(
    conn: &mut PgConnection,
    user_id: Uuid,
    customer: Option<&str>,
) -> Result<serde_json::Value, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select jsonb_build_object(
             'stripe_customers', (select coalesce(jsonb_agg(to_jsonb(t)), '[]')
                                    from stripe_customers t where t.user_id = $1),
             'subscriptions', (select coalesce(jsonb_agg(to_jsonb(t) - 'checkout_session_id'), '[]')
                                 from subscriptions t where t.user_id = $1),
             'entitlements', (select coalesce(jsonb_agg(to_jsonb(t)), '[]')
                                from entitlements t where t.user_id = $1),
             'stripe_events', (select coalesce(jsonb_agg(jsonb_build_object(
                                   'stripe_event_id', e.stripe_event_id,
                                   'event_type', e.event_type,
                                   'object', e.payload #>> '{data,object,object}',
                                   'object_id', e.payload #>> '{data,object,id}',
                                   'received_at', e.received_at,
                                   'processed_at', e.processed_at,
                                   'processing_error', e.processing_error)
                                 order by e.received_at), '[]')
                                 from stripe_events e
                                where e.payload #>> '{data,object,customer}' = $2
                                   or e.payload #>> '{data,object,id}' = $2
                                   or e.payload #>> '{data,object,metadata,user_id}' = $1::uuid::text
                                   or e.payload #>> '{data,object,client_reference_id}' = $1::uuid::text)
           ) as "document!""#,
        user_id,
        customer
    )
    .fetch_one(&mut *conn)
    .await
}
