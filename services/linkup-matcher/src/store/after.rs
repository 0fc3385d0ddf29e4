//! After the event: `linkup_outcomes`, `contact_exchange_choices`, `contact_exchanges`, and
//! participant status.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// The LinkUp's state and whether `user` is a participant in it (any status).
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn membership(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    user: Uuid,
) -> Result<Option<(String, Option<String>)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"select l.state::text as "state!",
                  (select p.status from linkup_participants p where p.linkup_id = l.id and p.user_id = $2) as status
           from linkups l where l.id = $1"#,
        linkup_id,
        user
    )
    .fetch_optional(&mut *tx)
    .await?;
    Ok(row.map(|r| (r.state, r.status)))
}

/// Stores a participant's answers (a new answer replaces the old); returns the attendance
/// stored before, if any.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn upsert_outcome(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    user: Uuid,
    attendance: Option<&str>,
    do_again: Option<bool>,
    at: OffsetDateTime,
) -> Result<Option<String>, sqlx::Error> {
    let before = sqlx::query_scalar!(
        "select attendance_response from linkup_outcomes where linkup_id = $1 and user_id = $2 for update",
        linkup_id,
        user
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    sqlx::query!(
        "insert into linkup_outcomes (linkup_id, user_id, attendance_response, do_again, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)
         on conflict (linkup_id, user_id) do update
           set attendance_response = coalesce(excluded.attendance_response, linkup_outcomes.attendance_response),
               do_again = coalesce(excluded.do_again, linkup_outcomes.do_again)",
        linkup_id,
        user,
        attendance,
        do_again,
        at
    )
    .execute(&mut *tx)
    .await?;
    if let Some(status) = attendance.and_then(|a| match a {
        "attended" => Some("attended"),
        "no_show" => Some("no_show"),
        _ => None,
    }) {
        sqlx::query!(
            "update linkup_participants set status = $3 where linkup_id = $1 and user_id = $2 and status <> 'canceled'",
            linkup_id,
            user,
            status
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(before)
}

/// Records `chooser`'s choice about `target` (replacing an earlier one).
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn choose(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    chooser: Uuid,
    target: Uuid,
    choice: bool,
    at: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into contact_exchange_choices (linkup_id, chooser_user_id, target_user_id, choice, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5)
         on conflict (linkup_id, chooser_user_id, target_user_id) do update set choice = excluded.choice",
        linkup_id,
        chooser,
        target,
        choice,
        at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Whether `target` said yes to `chooser` in this LinkUp.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn said_yes(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    chooser: Uuid,
    target: Uuid,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar!(
        "select choice from contact_exchange_choices where linkup_id = $1 and chooser_user_id = $2 and target_user_id = $3",
        linkup_id,
        chooser,
        target
    )
    .fetch_optional(&mut *tx)
    .await?
    .unwrap_or(false))
}

/// Stores the pair once, in canonical order; `None` when it existed.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn insert_exchange(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    pair: (Uuid, Uuid),
    at: OffsetDateTime,
) -> Result<Option<Uuid>, sqlx::Error> {
    let (a, b) = if pair.0 < pair.1 {
        pair
    } else {
        (pair.1, pair.0)
    };
    sqlx::query_scalar!(
        "insert into contact_exchanges (linkup_id, user_a_id, user_b_id, revealed_at, created_at, updated_at)
         values ($1, $2, $3, $4, $4, $4)
         on conflict (linkup_id, user_a_id, user_b_id) do nothing
         returning id",
        linkup_id,
        a,
        b,
        at
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Marks a participant dropped; false when they were not confirmed.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn drop_participant(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    user: Uuid,
    at: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update linkup_participants set status = 'canceled', left_at = $3
         where linkup_id = $1 and user_id = $2 and status = 'confirmed'",
        linkup_id,
        user,
        at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Records `no_response` for every participant who never answered the attendance question;
/// returns who.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup_id))]
pub async fn close_prompts(
    tx: &mut PgConnection,
    linkup_id: Uuid,
    at: OffsetDateTime,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into linkup_outcomes (linkup_id, user_id, attendance_response, created_at, updated_at)
         select $1, p.user_id, 'no_response', $2, $2 from linkup_participants p
         where p.linkup_id = $1 and p.status <> 'canceled'
         on conflict (linkup_id, user_id) do update set attendance_response = 'no_response'
           where linkup_outcomes.attendance_response is null
         returning user_id",
        linkup_id,
        at
    )
    .fetch_all(&mut *tx)
    .await
}

/// The LinkUps where `user` holds a pending invite, and those they started that still broadcast.
#[tracing::instrument(skip_all)]
pub async fn open_involvement(
    tx: &mut PgConnection,
    user: Uuid,
) -> Result<(Vec<Uuid>, Vec<Uuid>), sqlx::Error> {
    let invited = sqlx::query_scalar!(
        "select linkup_id from linkup_invites where invited_user_id = $1 and state = 'pending' order by linkup_id",
        user
    )
    .fetch_all(&mut *tx)
    .await?;
    let started = sqlx::query_scalar!(
        "select id from linkups where initiator_user_id = $1 and state = 'broadcasting' order by id",
        user
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok((invited, started))
}

/// What a deleted person is still part of: LinkUps where their invite is pending or accepted
/// while the LinkUp is broadcasting, and upcoming locked LinkUps where they hold a place.
#[tracing::instrument(skip_all)]
pub async fn open_places(
    tx: &mut PgConnection,
    user: Uuid,
    now: OffsetDateTime,
) -> Result<(Vec<Uuid>, Vec<Uuid>), sqlx::Error> {
    let invited = sqlx::query_scalar!(
        "select i.linkup_id from linkup_invites i join linkups l on l.id = i.linkup_id
          where i.invited_user_id = $1 and i.state in ('pending', 'accepted')
            and l.state = 'broadcasting'
          order by i.linkup_id",
        user
    )
    .fetch_all(&mut *tx)
    .await?;
    let locked = sqlx::query_scalar!(
        "select p.linkup_id from linkup_participants p join linkups l on l.id = p.linkup_id
          where p.user_id = $1 and p.status = 'confirmed' and l.state = 'locked'
            and (l.event_time is null or l.event_time > $2)
          order by p.linkup_id",
        user,
        now
    )
    .fetch_all(&mut *tx)
    .await?;
    Ok((invited, locked))
}
