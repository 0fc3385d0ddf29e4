//! What the admin API reads: one LinkUp in full, a person's LinkUps, and a person's rows for an
//! export.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A LinkUp as the admin view shows it.
#[derive(Debug, Clone)]
pub struct LinkupRow {
    /// linkups.id.
    pub id: Uuid,
    /// Its state.
    pub state: String,
    /// The stored brief.
    pub brief: serde_json::Value,
    /// The region's slug.
    pub region: Option<String>,
    /// Who started it.
    pub initiator_user_id: Uuid,
    /// Their first name.
    pub initiator_first_name: Option<String>,
    /// Group size bounds.
    pub min_size: i32,
    /// Group size bounds.
    pub max_size: i32,
    /// Bumped by each guarded transition.
    pub lock_version: i32,
    /// Why it was canceled.
    pub canceled_reason: Option<String>,
    /// Key times.
    pub created_at: OffsetDateTime,
    /// Key times.
    pub updated_at: OffsetDateTime,
    /// Key times.
    pub broadcast_started_at: Option<OffsetDateTime>,
    /// Key times.
    pub acceptance_window_ends_at: Option<OffsetDateTime>,
    /// Key times.
    pub locked_at: Option<OffsetDateTime>,
    /// Key times.
    pub event_time: Option<OffsetDateTime>,
    /// Key times.
    pub completed_at: Option<OffsetDateTime>,
}

/// One LinkUp, if it exists.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn linkup(tx: &mut PgConnection, id: Uuid) -> Result<Option<LinkupRow>, sqlx::Error> {
    sqlx::query_as!(
        LinkupRow,
        r#"select l.id, l.state::text as "state!", l.brief, r.slug as "region?",
                  l.initiator_user_id, u.first_name as "initiator_first_name?", l.min_size,
                  l.max_size, l.lock_version, l.canceled_reason, l.created_at, l.updated_at,
                  l.broadcast_started_at, l.acceptance_window_ends_at, l.locked_at, l.event_time,
                  l.completed_at
             from linkups l
             left join regions r on r.id = l.region_id
             left join users u on u.id = l.initiator_user_id
            where l.id = $1"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// A participant row.
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// users.id.
    pub user_id: Uuid,
    /// Their first name.
    pub first_name: Option<String>,
    /// initiator or participant.
    pub role: String,
    /// confirmed, canceled, no_show or attended.
    pub status: String,
    /// When they joined.
    pub joined_at: OffsetDateTime,
    /// When they left.
    pub left_at: Option<OffsetDateTime>,
}

/// The LinkUp's participants, the initiator first, then by joining.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn members(tx: &mut PgConnection, id: Uuid) -> Result<Vec<MemberRow>, sqlx::Error> {
    sqlx::query_as!(
        MemberRow,
        r#"select p.user_id, u.first_name as "first_name?", p.role, p.status, p.joined_at, p.left_at
             from linkup_participants p left join users u on u.id = p.user_id
            where p.linkup_id = $1
            order by (p.role = 'initiator') desc, p.joined_at, p.user_id"#,
        id
    )
    .fetch_all(&mut *tx)
    .await
}

/// An invite row.
#[derive(Debug, Clone)]
pub struct InviteRow {
    /// linkup_invites.id.
    pub id: Uuid,
    /// Who was invited.
    pub user_id: Uuid,
    /// Their first name.
    pub first_name: Option<String>,
    /// The wave it went out in.
    pub wave: i32,
    /// Its state.
    pub state: String,
    /// A or B, when accepted.
    pub selected_option: Option<String>,
    /// Times.
    pub sent_at: Option<OffsetDateTime>,
    /// Times.
    pub responded_at: Option<OffsetDateTime>,
    /// Times.
    pub expires_at: Option<OffsetDateTime>,
    /// Times.
    pub closed_at: Option<OffsetDateTime>,
}

