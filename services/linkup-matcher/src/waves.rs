//! One invite wave: pick the invitees ([`crate::pick`]), insert the invites with their
//! explainability, text each person, publish `linkup.invite_sent`, record the match run. A wave
//! due while the region is paused invites nobody.

use proto::v1::{InviteSent, SmsPurpose};
use serde_json::json;
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::brief::Brief;
use crate::error::MatcherError;
use crate::out::{self, Cause, Text, Transition};
use crate::scoring::Floors;
use crate::store::{invites, linkups, people};
use crate::{Context, copy, pick};

/// Invites per wave: 6, 6, 8.
pub const WAVE_SIZES: [usize; 3] = [6, 6, 8];
/// Longest Twilio validity for an invite text (4 h).
const MAX_VALIDITY: i64 = 4 * 3600;

/// Sends wave `wave` of `linkup` (locked by the caller) if it still broadcasts.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
#[tracing::instrument(skip_all, fields(linkup_id = %linkup.id, wave))]
pub async fn send_wave(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    wave: i32,
) -> Result<(), MatcherError> {
    if linkup.state != "broadcasting" || linkup.wave_count >= wave {
        return Ok(());
    }
    let size = usize::try_from(wave - 1)
        .ok()
        .and_then(|i| WAVE_SIZES.get(i))
        .copied()
        .unwrap_or(0);
    let deadline = linkup.acceptance_window_ends_at.unwrap_or(cause.at);
    invite(tx, ctx, cause, linkup, (wave, size), deadline).await
}

/// Invites up to `wave.1` people as wave `wave.0`, replying by `window_end`.
///
/// # Errors
/// [`MatcherError`] when a read or write fails.
pub async fn invite(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: &linkups::Linkup,
    (wave, size): (i32, usize),
    window_end: OffsetDateTime,
) -> Result<(), MatcherError> {
    let brief = Brief::from_json(&linkup.brief);
    let run_key = format!("{}:wave:{wave}", linkup.id);
    if people::region_paused(tx, linkup.region_id).await? {
        return skip_paused(tx, cause, linkup, wave, &run_key).await;
    }
    let pick = pick::pick(tx, linkup, &brief, size, &run_key, cause.at).await?;
    let users: Vec<Uuid> = pick.invitees.iter().map(|(u, _)| *u).collect();
    let contacts = people::contacts(tx, &users).await?;
    let offer = Offer {
        linkup_id: linkup.id,
        wave,
        options: brief
            .options
            .iter()
            .map(|o| o.label.clone())
            .filter(|_| brief.options.len() > 1)
            .collect(),
        whens: brief.options.iter().map(|o| brief.when(o)).collect(),
        deadline: crate::brief::local_label(window_end, &brief.timezone),
        window_end,
        validity: u32::try_from(
            (window_end - cause.at)
                .whole_seconds()
                .clamp(60, MAX_VALIDITY),
        )
        .unwrap_or(0),
        brief: &brief,
    };
    let mut sent = 0;
    for (contact, (_, explain)) in contacts.iter().zip(&pick.invitees) {
        if send_one(tx, ctx, cause, &offer, contact, explain).await? {
            sent += 1;
        }
    }
    let params = json!({"weights": {"ffs": 0.30, "act": 0.25, "time": 0.15, "comms": 0.10, "prox": 0.10, "rel": 0.05, "nov": 0.05},
                        "wave_size": size, "pool_limit": pick::POOL_LIMIT, "floors": floor_json(Floors::at_level(pick.level)),
                        "cooldown_days": pick::cooldown_days(pick.level)});
    let run = invites::Run {
        linkup_id: linkup.id,
        wave,
        run_key: &run_key,
        parameters: &params,
        relaxation_level: i32::from(pick.level),
        pool_size: count(pick.pool),
        invited_count: sent,
        at: cause.at,
    };
    invites::record_run(tx, &run).await?;
    linkups::bump_wave_count(tx, linkup.id, wave).await?;
    tracing::info!(
        invited = sent,
        pool = pick.pool,
        level = pick.level,
        "wave sent"
    );
    Ok(())
}

/// A wave due while ops paused the region (product-rules §8): nobody is invited; the run is
/// recorded (`"skipped": "region_paused"`) and the wave counted, so it is not sent later.
async fn skip_paused(
    tx: &mut PgConnection,
    cause: &Cause,
    linkup: &linkups::Linkup,
    wave: i32,
    run_key: &str,
) -> Result<(), MatcherError> {
    let params = json!({"skipped": "region_paused"});
    let run = invites::Run {
        linkup_id: linkup.id,
        wave,
        run_key,
        parameters: &params,
        relaxation_level: 0,
        pool_size: 0,
        invited_count: 0,
        at: cause.at,
    };
    invites::record_run(tx, &run).await?;
    linkups::bump_wave_count(tx, linkup.id, wave).await?;
    tracing::info!("region paused; wave skipped");
    Ok(())
}

/// What every invite of one wave shares.
struct Offer<'a> {
    linkup_id: Uuid,
    wave: i32,
    /// `["A", "B"]` when two times are offered, else empty.
    options: Vec<String>,
    whens: Vec<String>,
    deadline: String,
    window_end: OffsetDateTime,
    validity: u32,
    brief: &'a Brief,
}

/// One invite: the row (once per LinkUp and person), its transition, the text and the event;
/// false when the person was already invited.
async fn send_one(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    offer: &Offer<'_>,
    contact: &out::Contact,
    explain: &serde_json::Value,
) -> Result<bool, MatcherError> {
    let new = invites::NewInvite {
        linkup_id: offer.linkup_id,
        user_id: contact.user_id,
        wave: offer.wave,
        offered_options: (!offer.options.is_empty()).then(|| json!(offer.options)),
        explainability: explain,
        expires_at: offer.window_end,
        at: cause.at,
    };
    let Some(invite_id) = invites::insert(tx, &new).await? else {
        return Ok(false);
    };
    let t = Transition {
        entity_type: "linkup_invite",
        entity_id: invite_id,
        event_type: "linkup.invite_sent",
        from: None,
        to: Some("pending"),
    };
    out::record(tx, cause, t).await?;
    let b = offer.brief;
    let body = copy::invite(
        &contact.first_name,
        &b.activity_name,
        &offer.whens,
        &b.area(),
        &offer.deadline,
    );
    let text = Text {
        to: contact,
        body,
        purpose: SmsPurpose::Invite,
        idempotency_key: format!("invite-sms:{invite_id}"),
        linkup_id: offer.linkup_id,
        validity_seconds: offer.validity,
        timezone: &b.timezone,
    };
    out::send(tx, ctx, cause, text).await?;
    let event = InviteSent {
        invite_id: invite_id.to_string(),
        linkup_id: offer.linkup_id.to_string(),
        invited_user_id: contact.user_id.to_string(),
        wave: u32::try_from(offer.wave).unwrap_or(0),
        expires_at: Some(proto::timestamp::to_timestamp(offer.window_end)),
        offered_options: offer.options.clone(),
        sent_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    let key = format!("linkup.invite_sent:{invite_id}");
    out::publish(tx, cause, event, key, contact.user_id.to_string()).await?;
    Ok(true)
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn floor_json(f: Floors) -> serde_json::Value {
    json!({"friend": f.friend, "moment": f.moment})
}

/// When a wave due now would still make sense: before the window's end.
pub fn still_open(linkup: &linkups::Linkup, now: OffsetDateTime) -> bool {
    linkup.state == "broadcasting"
        && linkup
            .acceptance_window_ends_at
            .is_some_and(|end| now < end - Duration::minutes(1))
}
