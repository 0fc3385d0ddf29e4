//! Reads of other services' tables: users, profiles, regions, entitlements, holds, activities.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::out::Contact;

/// Everything the create check reads about an initiator and a region.
#[derive(Debug, Clone)]
pub struct Initiator {
    /// users.state.
    pub user_state: Option<String>,
    /// Suspended or deleted.
    pub removed: bool,
    /// profiles.state.
    pub profile_state: Option<String>,
    /// The region is open and not paused, and the user an active member of it.
    pub region_ok: bool,
    /// eligible_to_initiate and not expired.
    pub may_initiate: bool,
    /// A safety hold is in force.
    pub held: bool,
}

/// Reads the initiator's eligibility at `now`.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn initiator(
    tx: &mut PgConnection,
    user_id: Uuid,
    region_id: Uuid,
    now: OffsetDateTime,
) -> Result<Initiator, sqlx::Error> {
    let row = sqlx::query!(
        r#"select u.state::text as user_state,
                  (u.suspended_at is not null or u.deleted_at is not null) as "removed!",
                  (select p.state::text from profiles p where p.user_id = u.id) as profile_state,
                  exists(select 1 from regions r join region_memberships m on m.region_id = r.id
                         where r.id = $2 and r.state = 'open'
                           and coalesce(r.rules->'paused', 'false'::jsonb) <> 'true'::jsonb
                           and m.user_id = u.id and m.status = 'active') as "region_ok!",
                  exists(select 1 from entitlements e where e.user_id = u.id and e.eligible_to_initiate
                         and (e.expires_at is null or e.expires_at > $3)) as "may_initiate!",
                  exists(select 1 from safety_holds h where h.user_id = u.id and h.state <> 'none'
                         and h.cleared_at is null and (h.expires_at is null or h.expires_at > $3)) as "held!"
           from users u where u.id = $1"#,
        user_id,
        region_id,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map_or(
        Initiator {
            user_state: None,
            removed: true,
            profile_state: None,
            region_ok: false,
            may_initiate: false,
            held: false,
        },
        |r| Initiator {
            user_state: r.user_state,
            removed: r.removed,
            profile_state: r.profile_state,
            region_ok: r.region_ok,
            may_initiate: r.may_initiate,
            held: r.held,
        },
    ))
}

/// The region's timezone (rules.timezone), if it names one.
#[tracing::instrument(skip_all, fields(region_id = %region_id))]
pub async fn region_timezone(
    tx: &mut PgConnection,
    region_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "select rules->>'timezone' from regions where id = $1",
        region_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten())
}

/// Whether ops paused the region (`rules.paused`, product-rules §8): no invites go out there.
#[tracing::instrument(skip_all, fields(region_id = %region_id))]
pub async fn region_paused(tx: &mut PgConnection, region_id: Uuid) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        r#"select coalesce(rules->'paused', 'false'::jsonb) = 'true'::jsonb as "paused!"
             from regions where id = $1"#,
        region_id
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or(false))
}

/// An activity's display name and category, if it is in the active catalog.
#[tracing::instrument(skip_all, fields(key))]
pub async fn activity(
    tx: &mut PgConnection,
    key: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query!(
        "select display_name, category from activities where key = $1 and active",
        key
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.display_name, r.category)))
}

/// Phone contacts of `users`, in the order given (unknown users skipped).
#[tracing::instrument(skip_all, fields(n = users.len()))]
pub async fn contacts(tx: &mut PgConnection, users: &[Uuid]) -> Result<Vec<Contact>, sqlx::Error> {
    let mut rows = sqlx::query_as!(
        Contact,
        "select id as user_id, first_name, phone_e164, phone_hash from users where id = any($1)",
        users
    )
    .fetch_all(&mut *tx)
    .await?;
    rows.sort_by_key(|c| users.iter().position(|u| *u == c.user_id));
    Ok(rows)
}

/// Profiles of `users` for scoring: (user, fingerprint, activity patterns).
#[tracing::instrument(skip_all, fields(n = users.len()))]
pub async fn profiles(
    tx: &mut PgConnection,
    users: &[Uuid],
) -> Result<Vec<(Uuid, serde_json::Value, serde_json::Value)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select user_id, fingerprint, activity_patterns from profiles where user_id = any($1)",
        users
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.user_id, r.fingerprint, r.activity_patterns))
        .collect())
}

/// Those of `users` who may no longer take part: a hold in force, no participation
/// entitlement, or a block either way with anyone in `group` (re-checked at lock).
#[tracing::instrument(skip_all, fields(n = users.len()))]
pub async fn now_ineligible(
    tx: &mut PgConnection,
    users: &[Uuid],
    group: &[Uuid],
    now: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select u as "u!" from unnest($1::uuid[]) as u
           where exists(select 1 from safety_holds h where h.user_id = u and h.state <> 'none'
                        and h.cleared_at is null and (h.expires_at is null or h.expires_at > $2))
              or not exists(select 1 from entitlements e where e.user_id = u and e.eligible_to_participate
                        and (e.expires_at is null or e.expires_at > $2))
              or exists(select 1 from user_blocks b
                        where (b.blocker_user_id = u and b.blocked_user_id = any($3))
                           or (b.blocked_user_id = u and b.blocker_user_id = any($3)))"#,
        users,
        now,
        group
    )
    .fetch_all(&mut *tx)
    .await
}
