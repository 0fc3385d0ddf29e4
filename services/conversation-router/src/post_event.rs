//! After the event (product-rules §6): one question at a time — attended (1 went, 2 couldn't,
//! 3 not sure), do again (Y/N), optional feedback (SKIP), then, for those who went, whom to
//! swap numbers with ("1,3", ALL, NONE; anyone not named is a no). Answers become
//! `outcome reported` and `contact choice made` for the matcher, which records them and
//! reveals numbers only on a mutual yes. The step lives in the token (`post_event:` + JSON)
//! with the session idle, so other commands keep working in between.

use proto::v1::{Attendance, ContactChoice, ContactChoiceMade, OutcomeReported};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::sessions;
use crate::text::answers::{self, YesNo};

/// Token prefix of the post-event dialog.
pub const TOKEN_PREFIX: &str = "post_event:";

/// Where a participant is in the post-event questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostEvent {
    /// The LinkUp.
    #[serde(rename = "l")]
    pub linkup_id: Uuid,
    /// The step asked last: `attendance`, `do_again`, `feedback` or `contacts`.
    #[serde(rename = "s")]
    pub step: String,
    /// Attendance answer, 1–3.
    #[serde(rename = "a", default, skip_serializing_if = "Option::is_none")]
    pub attended: Option<u8>,
    /// The other participants, in the order they are listed.
    #[serde(rename = "o", default)]
    pub others: Vec<(Uuid, String)>,
}

impl PostEvent {
    /// The state token.
    pub fn token(&self) -> String {
        format!(
            "{TOKEN_PREFIX}{}",
            serde_json::to_string(self).unwrap_or_default()
        )
    }

    /// The dialog a token holds.
    pub fn from_token(token: &str) -> Option<Self> {
        serde_json::from_str(token.strip_prefix(TOKEN_PREFIX)?).ok()
    }
}

/// Handles a text while the post-event questions are open; `None` when the text is not an
/// answer (it is then handled as any other text and the question stays open).
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn answer(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    mut state: PostEvent,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let next = match state.step.as_str() {
        "attendance" => {
            let Some(i) = answers::choice(msg.text, 3) else {
                return Ok(None);
            };
            state.attended = u8::try_from(i + 1).ok();
            outcome(tx, ctx, msg, user, &state, None, false).await?;
            ("do_again", copy::ASK_DO_AGAIN.to_owned())
        }
        "do_again" => {
            let Some(yes_no) = answers::yes_no(msg.text) else {
                return Ok(None);
            };
            outcome(
                tx,
                ctx,
                msg,
                user,
                &state,
                Some(yes_no == YesNo::Yes),
                false,
            )
            .await?;
            ("feedback", copy::ASK_FEEDBACK.to_owned())
        }
        "feedback" => {
            if !answers::is_refusal(msg.text) {
                outcome(tx, ctx, msg, user, &state, None, true).await?;
            }
            if state.attended == Some(1) && !state.others.is_empty() {
                let names: Vec<String> = state.others.iter().map(|(_, n)| n.clone()).collect();
                ("contacts", copy::ask_contacts(&names))
            } else {
                ("done", copy::POST_EVENT_THANKS.to_owned())
            }
        }
        "contacts" => {
            let Ok(picked) = answers::choices(msg.text, state.others.len(), state.others.len())
            else {
                return Ok(None);
            };
            contacts(tx, ctx, msg, user, &state, &picked).await?;
            ("done", copy::CONTACTS_NOTED.to_owned())
        }
        _ => return Ok(None),
    };
    if next.0 == "done" {
        sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
    } else {
        state.step = next.0.to_owned();
        sessions::set_mode(tx, user.id, "idle", &state.token(), None).await?;
    }
    Ok(Some(vec![Reply::say(next.1)]))
}

/// Publishes the outcome so far; a later answer replaces an earlier one at the matcher.
async fn outcome(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    state: &PostEvent,
    do_again: Option<bool>,
    feedback_present: bool,
) -> Result<(), RouterError> {
    let attendance = match state.attended {
        Some(1) => Attendance::Attended,
        Some(2) => Attendance::NoShow,
        _ => Attendance::Unsure,
    };
    let fact = OutcomeReported {
        linkup_id: state.linkup_id.to_string(),
        user_id: user.id.to_string(),
        attendance: attendance.into(),
        do_again,
        feedback_present,
        reported_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
    };
    let key = format!("outcome:{}:{}", state.linkup_id, msg.message_sid);
    events::publish(tx, msg.envelope, fact, key, &user.id.to_string()).await
}

/// One `contact choice made` for those named (YES) and one for the rest (NO).
async fn contacts(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    state: &PostEvent,
    picked: &[usize],
) -> Result<(), RouterError> {
    let (yes, no): (Vec<_>, Vec<_>) = state
        .others
        .iter()
        .enumerate()
        .partition(|(i, _)| picked.contains(i));
    for (choice, group) in [(ContactChoice::Yes, yes), (ContactChoice::No, no)] {
        if group.is_empty() {
            continue;
        }
        let fact = ContactChoiceMade {
            linkup_id: state.linkup_id.to_string(),
            chooser_user_id: user.id.to_string(),
            target_user_ids: group.iter().map(|(_, (id, _))| id.to_string()).collect(),
            choice: choice.into(),
            chosen_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
        };
        let key = format!(
            "contact:{}:{}:{}",
            state.linkup_id,
            msg.message_sid,
            choice.as_str_name()
        );
        events::publish(tx, msg.envelope, fact, key, &user.id.to_string()).await?;
    }
    Ok(())
}
