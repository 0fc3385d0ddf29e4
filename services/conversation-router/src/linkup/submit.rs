//! A complete LinkUp draft becomes `linkup requested` once the person may start one
//! (product-rules §7 order: account, region, profile; then the daily limit and the time).

use proto::v1::{LinkupBrief, LinkupRequested};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use super::draft::{Ask, Draft};
use super::window::{self, Window};
use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::interview::{self, profile::Completeness, profile::ProfileDoc};
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::linkups::{self, NewRequest, Placement};
use crate::store::{profiles, safety, sessions};

/// LinkUp requests a person may make in 24 hours (product-rules §1).
pub const DAILY_LIMIT: i64 = 3;
/// Group size when neither the request nor the profile says (product-rules §4).
const DEFAULT_SIZE: (u32, u32) = (2, 6);

/// Checks eligibility and sends the request, or says why not.
pub async fn submit(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    mut draft: Draft,
) -> Result<Vec<Reply>, RouterError> {
    let now = ctx.clock.now();
    let (place, doc) = match eligible(tx, ctx, user).await? {
        Ok(found) => found,
        Err(refusal) => return Ok(refusal),
    };
    if let Some(paywall) = paywall(ctx, user).await {
        sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
        return Ok(paywall);
    }
    let tz = place
        .timezone
        .as_deref()
        .unwrap_or(window::DEFAULT_TIMEZONE);
    let (Some(day), Some(part)) = (draft.day(), draft.part()) else {
        return Err(RouterError::UnexpectedEvent(
            "submit without a day and part",
        ));
    };
    let Some(window) = window::resolve(day, part, now, tz) else {
        return Err(RouterError::UnexpectedEvent("time window did not resolve"));
    };
    if window.too_soon(now) {
        let Some(later) = window::later(&window, now, tz) else {
            sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
            return Ok(vec![Reply::say(copy::LINKUP_NOT_CLEAR)]);
        };
        draft.set_when(later.weekday, later.part);
        draft.asked = Some(Ask::Confirm);
        let expires = now + super::CLARIFIER_TTL;
        sessions::set_mode(tx, user.id, "linkup_forming", &draft.token(), Some(expires)).await?;
        return Ok(vec![Reply::say(copy::linkup_too_soon(&later.describe()))]);
    }
    sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
    if linkups::requests_since(tx, user.id, now - time::Duration::days(1)).await? >= DAILY_LIMIT {
        return Ok(vec![Reply::say(copy::LINKUP_DAILY_LIMIT)]);
    }
    draft.size = Some(
        draft
            .size
            .unwrap_or_else(|| preferred_size(&doc.preferences)),
    );
    request(tx, ctx, msg, user, &draft, &place, &window).await
}

/// The person's region and profile when they may start a LinkUp now, else the replies that
/// say why not (account, region, profile: product-rules §7 order).
async fn eligible(
    tx: &mut PgConnection,
    ctx: &Context,
    user: &User,
) -> Result<Result<(Placement, ProfileDoc), Vec<Reply>>, RouterError> {
    let hold = safety::hold_state(tx, user.id, ctx.clock.now()).await?;
    if user.state == "suspended" || hold != "none" {
        return Ok(Err(vec![Reply::say(copy::LINKUP_ON_HOLD)]));
    }
    let place = linkups::placement(tx, user.id).await?;
    let open =
        |p: &Placement| p.region_state == "open" && p.membership.as_deref() == Some("active");
    let place = match place {
        Some(p) if open(&p) && p.paused => {
            return Ok(Err(vec![Reply::say(copy::linkup_region_paused(
                &p.display_name,
            ))]));
        }
        Some(p) if open(&p) => p,
        other => {
            let name = other.map_or_else(|| "your area".to_owned(), |p| p.display_name);
            return Ok(Err(vec![Reply::say(copy::linkup_region_closed(&name))]));
        }
    };
    let doc = profiles::load(tx, user.id).await?;
    if doc.completeness() < Completeness::CompleteMvp {
        let catalog = profiles::activities(tx).await?;
        let step = interview::next_step(&doc, None).unwrap_or(interview::steps::Step::Activity01);
        sessions::set_mode(tx, user.id, "interviewing", &step.token(), None).await?;
        let question = step.question(&doc, &catalog);
        return Ok(Err(vec![Reply::say(copy::linkup_profile_first(&question))]));
    }
    Ok(Ok((place, doc)))
}

