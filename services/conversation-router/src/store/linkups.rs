//! What the router reads and records about LinkUps: the user's region, its request log (the
//! daily limit and the create key), and the matcher's LinkUps it talks about.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The user's region and membership.
#[derive(Debug, Clone)]
pub struct Placement {
    /// Region id.
    pub region_id: Uuid,
    /// Shown to people.
    pub display_name: String,
    /// `region_state` label.
    pub region_state: String,
    /// `membership_status` label, if a membership exists.
    pub membership: Option<String>,
    /// IANA time zone.
    pub timezone: Option<String>,
    /// `rules.paused`: ops closed the region for now (product-rules §8).
    pub paused: bool,
}

/// Where the user is placed, if anywhere.
#[tracing::instrument(skip_all)]
pub async fn placement(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<Placement>, sqlx::Error> {
    sqlx::query_as!(
        Placement,
        r#"select r.id as region_id, r.display_name, r.state::text as "region_state!",
                  m.status::text as membership, r.rules ->> 'timezone' as timezone,
                  coalesce(r.rules -> 'paused', 'false'::jsonb) = 'true'::jsonb as "paused!"
           from users u
           join regions r on r.id = u.region_id
           left join region_memberships m on m.user_id = u.id and m.region_id = r.id
           where u.id = $1"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// How many LinkUps the user asked for since `since`.
#[tracing::instrument(skip_all)]
pub async fn requests_since(
    tx: &mut PgConnection,
    user_id: Uuid,
    since: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from linkup_requests where user_id = $1 and requested_at >= $2"#,
        user_id,
        since
    )
    .fetch_one(&mut *tx)
    .await
}

/// A request to record.
#[derive(Debug)]
pub struct NewRequest<'a> {
    /// Who asked.
    pub user_id: Uuid,
    /// The create key.
    pub request_key: &'a str,
    /// The brief as JSON.
    pub brief: serde_json::Value,
    /// The text it came from.
    pub source_message_sid: &'a str,
    /// When.
    pub requested_at: OffsetDateTime,
}

/// Records a request; `false` when one with the same create key exists (a repeat).
#[tracing::instrument(skip_all)]
pub async fn record_request(
    tx: &mut PgConnection,
    req: &NewRequest<'_>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "insert into linkup_requests (user_id, request_key, brief, source_message_sid, requested_at)
         values ($1, $2, $3, $4, $5) on conflict (request_key) do nothing",
        req.user_id,
        req.request_key,
        req.brief,
        req.source_message_sid,
        req.requested_at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A LinkUp as the router describes it in texts.
#[derive(Debug, Clone)]
pub struct LinkupSummary {
    /// Id.
    pub id: Uuid,
    /// `linkup_state` label.
    pub state: String,
    /// Catalog key.
    pub activity_key: Option<String>,
    /// Bucket, e.g. `SAT_MORNING`.
    pub time_window: Option<String>,
    /// When it happens.
    pub event_time: Option<OffsetDateTime>,
}

/// The LinkUp `linkup_id`, if it exists.
#[tracing::instrument(skip_all)]
pub async fn summary(
    tx: &mut PgConnection,
    linkup_id: Uuid,
) -> Result<Option<LinkupSummary>, sqlx::Error> {
    sqlx::query_as!(
        LinkupSummary,
        r#"select id, state::text as "state!", brief ->> 'activity_key' as activity_key,
                  brief ->> 'time_window' as time_window, event_time
           from linkups where id = $1"#,
        linkup_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// The user's next LinkUp they could leave: one they started (forming or locked) or joined
/// (locked), soonest first; `(linkup id, whether they started it)`.
#[tracing::instrument(skip_all)]
pub async fn next_to_leave(
    tx: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<(Uuid, bool)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select l.id, (l.initiator_user_id = $1) as "initiator!"
           from linkups l
           where ((l.initiator_user_id = $1 and l.state in ('broadcasting', 'locked'))
                  or (l.state = 'locked' and exists (
                        select 1 from linkup_participants p
                        where p.linkup_id = l.id and p.user_id = $1 and p.status = 'confirmed')))
             and (l.event_time is null or l.event_time > $2)
           order by l.event_time nulls last
           limit 1"#,
        user_id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.id, r.initiator)))
}
