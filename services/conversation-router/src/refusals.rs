//! The matcher refused a LinkUp request (`linkup.request_refused`): the initiator hears why,
//! in the same words the router uses when it refuses one itself — the waitlist (or the region's
//! pause), the interview to finish, the paywall with a checkout link, the hold, or a later time.

use proto::Envelope;
use proto::v1::{LinkupRequestRefused, RefusalReason, SmsPurpose};
use sqlx::PgConnection;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::interview::{self, steps::Step};
use crate::replies::{self, Origin, Recipient, Reply};
use crate::store::{identity, linkups, profiles, sessions};
use crate::text::when::describe_bucket;

/// Tells the initiator why their request was refused.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn refused(
    tx: &mut PgConnection,
    ctx: &Context,
    envelope: &Envelope,
    e: &LinkupRequestRefused,
) -> Result<(), RouterError> {
    let user_id = e
        .initiator_user_id
        .parse()
        .map_err(|_| RouterError::UnexpectedEvent("a malformed initiator id"))?;
    let Some(person) = identity::contacts(tx, &[user_id]).await?.pop() else {
        return Ok(());
    };
    let text = match e.reason() {
        RefusalReason::Region => match linkups::placement(tx, user_id).await? {
            Some(p) if p.paused => copy::linkup_region_paused(&p.display_name),
            Some(p) => copy::linkup_region_closed(&p.display_name),
            None => copy::linkup_region_closed("your area"),
        },
        RefusalReason::ProfileIncomplete => {
            let doc = profiles::load(tx, user_id).await?;
            let catalog = profiles::activities(tx).await?;
            let step = interview::next_step(&doc, None).unwrap_or(Step::Activity01);
            sessions::set_mode(tx, user_id, "interviewing", &step.token(), None).await?;
            copy::linkup_profile_first(&step.question(&doc, &catalog))
        }
        RefusalReason::Subscription => match ctx.billing.checkout_link(user_id).await {
            Ok(url) => copy::paywall(&url),
            Err(error) => {
                tracing::warn!(error = %platform::errors::ErrorChain(&error), "no checkout link for a refused request");
                copy::BILLING_UNAVAILABLE.to_owned()
            }
        },
        RefusalReason::TooSoon if !e.suggested_time_window.is_empty() => {
            copy::linkup_too_soon_retry(&describe_bucket(&e.suggested_time_window))
        }
        RefusalReason::AccountStatus | RefusalReason::SafetyHold => copy::LINKUP_ON_HOLD.to_owned(),
        _ => copy::LINKUP_NOT_CLEAR.to_owned(),
    };
    let to = Recipient {
        user_id: Some(user_id),
        phone_e164: &person.phone_e164,
        phone_hash: &person.phone_hash,
    };
    let mut reply = Reply::with_purpose(text, SmsPurpose::Reply);
    reply.urgent = true; // it answers their request
    let key = format!("refused:{}", e.request_key);
    replies::send(tx, &ctx.keyring, &Origin::of(envelope), &to, &reply, key).await
}
