//! An entitlement change, told everywhere in the caller's transaction: the `entitlements` row,
//! a `domain_events` row, the `billing.entitlement_changed` event and, when it matters to the
//! member, a text (an `outbound.send_sms` command with an encrypted body).

use proto::Envelope;
use proto::timestamp::{to_timestamp, to_timestamp_opt};
use proto::v1::{EntitlementChanged, SendSms, SmsPurpose, SubscriptionState};
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

use crate::SERVICE;
use crate::entitlement::{Entitlement, Reason, Subscription};
use crate::error::BillingError;
use crate::store;
use crate::wire::Status;

/// One entitlement change and its cause.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    /// Whose.
    pub user_id: Uuid,
    /// Before (`None`: never stored).
    pub before: Option<Entitlement>,
    /// After.
    pub after: Entitlement,
    /// The subscription behind it.
    pub subscription: &'a Subscription,
    /// What caused it: `evt_...`, or a job's key; makes every effect idempotent.
    pub cause: &'a str,
    /// The Stripe event id, empty for jobs.
    pub stripe_event_id: &'a str,
    /// Now.
    pub at: OffsetDateTime,
}

/// Stores `change.after` and, if it differs from `change.before`, records and announces it.
///
/// # Errors
/// [`BillingError`] when a write or the encryption fails.
#[tracing::instrument(skip_all, fields(user_id = %change.user_id, reason = change.after.reason.as_str()))]
pub async fn apply(
    tx: &mut PgConnection,
    keyring: &crypto::Keyring,
    change: &Change<'_>,
) -> Result<bool, BillingError> {
    if change.before == Some(change.after) {
        return Ok(false);
    }
    store::entitlements::put(tx, change.user_id, &change.after, change.at).await?;
    let before = change.before.unwrap_or(Entitlement {
        eligible: false,
        reason: Reason::NoSubscription,
        expires_at: None,
    });
    if before.eligible == change.after.eligible && before.reason == change.after.reason {
        // Only the window moved (e.g. a later grace end), or a first row that says what no
        // row meant: stored, nothing to announce.
        return Ok(true);
    }
    let key = format!("entitlement:{}:{}", change.user_id, change.cause);
    let payload = json!({
        "eligible": change.after.eligible,
        "reason": change.after.reason.as_str(),
        "expires_at": change.after.expires_at.map(|t| t.unix_timestamp()),
        "stripe_event_id": change.stripe_event_id,
    });
    let (from, to) = (before.reason.as_str(), change.after.reason.as_str());
    store::entitlements::record_change(tx, change.user_id, from, to, &key, &payload).await?;
    let event = EntitlementChanged {
        user_id: change.user_id.to_string(),
        eligible_to_participate: change.after.eligible,
        eligible_to_initiate: change.after.eligible,
        reason: change.after.reason.to_proto().into(),
        subscription_state: state(change.subscription.status).into(),
        grace_until: to_timestamp_opt(change.subscription.grace_until),
        effective_at: Some(to_timestamp(change.at)),
        expires_at: to_timestamp_opt(change.after.expires_at),
        was_eligible_to_participate: before.eligible,
        was_eligible_to_initiate: before.eligible,
        stripe_event_id: change.stripe_event_id.to_owned(),
    };
    let partition = change.user_id.to_string();
    bus::outbox::enqueue(tx, &envelope(event, key, &partition, change.at)).await?;
    crate::metrics::entitlement_change(change.after.reason.as_str());
    if let Some(text) = text_for(&before, &change.after) {
        send_sms(tx, keyring, change, &text).await?;
    }
    Ok(true)
}

/// What to tell the member about a change, if it matters to them.
pub fn text_for(before: &Entitlement, after: &Entitlement) -> Option<String> {
    let date = |t: OffsetDateTime| {
        t.format(format_description!("[month repr:short] [day padding:none]"))
            .unwrap_or_default()
    };
    Some(match (before.reason, after.reason) {
        (_, Reason::Grace) => format!(
            "JOSH: your last payment didn't go through. Please update your card by {} to keep your membership.",
            after.expires_at.map(date).unwrap_or_default()
        ),
        (Reason::Grace | Reason::GraceExpired, Reason::Subscription) => {
            "JOSH: thanks, your payment went through. Your membership is active again.".to_owned()
        }
        (_, Reason::Subscription | Reason::WebhookPending) if !before.eligible => {
            "JOSH: welcome in! Your membership is active. Text me anytime to start a LinkUp.".to_owned()
        }
        (_, Reason::Revoked) if before.eligible => {
            "JOSH: your membership has ended after a refund or payment dispute. Text JOIN to start again.".to_owned()
        }
        (_, Reason::GraceExpired | Reason::SubscriptionEnded) if before.eligible => {
            "JOSH: your membership has lapsed, so you won't get new LinkUp invites. Text JOIN to come back anytime.".to_owned()
        }
        _ => return None,
    })
}

async fn send_sms(
    tx: &mut PgConnection,
    keyring: &crypto::Keyring,
    change: &Change<'_>,
    text: &str,
) -> Result<(), BillingError> {
    let Some(contact) = store::users::contact(tx, change.user_id).await? else {
        tracing::warn!(user_id = %change.user_id, "no contact for an entitlement text; not sent");
        return Ok(());
    };
    let key = format!("billing:{}:{}", change.user_id, change.cause);
    let sealed = keyring.encrypt(text.as_bytes(), key.as_bytes())?;
    let body = proto::EncryptedBody::from(proto::BodyParts {
        key_version: sealed.key_version,
        nonce: sealed.nonce,
        ciphertext: sealed.ciphertext,
        tag: sealed.tag,
    });
    let command = SendSms {
        user_id: change.user_id.to_string(),
        to_e164: contact.phone_e164,
        body: Some(body),
        purpose: SmsPurpose::Billing.into(),
        phone_hash: contact.phone_hash.clone(),
        ..SendSms::default()
    };
    bus::outbox::enqueue(tx, &envelope(command, key, &contact.phone_hash, change.at)).await?;
    Ok(())
}

fn envelope(
    payload: impl Into<proto::Payload>,
    idempotency_key: String,
    partition_key: &str,
    at: OffsetDateTime,
) -> Envelope {
    let event_id = Uuid::now_v7().to_string();
    Envelope {
        producer: SERVICE.to_owned(),
        occurred_at: Some(to_timestamp(at)),
        correlation_id: event_id.clone(),
        event_id,
        idempotency_key,
        partition_key: partition_key.to_owned(),
        ..Envelope::for_payload(payload)
    }
}

fn state(status: Option<Status>) -> SubscriptionState {
    match status {
        None | Some(Status::None) => SubscriptionState::None,
        Some(Status::Trialing) => SubscriptionState::Trialing,
        Some(Status::Active) => SubscriptionState::Active,
        Some(Status::PastDue) => SubscriptionState::PastDue,
        Some(Status::Unpaid) => SubscriptionState::Unpaid,
        Some(Status::Canceled) => SubscriptionState::Canceled,
    }
}
