//! The router admin API's SQL: a user's summary and timeline, holds set by an admin, and opening a
//! region's waitlist (tokens and the audit log are in `admin_auth`).

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The user with this E.164 number or id, if any: `(id, phone_hash)`.
#[tracing::instrument(skip_all)]
pub async fn find_user(
    tx: &mut PgConnection,
    phone_e164: Option<&str>,
    user_id: Option<Uuid>,
) -> Result<Option<(Uuid, String)>, sqlx::Error> {
    let row = sqlx::query!(
        "select id, phone_hash from users where ($1::text is not null and phone_e164 = $1)
            or ($2::uuid is not null and id = $2)
         limit 1",
        phone_e164,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.id, r.phone_hash)))
}

/// What the timeline view shows about a user's current state.
#[derive(Debug, Clone)]
pub struct UserSummary {
    /// `user_state` label.
    pub state: String,
    /// Region slug, if any.
    pub region: Option<String>,
    /// `active` or `waitlisted`, if a member.
    pub membership: Option<String>,
    /// `profile_state` label, if a profile exists.
    pub profile_state: Option<String>,
    /// `conversation_mode` label, if a session exists.
    pub session_mode: Option<String>,
    /// Current hold reason (state comes from `safety::hold_state`).
    pub hold_reason: Option<String>,
    /// Active strike points.
    pub strike_points: i64,
    /// Incidents about the user.
    pub incidents: i64,
    /// Reports against the user.
    pub reports: i64,
}

/// The user's summary at `now`.
#[tracing::instrument(skip_all)]
pub async fn user_summary(
    tx: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<Option<UserSummary>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select u.state::text as "state!",
             (select slug from regions r where r.id = u.region_id) as region,
             (select status from region_memberships m where m.user_id = u.id
                order by (status = 'active') desc limit 1) as membership,
             (select state::text from profiles p where p.user_id = u.id) as profile_state,
             (select mode::text from conversation_sessions s where s.user_id = u.id) as session_mode,
             (select reason from safety_holds h where h.user_id = u.id and h.cleared_at is null)
                as hold_reason,
             (select coalesce(sum(points), 0)::bigint from user_strikes k
                where k.user_id = u.id and k.window_end > $2) as "strike_points!",
             (select count(*) from safety_incidents i where i.user_id = u.id) as "incidents!",
             (select count(*) from safety_reports sr where sr.reported_user_id = u.id) as "reports!"
           from users u where u.id = $1"#,
        user_id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| UserSummary {
        state: r.state,
        region: r.region,
        membership: r.membership,
        profile_state: r.profile_state,
        session_mode: r.session_mode,
        hold_reason: r.hold_reason,
        strike_points: r.strike_points,
        incidents: r.incidents,
        reports: r.reports,
    }))
}

/// One timeline entry: `(at, source table, event type, from -> to)`.
pub type TimelineRow = (OffsetDateTime, String, String, String);

/// The user's domain and profile events, oldest first (at most `limit`; no payload bodies).
#[tracing::instrument(skip_all)]
pub async fn timeline(
    tx: &mut PgConnection,
    user_id: Uuid,
    limit: i64,
) -> Result<Vec<TimelineRow>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select at as "at!", source as "source!", event_type as "event_type!", detail as "detail!"
           from (
             select created_at as at, 'domain_events' as source, event_type,
                    case when from_state is null and to_state is null then ''
                         else coalesce(from_state, '-') || ' -> ' || coalesce(to_state, '-') end
                      as detail
               from domain_events where entity_id = $1
             union all
             select created_at, 'profile_events', event_type, source
               from profile_events where user_id = $1
           ) t order by at, source limit $2"#,
        user_id,
        limit
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.at, r.source, r.event_type, r.detail))
        .collect())
}

