//! The interview (product-rules §3), one question per text, resumable after any gap because the
//! step lives in the session's state token. This covers its opening steps, activity_01 (2–3
//! activities from the catalog, confidence 0.65 each) and activity_02 (the top pick → the active
//! intent); the later steps continue from `interview:motive_01`.

use proto::v1::{ProfileState, ProfileUpdateSource, ProfileUpdated};
use sqlx::PgConnection;

use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::profiles::{self, Activity, ProfileChange};
use crate::text::answers;
use crate::text::normalize::{contains_phrase, words};

/// The first step's token, set when the interview starts.
pub const FIRST_STEP: &str = "interview:activity_01";
/// The short list offered when no activity was recognised (catalog keys, in `copy::ACTIVITY_LIST` order).
const FALLBACK: [&str; 6] = ["coffee", "walk", "hike", "brunch", "board_games", "trivia"];
/// Confidence of an activity named in the interview.
const NAMED_CONFIDENCE: f64 = 0.65;

/// The texts that start the interview after registration.
pub fn opening(first_name: &str) -> Vec<Reply> {
    vec![
        Reply::say(copy::onboarding_opening(first_name)),
        Reply::say(copy::LINKUPS_EXPLAINED),
        Reply::say(copy::ASK_ACTIVITIES),
    ]
}

/// Handles a text from a user whose session is at interview step `token`; `None` when the step
/// is not one this module handles yet.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn step(
    tx: &mut PgConnection,
    msg: &Inbound<'_>,
    user: &User,
    token: &str,
) -> Result<Option<Vec<Reply>>, RouterError> {
    if answers::is_pause(msg.text) {
        return Ok(Some(vec![Reply::say(copy::NO_RUSH)]));
    }
    let replies = match token {
        "interview:activity_01" => activities(tx, msg, user).await?,
        "interview:activity_02" => top_pick(tx, msg, user).await?,
        _ => return Ok(None),
    };
    Ok(Some(replies))
}

async fn activities(
    tx: &mut PgConnection,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let catalog = profiles::activities(tx).await?;
    let named = recognise(&catalog, msg.text);
    if named.is_empty() {
        return Ok(vec![Reply::say(copy::ACTIVITY_LIST)]);
    }
    let patterns: Vec<serde_json::Value> = named
        .iter()
        .map(|a| {
            serde_json::json!({
                "activity_key": a.key, "motive_weights": {}, "constraints": {},
                "preferred_windows": a.typical_windows, "confidence": NAMED_CONFIDENCE,
                "freshness_days": 0,
            })
        })
        .collect();
    let change = ProfileChange::ActivityPatterns(serde_json::Value::Array(patterns));
    answer(
        tx,
        msg,
        user,
        "activity_01",
        &change,
        "interview:activity_02",
    )
    .await?;
    let names: Vec<String> = named.iter().map(|a| a.display_name.clone()).collect();
    Ok(vec![Reply::say(copy::ask_top_pick(&names))])
}

async fn top_pick(
    tx: &mut PgConnection,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let patterns: serde_json::Value = sqlx::query_scalar!(
        "select activity_patterns from profiles where user_id = $1",
        user.id
    )
    .fetch_one(&mut *tx)
    .await?;
    let keys: Vec<String> = patterns
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["activity_key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let catalog = profiles::activities(tx).await?;
    let pick = answers::choice(msg.text, keys.len()).or_else(|| {
        // They may name it instead of numbering it.
        let named = recognise(&catalog, msg.text);
        named
            .first()
            .and_then(|a| keys.iter().position(|k| *k == a.key))
    });
    let Some(index) = pick else {
        let names: Vec<String> = keys
            .iter()
            .map(|k| {
                catalog
                    .iter()
                    .find(|a| a.key == *k)
                    .map_or_else(|| k.clone(), |a| a.display_name.clone())
            })
            .collect();
        return Ok(vec![Reply::say(copy::ask_top_pick(&names))]);
    };
    let change = ProfileChange::ActiveIntent(serde_json::json!({ "activity_key": keys[index] }));
    answer(tx, msg, user, "activity_02", &change, "interview:motive_01").await?;
    Ok(vec![Reply::say(copy::MENU)])
}

/// Stores one answer, publishes `profile updated` and moves to `next`.
async fn answer(
    tx: &mut PgConnection,
    msg: &Inbound<'_>,
    user: &User,
    step: &str,
    change: &ProfileChange,
    next: &str,
) -> Result<(), RouterError> {
    let key = format!("interview:{}:{step}", msg.message_sid);
    profiles::record_answer(tx, user.id, step, change, &key).await?;
    profiles::set_step(tx, user.id, next, msg.message_sid).await?;
    let fact = ProfileUpdated {
        user_id: user.id.to_string(),
        profile_state: ProfileState::Partial.into(),
        changed_fields: vec![change.field().to_owned()],
        step: step.to_owned(),
        source: ProfileUpdateSource::Interview.into(),
        updated_at: msg.envelope.occurred_at,
        ..ProfileUpdated::default()
    };
    events::publish(tx, msg.envelope, fact, key, msg.phone_hash).await
}

/// The catalog activities named in `text` (by alias, as whole words), in catalog order, or the
/// numbered short list's picks ("1, 3").
fn recognise<'a>(catalog: &'a [Activity], text: &str) -> Vec<&'a Activity> {
    let normalised = words(text);
    let by_alias: Vec<&Activity> = catalog
        .iter()
        .filter(|a| {
            a.aliases
                .iter()
                .any(|alias| contains_phrase(&normalised, &words(alias)))
        })
        .collect();
    if !by_alias.is_empty() {
        return by_alias;
    }
    answers::choices(text, FALLBACK.len(), 3)
        .map(|picks| {
            picks
                .iter()
                .filter_map(|&i| catalog.iter().find(|a| a.key == FALLBACK[i]))
                .collect()
        })
        .unwrap_or_default()
}
