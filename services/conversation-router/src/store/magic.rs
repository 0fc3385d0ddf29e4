//! Magic links (only the SHA-256 of the token is stored; one-time use) and what the LinkUp
//! page shows.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// Stores a new link for `user_id` to `linkup_id`; `false` when that hash exists (a replay).
#[tracing::instrument(skip_all)]
pub async fn mint(
    tx: &mut PgConnection,
    user_id: Uuid,
    linkup_id: Uuid,
    token_hash: &str,
    expires_at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "insert into magic_links (user_id, token_hash, purpose, linkup_id, expires_at)
         values ($1, $2, 'linkup_page', $3, $4) on conflict (token_hash) do nothing",
        user_id,
        token_hash,
        linkup_id,
        expires_at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether this user already has a live link to this LinkUp (so a redelivered lock mints none).
#[tracing::instrument(skip_all)]
pub async fn has_link(
    tx: &mut PgConnection,
    user_id: Uuid,
    linkup_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from magic_links where user_id = $1 and linkup_id = $2) as "e!""#,
        user_id,
        linkup_id
    )
    .fetch_one(&mut *tx)
    .await
}

/// Consumes the link with `token_hash` if it is unused and unexpired; its user and LinkUp.
#[tracing::instrument(skip_all)]
pub async fn consume(
    tx: &mut PgConnection,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<(Uuid, Option<Uuid>)>, sqlx::Error> {
    let row = sqlx::query!(
        "update magic_links set consumed_at = $2
         where token_hash = $1 and consumed_at is null and expires_at > $2
         returning user_id, linkup_id",
        token_hash,
        now
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.user_id, r.linkup_id)))
}

/// What the LinkUp page shows.
#[derive(Debug, Clone)]
pub struct Page {
    /// `linkup_state` label.
    pub state: String,
    /// Catalog display name.
    pub activity: Option<String>,
    /// Bucket, e.g. `SAT_MORNING`.
    pub time_window: Option<String>,
    /// When it happens.
    pub event_time: Option<OffsetDateTime>,
    /// Area or venue suggestion (never an exact address).
    pub place: Option<String>,
    /// Confirmed participants' first names.
    pub first_names: Vec<String>,
    /// The region's time zone.
    pub timezone: Option<String>,
}

/// The page of `linkup_id`.
#[tracing::instrument(skip_all)]
pub async fn page(tx: &mut PgConnection, linkup_id: Uuid) -> Result<Option<Page>, sqlx::Error> {
    sqlx::query_as!(
        Page,
        r#"select l.state::text as "state!",
                  coalesce(a.display_name, l.brief ->> 'activity_key') as activity,
                  l.brief ->> 'time_window' as time_window, l.event_time,
                  coalesce(l.venue ->> 'name', l.venue ->> 'area', l.brief ->> 'location_hint') as place,
                  array(select u.first_name from linkup_participants p join users u on u.id = p.user_id
                        where p.linkup_id = l.id and p.status <> 'canceled'
                        order by p.role desc, p.joined_at) as "first_names!",
                  r.rules ->> 'timezone' as timezone
           from linkups l
           join regions r on r.id = l.region_id
           left join activities a on a.key = l.brief ->> 'activity_key'
           where l.id = $1"#,
        linkup_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Whether a link with `token_hash` exists at all (used or not).
#[tracing::instrument(skip_all)]
pub async fn exists(tx: &mut PgConnection, token_hash: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select exists(select 1 from magic_links where token_hash = $1) as "e!""#,
        token_hash
    )
    .fetch_one(&mut *tx)
    .await
}
