//! `linkups` rows.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A LinkUp as the use cases need it.
#[derive(Debug, Clone)]
pub struct Linkup {
    /// linkups.id.
    pub id: Uuid,
    /// Who started it.
    pub initiator_user_id: Uuid,
    /// Its region.
    pub region_id: Uuid,
    /// `draft`, `broadcasting`, `locked`, ...
    pub state: String,
    /// The brief (LinkupBrief as JSON, plus the resolved windows).
    pub brief: serde_json::Value,
    /// When accepting ends.
    pub acceptance_window_ends_at: Option<OffsetDateTime>,
    /// When it happens (option A's start until the lock picks).
    pub event_time: Option<OffsetDateTime>,
    /// Group size bounds, initiator included.
    pub min_size: i32,
    /// Group size bounds, initiator included.
    pub max_size: i32,
    /// Bumped by each guarded transition.
    pub lock_version: i32,
    /// When it locked.
    pub locked_at: Option<OffsetDateTime>,
    /// Carried through its events.
    pub correlation_id: Option<Uuid>,
    /// Waves sent so far.
    pub wave_count: i32,
}

/// What a new LinkUp starts with.
#[derive(Debug, Clone)]
pub struct NewLinkup<'a> {
    /// The create key (unique).
    pub create_key: &'a str,
    /// Initiator.
    pub initiator_user_id: Uuid,
    /// Region.
    pub region_id: Uuid,
    /// Brief JSON.
    pub brief: &'a serde_json::Value,
    /// Sizes.
    pub min_size: i32,
    /// Sizes.
    pub max_size: i32,
    /// Correlation id of the request.
    pub correlation_id: Option<Uuid>,
    /// Now.
    pub at: OffsetDateTime,
}

/// Inserts a draft LinkUp, or returns `None` when its create key exists.
#[tracing::instrument(skip_all)]
pub async fn insert_draft(
    tx: &mut PgConnection,
    new: &NewLinkup<'_>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into linkups (initiator_user_id, region_id, state, brief, min_size, max_size,
                              correlation_id, linkup_create_key, created_at, updated_at)
         values ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $8)
         on conflict (linkup_create_key) do nothing
         returning id",
        new.initiator_user_id,
        new.region_id,
        new.brief,
        new.min_size,
        new.max_size,
        new.correlation_id,
        new.create_key,
        new.at
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Moves a draft to broadcasting with its acceptance window and event time.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn start_broadcast(
    tx: &mut PgConnection,
    id: Uuid,
    window_ends_at: OffsetDateTime,
    event_time: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update linkups set state = 'broadcasting', broadcast_started_at = $2,
                acceptance_window_ends_at = $3, event_time = $4
         where id = $1 and state = 'draft'",
        id,
        at,
        window_ends_at,
        event_time
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Reads a LinkUp and locks its row until the transaction ends: every change to a LinkUp (a
/// reply, a wave, a lock, a timer) takes this lock first, so they apply one at a time.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn lock_row(tx: &mut PgConnection, id: Uuid) -> Result<Option<Linkup>, sqlx::Error> {
    sqlx::query_as!(
        Linkup,
        r#"select id, initiator_user_id, region_id, state::text as "state!", brief,
                  acceptance_window_ends_at, event_time, min_size, max_size, lock_version,
                  locked_at, correlation_id, wave_count
           from linkups where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Locks a broadcasting LinkUp, guarded by state and `lock_version`; false when another
/// transition got there first.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn mark_locked(
    tx: &mut PgConnection,
    id: Uuid,
    lock_version: i32,
    event_time: Option<OffsetDateTime>,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update linkups set state = 'locked', locked_at = $3, lock_version = lock_version + 1,
                event_time = coalesce($4, event_time)
         where id = $1 and state = 'broadcasting' and lock_version = $2",
        id,
        lock_version,
        at,
        event_time
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Moves a LinkUp from `from` to `to` (expired, canceled, completed), guarded by
/// `lock_version`; false when it was not in `from` any more.
#[tracing::instrument(skip_all, fields(linkup_id = %id, to))]
pub async fn transition(
    tx: &mut PgConnection,
    id: Uuid,
    from: &str,
    to: &str,
    lock_version: i32,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update linkups set state = $3::text::linkup_state, lock_version = lock_version + 1,
                completed_at = case when $3 = 'completed' then $5 else completed_at end,
                post_event_initiated_at = case when $3 = 'completed' then $5 else post_event_initiated_at end
         where id = $1 and state = $2::text::linkup_state and lock_version = $4",
        id,
        from,
        to,
        lock_version,
        at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Counts a sent wave.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn bump_wave_count(
    tx: &mut PgConnection,
    id: Uuid,
    wave: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update linkups set wave_count = greatest(wave_count, $2) where id = $1",
        id,
        wave
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The users confirmed in a LinkUp: the initiator first, then in the order they joined and
/// said yes (so the lock notice and the post-event questions list people the same way).
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn participants(tx: &mut PgConnection, id: Uuid) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "select p.user_id from linkup_participants p
           left join linkup_invites i on i.linkup_id = p.linkup_id and i.invited_user_id = p.user_id
         where p.linkup_id = $1 and p.status = 'confirmed'
         order by (p.role = 'initiator') desc, p.joined_at, i.responded_at, p.user_id",
        id
    )
    .fetch_all(&mut *tx)
    .await
}

/// Adds participants once each.
#[tracing::instrument(skip_all, fields(linkup_id = %id, n = users.len()))]
pub async fn add_participants(
    tx: &mut PgConnection,
    id: Uuid,
    initiator: Uuid,
    users: &[Uuid],
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into linkup_participants (linkup_id, user_id, role, joined_at, created_at, updated_at)
         select $1, u, case when u = $2 then 'initiator' else 'participant' end, $4, $4, $4
         from unnest($3::uuid[]) as u
         on conflict (linkup_id, user_id) do nothing",
        id,
        initiator,
        users,
        at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The LinkUp with this create key, if any.
#[tracing::instrument(skip_all)]
pub async fn by_create_key(tx: &mut PgConnection, key: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("select id from linkups where linkup_create_key = $1", key)
        .fetch_optional(&mut *tx)
        .await
}

/// Cancels a LinkUp in state `from`, guarded by `lock_version`, recording the reason.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn cancel(
    tx: &mut PgConnection,
    id: Uuid,
    from: &str,
    lock_version: i32,
    reason: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update linkups set state = 'canceled', canceled_reason = $4, lock_version = lock_version + 1
         where id = $1 and state = $2::text::linkup_state and lock_version = $3",
        id,
        from,
        lock_version,
        reason
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// The region timezone stored in a LinkUp's brief.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn timezone(tx: &mut PgConnection, id: Uuid) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar!("select brief->>'timezone' from linkups where id = $1", id)
            .fetch_optional(&mut *tx)
            .await?
            .flatten(),
    )
}
