//! Account-level actions: blocks, reports, the people someone met, and deletion.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// People who shared a LinkUp with `user_id` (most recent first, at most 9): (id, first name,
/// LinkUp id).
#[tracing::instrument(skip_all)]
pub async fn past_companions(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Vec<(Uuid, String, Uuid)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select distinct on (other.user_id) other.user_id, u.first_name, other.linkup_id,
                  mine.joined_at
           from linkup_participants mine
           join linkup_participants other
             on other.linkup_id = mine.linkup_id and other.user_id <> mine.user_id
           join users u on u.id = other.user_id and u.deleted_at is null
           where mine.user_id = $1
           order by other.user_id, mine.joined_at desc"#,
        user_id
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut people: Vec<_> = rows
        .into_iter()
        .map(|r| (r.joined_at, (r.user_id, r.first_name, r.linkup_id)))
        .collect();
    people.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.1.cmp(&b.1.1)));
    Ok(people.into_iter().take(9).map(|(_, p)| p).collect())
}

/// Records a block; `false` when it already existed.
#[tracing::instrument(skip_all)]
pub async fn block(
    tx: &mut PgConnection,
    blocker: Uuid,
    blocked: Uuid,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query!(
        "insert into user_blocks (blocker_user_id, blocked_user_id) values ($1, $2)
         on conflict (blocker_user_id, blocked_user_id) do nothing",
        blocker,
        blocked
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Files a report, returning its id.
#[tracing::instrument(skip_all, fields(report_type))]
pub async fn file_report(
    tx: &mut PgConnection,
    reporter: Uuid,
    reported: Uuid,
    report_type: &str,
    details: &serde_json::Value,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into safety_reports (reporter_user_id, reported_user_id, report_type, details)
         values ($1, $2, $3, $4) returning id",
        reporter,
        reported,
        report_type,
        details
    )
    .fetch_one(&mut *tx)
    .await
}

/// What identifies a user before deletion scrubs it.
#[derive(Debug)]
pub struct Identifiers {
    /// E.164 number.
    pub phone_e164: String,
    /// Keyed hash of the number.
    pub phone_hash: String,
    /// `user_state` label.
    pub state: String,
}

/// Locks the users row of a user not yet deleted and returns its identifiers.
#[tracing::instrument(skip_all)]
pub async fn lock_identifiers(
    tx: &mut PgConnection,
    user_id: Uuid,
) -> Result<Option<Identifiers>, sqlx::Error> {
    sqlx::query_as!(
        Identifiers,
        r#"select phone_e164, phone_hash, state::text as "state!" from users
           where id = $1 and deleted_at is null for update"#,
        user_id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Deletes the SMS registrations of the person (names, number, birthday as typed).
#[tracing::instrument(skip_all)]
pub async fn forget_registrations(
    tx: &mut PgConnection,
    user_id: Uuid,
    phone_hash: &str,
) -> Result<u64, sqlx::Error> {
    let deleted = sqlx::query!(
        "delete from sms_registrations where user_id = $1 or phone_hash = $2",
        user_id,
        phone_hash
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(deleted)
}

/// Soft-deletes the account and scrubs what identifies the person: names, birthday, email, ZIP,
/// phone (replaced by a unique placeholder, so the number can register again), the profile, the
/// conversation, codes and links. Opt-out records stay (carrier compliance).
#[tracing::instrument(skip_all)]
pub async fn soft_delete(
    tx: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update users set deleted_at = $2, state = 'deleted', first_name = 'Deleted',
                last_name = 'Deleted', email = null, zip_code = null, birthday = date '1900-01-01',
                phone_e164 = '+999' || lpad((abs(hashtextextended(id::text, 0)) % 100000000000)::text, 11, '0'),
                phone_hash = 'deleted:' || id::text
         where id = $1",
        user_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update profiles set fingerprint = '{}', activity_patterns = '[]', boundaries = '{}',
                preferences = '{}', active_intent = null, state = 'empty'
         where user_id = $1",
        user_id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update region_memberships set released_at = $2 where user_id = $1 and released_at is null",
        user_id,
        now
    )
    .execute(&mut *tx)
    .await?;
    for statement in [
        sqlx::query!(
            "delete from conversation_sessions where user_id = $1",
            user_id
        ),
        sqlx::query!("delete from otp_sessions where user_id = $1", user_id),
        sqlx::query!("delete from magic_links where user_id = $1", user_id),
    ] {
        statement.execute(&mut *tx).await?;
    }
    Ok(())
}
