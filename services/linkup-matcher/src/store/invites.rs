//! `linkup_invites` and `match_runs` rows.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// A new invite of one wave.
#[derive(Debug, Clone)]
pub struct NewInvite<'a> {
    /// The LinkUp.
    pub linkup_id: Uuid,
    /// Who.
    pub user_id: Uuid,
    /// 1-based wave.
    pub wave: i32,
    /// `["A","B"]` or null.
    pub offered_options: Option<serde_json::Value>,
    /// Scores, filters and reasons.
    pub explainability: &'a serde_json::Value,
    /// Reply deadline.
    pub expires_at: OffsetDateTime,
    /// Now.
    pub at: OffsetDateTime,
}

/// Inserts an invite once per (LinkUp, user); `None` when it existed.
#[tracing::instrument(skip_all, fields(linkup_id = %new.linkup_id, wave = new.wave))]
pub async fn insert(
    tx: &mut PgConnection,
    new: &NewInvite<'_>,
) -> Result<Option<Uuid>, sqlx::Error> {
    let key = format!("invite:{}:{}", new.linkup_id, new.user_id);
    sqlx::query_scalar!(
        "insert into linkup_invites (linkup_id, invited_user_id, state, offered_options, sent_at,
                                     expires_at, idempotency_key, explainability, wave_number,
                                     created_at, updated_at)
         values ($1, $2, 'pending', $3, $4, $5, $6, $7, $8, $4, $4)
         on conflict do nothing
         returning id",
        new.linkup_id,
        new.user_id,
        new.offered_options,
        new.at,
        new.expires_at,
        key,
        new.explainability,
        new.wave
    )
    .fetch_optional(&mut *tx)
    .await
}

/// An invite as a reply sees it.
#[derive(Debug, Clone)]
pub struct Invite {
    /// linkup_invites.id.
    pub id: Uuid,
    /// The LinkUp.
    pub linkup_id: Uuid,
    /// Who.
    pub invited_user_id: Uuid,
    /// `pending`, `accepted`, ...
    pub state: String,
    /// The option picked, if any.
    pub selected_option: Option<String>,
}

/// Finds an invite by id, or by (LinkUp, user) when `id` is `None`.
#[tracing::instrument(skip_all)]
pub async fn find(
    tx: &mut PgConnection,
    id: Option<Uuid>,
    linkup_user: Option<(Uuid, Uuid)>,
) -> Result<Option<Invite>, sqlx::Error> {
    let (linkup, user) = linkup_user.unzip();
    sqlx::query_as!(
        Invite,
        r#"select id, linkup_id, invited_user_id, state::text as "state!", selected_option
           from linkup_invites
           where ($1::uuid is not null and id = $1)
              or ($1::uuid is null and linkup_id = $2 and invited_user_id = $3)"#,
        id,
        linkup,
        user
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Records a reply on a pending invite; false when it was no longer pending.
#[tracing::instrument(skip_all, fields(invite_id = %id, state))]
pub async fn answer(
    tx: &mut PgConnection,
    id: Uuid,
    state: &str,
    selected_option: Option<&str>,
    message_sid: Option<&str>,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update linkup_invites set state = $2::text::invite_state, selected_option = $3,
                response_message_sid = $4, responded_at = $5
         where id = $1 and state = 'pending'",
        id,
        state,
        selected_option,
        message_sid,
        at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Accepted invitees of a LinkUp with the option each picked, in reply order.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn accepted(
    tx: &mut PgConnection,
    linkup_id: Uuid,
) -> Result<Vec<(Uuid, Option<String>)>, sqlx::Error> {
    let rows = sqlx::query!(
        "select invited_user_id, selected_option from linkup_invites
         where linkup_id = $1 and state = 'accepted' order by responded_at, invited_user_id",
        linkup_id
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.invited_user_id, r.selected_option))
        .collect())
}

/// Closes a LinkUp's invites in `states` (as `to`: `closed` or `expired`); returns
/// (invite id, user, state before) for each.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id, to))]
pub async fn close(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    states: &[&str],
    users: Option<&[Uuid]>,
    to: &str,
    at: OffsetDateTime,
) -> Result<Vec<(Uuid, Uuid, String)>, sqlx::Error> {
    let states: Vec<String> = states.iter().map(|s| (*s).to_owned()).collect();
    let rows = sqlx::query!(
        r#"update linkup_invites i set state = $3::text::invite_state, closed_at = $4
           from (select id, state::text as before from linkup_invites
                 where linkup_id = $1 and state::text = any($2)
                   and ($5::uuid[] is null or invited_user_id = any($5))
                 for update) old
           where i.id = old.id
           returning i.id, i.invited_user_id, old.before as "before!""#,
        linkup_id,
        &states,
        to,
        at,
        users
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.invited_user_id, r.before))
        .collect())
}

/// A candidate search (one per wave) for `match_runs`.
#[derive(Debug, Clone)]
pub struct Run<'a> {
    /// The LinkUp.
    pub linkup_id: Uuid,
    /// The wave.
    pub wave: i32,
    /// Unique per run; also seeds the tie-break hash.
    pub run_key: &'a str,
    /// Weights, floors, sizes, cooldown.
    pub parameters: &'a serde_json::Value,
    /// 0-3.
    pub relaxation_level: i32,
    /// Candidates that passed the hard filters.
    pub pool_size: i32,
    /// Invites sent.
    pub invited_count: i32,
    /// Now.
    pub at: OffsetDateTime,
}

/// Records a candidate search once per run key.
#[tracing::instrument(skip_all, fields(linkup_id = %run.linkup_id, wave = run.wave))]
pub async fn record_run(tx: &mut PgConnection, run: &Run<'_>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into match_runs (linkup_id, wave_number, run_key, scoring_version, parameters,
                                 relaxation_level, pool_size, invited_count, started_at, finished_at, created_at)
         values ($1, $2, $3, 'v1', $4, $5, $6, $7, $8, $8, $8)
         on conflict (run_key) do nothing",
        run.linkup_id,
        run.wave,
        run.run_key,
        run.parameters,
        run.relaxation_level,
        run.pool_size,
        run.invited_count,
        run.at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}
