//! The interview (product-rules §3): one question per text, resumable after any gap because the
//! step lives in the session's state token. Each answer updates the profile through
//! [`steps::Step::apply`], writes a profile_events row and publishes `profile updated`; the
//! next question is the first uncovered step, so a covered signal is never asked again. At
//! `complete_mvp` the user becomes active and the session idle.

pub mod nudge;
pub mod profile;
mod readers;
pub mod stale;
pub mod steps;

use proto::v1::{ProfileState, ProfileUpdateSource, ProfileUpdated};
use sqlx::PgConnection;
use time::Duration;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::{self, User};
use crate::store::profiles::{self, Update};
use crate::store::sessions::{self, Session};
use crate::text::answers;
use profile::{Completeness, ProfileDoc};
use steps::{Answer, ORDER, Step};

/// The first step's token, set when the interview starts.
pub const FIRST_STEP: &str = "interview:activity_01";
/// After this much silence a text is a return: "welcome back" and the current question again.
pub const RESUME_GAP: Duration = Duration::hours(24);

/// The texts that start the interview after registration.
pub fn opening(first_name: &str) -> Vec<Reply> {
    vec![
        Reply::say(copy::onboarding_opening(first_name)),
        Reply::say(copy::LINKUPS_EXPLAINED),
        Reply::say(copy::ASK_ACTIVITIES),
    ]
}

/// Handles a text from a user whose session is in the interview.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn step(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    session: &Session,
) -> Result<Vec<Reply>, RouterError> {
    let catalog = profiles::activities(tx).await?;
    let mut doc = profiles::load(tx, user.id).await?;
    let Some(current) = Step::from_token(&session.state_token) else {
        // An unknown token (e.g. from an older release): ask the first uncovered question.
        return ask_next(tx, user, &doc, &catalog, None).await;
    };
    // A text after a long silence still counts as an answer when it reads as one; either way
    // the reply opens with "welcome back".
    let returning = session
        .last_inbound_at
        .is_some_and(|at| ctx.clock.now() - at >= RESUME_GAP);
    if answers::is_pause(msg.text) && current == Step::Activity01 {
        return Ok(vec![Reply::say(copy::NO_RUSH)]);
    }
    let before = doc.completeness();
    let mut replies = match current.apply(&mut doc, msg.text, &catalog) {
        Answer::NotUnderstood if returning => vec![Reply::say(copy::welcome_back(
            &current.question(&doc, &catalog),
        ))],
        Answer::NotUnderstood if current == Step::Activity01 => {
            vec![Reply::say(copy::ACTIVITY_LIST)]
        }
        Answer::NotUnderstood => vec![Reply::say(copy::again(&current.question(&doc, &catalog)))],
        Answer::Refused => ask_next(tx, user, &doc, &catalog, Some(current)).await?,
        Answer::Applied(fields) => {
            save(tx, ctx, msg, user, &doc, current, before, &fields).await?;
            ask_next(tx, user, &doc, &catalog, Some(current)).await?
        }
    };
    if returning
        && let Some(first) = replies.first_mut()
        && !first.text.starts_with("Welcome back")
    {
        first.text = copy::welcome_back(&first.text);
    }
    Ok(replies)
}

/// The first step after `after` whose signal the profile lacks.
pub fn next_step(doc: &ProfileDoc, after: Option<Step>) -> Option<Step> {
    let start = after.map_or(0, |s| {
        ORDER.iter().position(|o| *o == s).map_or(0, |i| i + 1)
    });
    ORDER[start..].iter().copied().find(|s| !s.covered(doc))
}

async fn ask_next(
    tx: &mut PgConnection,
    user: &User,
    doc: &ProfileDoc,
    catalog: &[profiles::Activity],
    after: Option<Step>,
) -> Result<Vec<Reply>, RouterError> {
    if let Some(next) = next_step(doc, after) {
        sessions::set_step(tx, user.id, &next.token()).await?;
        return Ok(vec![Reply::say(next.question(doc, catalog))]);
    }
    sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
    if doc.completeness() >= Completeness::CompleteMvp {
        if user.state == "interviewing" {
            identity::set_user_state(tx, user.id, "active").await?;
        }
        Ok(vec![Reply::say(copy::INTERVIEW_DONE)])
    } else {
        // Skipped too much to match yet: a LINKUP (or PROFILE) picks up the gaps later.
        Ok(vec![Reply::say(copy::INTERVIEW_INCOMPLETE)])
    }
}

/// Stores one answer: documents, state, audit row, `profile updated`.
#[allow(clippy::too_many_arguments)]
async fn save(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    doc: &ProfileDoc,
    step: Step,
    before: Completeness,
    fields: &[&'static str],
) -> Result<(), RouterError> {
    let after = doc.completeness();
    let key = format!("interview:{}:{}", msg.message_sid, step.name());
    let update = Update {
        step: step.name(),
        state: after.label(),
        completed_at: (after >= Completeness::CompleteMvp).then(|| ctx.clock.now()),
        at: ctx.clock.now(),
        idempotency_key: &key,
        audit: serde_json::json!({ "step": step.name(), "changed": fields, "state": after.label() }),
        correlation_id: msg.envelope.correlation_id.parse().ok(),
    };
    profiles::save(tx, user.id, doc, &update).await?;
    let fact = ProfileUpdated {
        user_id: user.id.to_string(),
        profile_state: state_of(after).into(),
        previous_state: state_of(before).into(),
        changed_fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        step: step.name().to_owned(),
        source: ProfileUpdateSource::Interview.into(),
        updated_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
    };
    events::publish(tx, msg.envelope, fact, key, msg.phone_hash).await
}

fn state_of(c: Completeness) -> ProfileState {
    match c {
        Completeness::Empty => ProfileState::Empty,
        Completeness::Partial => ProfileState::Partial,
        Completeness::CompleteMvp => ProfileState::CompleteMvp,
        Completeness::CompleteFull => ProfileState::CompleteFull,
    }
}