/// Every invite of the LinkUp, by wave and sending time.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn invites(tx: &mut PgConnection, id: Uuid) -> Result<Vec<InviteRow>, sqlx::Error> {
    sqlx::query_as!(
        InviteRow,
        r#"select i.id, i.invited_user_id as user_id, u.first_name as "first_name?",
                  i.wave_number as wave, i.state::text as "state!", i.selected_option, i.sent_at,
                  i.responded_at, i.expires_at, i.closed_at
             from linkup_invites i left join users u on u.id = i.invited_user_id
            where i.linkup_id = $1
            order by i.wave_number, i.sent_at, i.id"#,
        id
    )
    .fetch_all(&mut *tx)
    .await
}

/// A wave (match run).
#[derive(Debug, Clone, Copy)]
pub struct WaveRow {
    /// Its number.
    pub wave: i32,
    /// How far the floors were relaxed.
    pub relaxation_level: i32,
    /// Candidates scored.
    pub pool_size: Option<i32>,
    /// People invited.
    pub invited_count: Option<i32>,
    /// When it ran.
    pub started_at: OffsetDateTime,
}

/// The LinkUp's waves in order.
#[tracing::instrument(skip_all, fields(linkup_id = %id))]
pub async fn waves(tx: &mut PgConnection, id: Uuid) -> Result<Vec<WaveRow>, sqlx::Error> {
    sqlx::query_as!(
        WaveRow,
        "select wave_number as wave, relaxation_level, pool_size, invited_count, started_at
           from match_runs where linkup_id = $1 order by wave_number, started_at",
        id
    )
    .fetch_all(&mut *tx)
    .await
}

/// One of a person's LinkUps.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    /// linkups.id.
    pub id: Uuid,
    /// Its state.
    pub state: String,
    /// The activity's display name.
    pub activity: Option<String>,
    /// initiator, participant or invitee.
    pub relation: String,
    /// The participant status or the invite state.
    pub status: Option<String>,
    /// When it happens.
    pub event_time: Option<OffsetDateTime>,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// The LinkUps `user` started, joined or was invited to, newest first, at most `limit`.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn of_user(
    tx: &mut PgConnection,
    user: Uuid,
    limit: i64,
) -> Result<Vec<SummaryRow>, sqlx::Error> {
    sqlx::query_as!(
        SummaryRow,
        r#"select l.id, l.state::text as "state!", l.brief->>'activity_name' as activity,
                  case when l.initiator_user_id = $1 then 'initiator'
                       when p.user_id is not null then 'participant'
                       else 'invitee' end as "relation!",
                  coalesce(p.status, i.state::text) as status, l.event_time, l.created_at
             from linkups l
             left join linkup_participants p on p.linkup_id = l.id and p.user_id = $1
             left join linkup_invites i on i.linkup_id = l.id and i.invited_user_id = $1
            where l.initiator_user_id = $1 or p.user_id is not null or i.id is not null
            order by l.created_at desc, l.id desc
            limit $2"#,
        user,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}

/// The matcher's rows about `user` as one JSON object, table name -> rows: the LinkUps they
/// started, their invites (with the scores that chose them), participations, outcomes, the
/// contact choices they made and the exchanges they are part of. Other people appear only as
/// ids.
#[tracing::instrument(skip_all, fields(%user))]
pub async fn export(tx: &mut PgConnection, user: Uuid) -> Result<serde_json::Value, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select jsonb_build_object(
             'linkups', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]')
                           from linkups t where t.initiator_user_id = $1),
             'linkup_invites', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]')
                                  from linkup_invites t where t.invited_user_id = $1),
             'linkup_participants', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]')
                                       from linkup_participants t where t.user_id = $1),
             'linkup_outcomes', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]')
                                   from linkup_outcomes t where t.user_id = $1),
             'contact_exchange_choices', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]')
                                            from contact_exchange_choices t where t.chooser_user_id = $1),
             'contact_exchanges', (select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at), '[]')
                                     from contact_exchanges t where $1 in (t.user_a_id, t.user_b_id))
           ) as "document!""#,
        user
    )
    .fetch_one(&mut *tx)
    .await
}