/// Not subscribed: the paywall text with a checkout link (product-rules §7, last check).
/// Billing unreachable: an honest "try again", nothing changes.
async fn paywall(ctx: &Context, user: &User) -> Option<Vec<Reply>> {
    let failed = |error: &crate::billing::BillingError| {
        tracing::warn!(error = %platform::errors::ErrorChain(error), "billing did not answer");
        Some(vec![Reply::say(copy::BILLING_UNAVAILABLE)])
    };
    match ctx.billing.may_initiate(user.id).await {
        Ok(true) => None,
        Ok(false) => match ctx.billing.checkout_link(user.id).await {
            Ok(url) => Some(vec![Reply::say(copy::paywall(&url))]),
            Err(error) => failed(&error),
        },
        Err(error) => failed(&error),
    }
}

/// Records the request and publishes `linkup requested` (once per create key).
async fn request(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    draft: &Draft,
    place: &Placement,
    window: &Window,
) -> Result<Vec<Reply>, RouterError> {
    let activity = draft.activity.clone().unwrap_or_default();
    let (min_size, max_size) = draft.size.unwrap_or(DEFAULT_SIZE);
    let request_key = create_key(user, &activity, window, place);
    let brief = LinkupBrief {
        activity_key: activity.clone(),
        time_window: window.bucket.clone(),
        min_size,
        max_size,
        radius_miles: 5,
        window_starts_at: Some(proto::timestamp::to_timestamp(window.starts_at)),
        window_ends_at: Some(proto::timestamp::to_timestamp(window.ends_at)),
        ..LinkupBrief::default()
    };
    let catalog = profiles::activities(tx).await?;
    let name = catalog
        .iter()
        .find(|a| a.key == activity)
        .map_or(activity.clone(), |a| a.display_name.to_lowercase());
    let now = ctx.clock.now();
    let recorded = linkups::record_request(
        tx,
        &NewRequest {
            user_id: user.id,
            request_key: &request_key,
            brief: serde_json::json!({
                "activity_key": activity, "time_window": window.bucket,
                "min_size": min_size, "max_size": max_size, "local_date": window.local_date,
            }),
            source_message_sid: msg.message_sid,
            requested_at: now,
        },
    )
    .await?;
    if !recorded {
        return Ok(vec![Reply::say(copy::linkup_already(
            &name,
            &window.describe(),
        ))]);
    }
    let fact = LinkupRequested {
        request_key: request_key.clone(),
        initiator_user_id: user.id.to_string(),
        region_id: place.region_id.to_string(),
        brief: Some(brief),
        source_message_sid: msg.message_sid.to_owned(),
        requested_at: Some(proto::timestamp::to_timestamp(now)),
    };
    let key = format!("linkup_requested:{request_key}");
    events::publish(tx, msg.envelope, fact, key, &user.id.to_string()).await?;
    Ok(vec![Reply::say(copy::linkup_on_it(
        &name,
        &window.describe(),
    ))])
}

/// sha256(initiator + activity + time window + region + day bucket), hex (product-rules §4).
fn create_key(user: &User, activity: &str, window: &Window, place: &Placement) -> String {
    let mut hash = Sha256::new();
    for part in [
        user.id.to_string().as_str(),
        activity,
        &window.bucket,
        &place.region_id.to_string(),
        &window.local_date,
    ] {
        hash.update(part.as_bytes());
        hash.update(b"\x1f");
    }
    hex::encode(hash.finalize())
}

/// The person's preferred group size, within 2..=10 and min < max.
fn preferred_size(preferences: &serde_json::Map<String, serde_json::Value>) -> (u32, u32) {
    let pref = preferences.get("group_size_pref");
    let read = |k: &str| {
        pref.and_then(|p| p.get(k))
            .and_then(serde_json::Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
    };
    match (read("min"), read("max")) {
        (Some(min), Some(max)) if (2..max).contains(&min) && max <= 10 => (min, max),
        _ => DEFAULT_SIZE,
    }
}