/// Sets the user's hold to `state` (`none`, `soft_hold`, `hard_hold`) as `admin`, returning the
/// previous state (an expired or cleared hold counts as `none`).
#[tracing::instrument(skip_all, fields(state))]
pub async fn set_hold(
    tx: &mut PgConnection,
    user_id: Uuid,
    state: &str,
    reason: &str,
    admin: Uuid,
    now: OffsetDateTime,
) -> Result<String, sqlx::Error> {
    let previous = sqlx::query_scalar!(
        r#"select state::text as "state!" from safety_holds where user_id = $1
             and cleared_at is null and (expires_at is null or expires_at > $2) for update"#,
        user_id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or_else(|| "none".to_owned());
    sqlx::query!(
        "insert into safety_holds (user_id, state, reason, applied_at, applied_by_admin, cleared_at)
         values ($1, $2::text::safety_hold_state, $3, $4::timestamptz, $5,
                 case when $2::text = 'none' then $4::timestamptz end)
         on conflict (user_id) do update set state = excluded.state, reason = excluded.reason,
           applied_at = excluded.applied_at, applied_by_admin = excluded.applied_by_admin,
           expires_at = null, cleared_at = excluded.cleared_at",
        user_id,
        state,
        reason,
        now,
        admin
    )
    .execute(&mut *tx)
    .await?;
    Ok(previous)
}

/// A region as the opener sees it.
#[derive(Debug, Clone)]
pub struct RegionRow {
    /// `regions.id`.
    pub id: Uuid,
    /// `region_state` label.
    pub state: String,
    /// Shown to people.
    pub display_name: String,
    /// IANA timezone from the rules, empty when unset.
    pub timezone: String,
    /// Members still waitlisted.
    pub waitlisted: i64,
    /// `rules.paused`: an open region closed for now by ops.
    pub paused: bool,
}

/// The region with this slug, locked for the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn region_for_update(
    tx: &mut PgConnection,
    slug: &str,
) -> Result<Option<RegionRow>, sqlx::Error> {
    sqlx::query_as!(
        RegionRow,
        r#"select id, state::text as "state!", display_name,
                  coalesce(rules->>'timezone', '') as "timezone!",
                  (select count(*) from region_memberships m
                    where m.region_id = r.id and m.status = 'waitlisted') as "waitlisted!",
                  coalesce(rules->'paused', 'false'::jsonb) = 'true'::jsonb as "paused!"
             from regions r where slug = $1 for update"#,
        slug
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Marks the region open.
#[tracing::instrument(skip_all)]
pub async fn open_region(tx: &mut PgConnection, region_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("update regions set state = 'open' where id = $1", region_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Pauses the region (`rules.paused = true`) or resumes it (the key removed).
#[tracing::instrument(skip_all, fields(paused))]
pub async fn set_region_paused(
    tx: &mut PgConnection,
    region_id: Uuid,
    paused: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"update regions
              set rules = case when $2 then rules || '{"paused": true}'::jsonb else rules - 'paused' end,
                  updated_at = now()
            where id = $1"#,
        region_id,
        paused
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A waitlisted member to activate.
#[derive(Debug, Clone)]
pub struct Waiting {
    /// The user.
    pub user_id: Uuid,
    /// E.164 number.
    pub phone_e164: String,
    /// Keyed phone hash.
    pub phone_hash: String,
    /// For the opening text.
    pub first_name: String,
}

/// Up to `limit` waitlisted members of the region, oldest first, locked (skipping rows another
/// opener holds).
#[tracing::instrument(skip_all)]
pub async fn waitlisted_batch(
    tx: &mut PgConnection,
    region_id: Uuid,
    limit: i64,
) -> Result<Vec<Waiting>, sqlx::Error> {
    sqlx::query_as!(
        Waiting,
        "select u.id as user_id, u.phone_e164, u.phone_hash, u.first_name
           from region_memberships m join users u on u.id = m.user_id
          where m.region_id = $1 and m.status = 'waitlisted' and u.deleted_at is null
          order by m.joined_at, m.user_id
          limit $2
          for update of m skip locked",
        region_id,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}

/// Moves the user's waitlisted membership of the region to active.
#[tracing::instrument(skip_all)]
pub async fn activate_membership(
    tx: &mut PgConnection,
    user_id: Uuid,
    region_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update region_memberships set status = 'active'
          where user_id = $1 and region_id = $2 and status = 'waitlisted'",
        user_id,
        region_id
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
