//! Deleting an account, one path for the person's own DELETE and for ops (`joshctl user
//! delete`): the users row is soft-deleted and everything the router holds that identifies the
//! person is scrubbed, and `identity.user_deleted` tells every other service to scrub theirs,
//! all in one transaction. Opt-out records stay (carrier compliance).

use proto::v1::{DeletionSource, UserDeleted};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Context;
use crate::error::RouterError;
use crate::events;
use crate::store::{accounts, identity};

/// Who deleted the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedBy {
    /// The person, by texting DELETE and confirming.
    Person,
    /// An admin (admin_users.id) on the person's request.
    Admin(Uuid),
}

/// Soft-deletes `user_id`, scrubs the router's tables and publishes `identity.user_deleted`
/// caused by `cause`. False when there is no such user or it was already deleted (nothing
/// changes, nothing is published).
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn delete_account(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &proto::Envelope,
    user_id: Uuid,
    by: DeletedBy,
) -> Result<bool, RouterError> {
    let Some(person) = accounts::lock_identifiers(tx, user_id).await? else {
        return Ok(false);
    };
    let now = ctx.clock.now();
    accounts::soft_delete(tx, user_id, now).await?;
    accounts::forget_registrations(tx, user_id, &person.phone_hash).await?;
    let key = format!("user:{user_id}:deleted");
    let correlation = Uuid::parse_str(&cause.correlation_id).ok();
    identity::record_transition(
        tx,
        "user",
        user_id,
        "deleted",
        (Some(&person.state), Some("deleted")),
        &key,
        correlation,
    )
    .await?;
    let needles = [
        user_id.to_string(),
        person.phone_e164,
        person.phone_hash.clone(),
    ];
    bus::outbox::forget_published(tx, crate::SERVICE, &needles).await?;
    let (source, admin) = match by {
        DeletedBy::Person => (DeletionSource::Sms, String::new()),
        DeletedBy::Admin(id) => (DeletionSource::Admin, id.to_string()),
    };
    let fact = UserDeleted {
        user_id: user_id.to_string(),
        phone_hash: person.phone_hash,
        source: source.into(),
        deleted_by_admin_id: admin,
        deleted_at: Some(proto::timestamp::to_timestamp(now)),
    };
    let user = user_id.to_string();
    events::publish(
        tx,
        cause,
        fact,
        format!("identity.user_deleted:{user}"),
        &user,
    )
    .await?;
    Ok(true)
}
