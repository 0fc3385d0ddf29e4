//! Commands that work at any time (issue 5): MENU, PAUSE / RESUME invites, PROFILE (what JOSH
//! knows, in two texts), DELETE (with a confirmation: soft delete and scrub), and the start of
//! BLOCK and REPORT (their dialogs live in [`crate::safety_commands`]). A pending confirmation
//! or pick lives in the state token (`cmd:` + JSON) with the session idle.

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::Duration;
use uuid::Uuid;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::interview::{self, profile::Completeness, steps};
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::safety_commands;
use crate::store::identity::User;
use crate::store::{profiles, sessions};
use crate::text::answers::{self, YesNo};
use crate::text::normalize::words;

/// Token prefix of a command dialog.
pub const TOKEN_PREFIX: &str = "cmd:";
/// How long a confirmation or pick waits.
pub const DIALOG_TTL: Duration = Duration::minutes(15);

/// A command dialog waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Pending {
    /// DELETE asked for confirmation.
    Delete,
    /// BLOCK listed people to pick from.
    Block {
        /// (user id, first name, LinkUp id), as listed.
        people: Vec<(Uuid, String, Uuid)>,
    },
    /// REPORT listed people to pick from (`who` unset), then asked what happened.
    Report {
        /// As listed.
        people: Vec<(Uuid, String, Uuid)>,
        /// The index picked.
        who: Option<usize>,
    },
}

impl Pending {
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

/// Runs the command the text names, if it names one.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn run(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let replies = match words(msg.text).as_str() {
        "menu" | "options" | "commands" => vec![Reply::say(copy::MENU)],
        "pause" | "pause invites" => set_paused(tx, user, true).await?,
        "resume" | "unpause" | "resume invites" => set_paused(tx, user, false).await?,
        "profile" | "my profile" => profile(tx, user).await?,
        "delete" | "delete me" | "delete my account" | "delete account" => {
            let expires = ctx.clock.now() + DIALOG_TTL;
            sessions::set_mode(tx, user.id, "idle", &Pending::Delete.token(), Some(expires))
                .await?;
            vec![Reply::say(copy::CONFIRM_DELETE)]
        }
        "drop" | "drop out" | "leave" | "cant make it" => {
            crate::leaving::drop_out(tx, ctx, msg, user).await?
        }
        "block" => safety_commands::start_block(tx, ctx, user).await?,
        "report" => safety_commands::start_report(tx, ctx, user).await?,
        _ => return Ok(None),
    };
    Ok(Some(replies))
}

/// Answers a pending command dialog; `None` when the text is not an answer to it.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn answer(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    pending: Pending,
) -> Result<Option<Vec<Reply>>, RouterError> {
    match pending {
        Pending::Delete => {
            let confirmed =
                words(msg.text) == "delete" || answers::yes_no(msg.text) == Some(YesNo::Yes);
            if confirmed {
                safety_commands::delete_account(tx, ctx, msg, user)
                    .await
                    .map(Some)
            } else {
                sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
                Ok(Some(vec![Reply::say(copy::DELETE_KEPT)]))
            }
        }
        Pending::Block { people } => safety_commands::block(tx, ctx, msg, user, &people).await,
        Pending::Report { people, who } => {
            safety_commands::report(tx, ctx, msg, user, &people, who).await
        }
    }
}

async fn set_paused(
    tx: &mut PgConnection,
    user: &User,
    paused: bool,
) -> Result<Vec<Reply>, RouterError> {
    profiles::set_invites_paused(tx, user.id, paused).await?;
    Ok(vec![Reply::say(if paused {
        copy::PAUSED
    } else {
        copy::RESUMED
    })])
}

/// What JOSH knows, in two texts; an unfinished interview resumes with its next question.
async fn profile(tx: &mut PgConnection, user: &User) -> Result<Vec<Reply>, RouterError> {
    let doc = profiles::load(tx, user.id).await?;
    let catalog = profiles::activities(tx).await?;
    let activities = steps::display_names(&doc.activity_keys(), &catalog)
        .iter()
        .map(|a| a.to_lowercase())
        .collect::<Vec<_>>();
    let list = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(|s| s.replace('_', " ")))
                    .collect()
            })
            .unwrap_or_default()
    };
    let times = list(doc.preferences.get("time_preferences"));
    let size = doc
        .preferences
        .get("group_size_pref")
        .map(|g| format!("{}-{}", g["min"], g["max"]));
    let first = copy::profile_summary(&activities, &times, size.as_deref());
    let paused = doc.preferences.get("invites_paused") == Some(&serde_json::Value::Bool(true));
    let skip = list(doc.boundaries.get("no_thanks"));
    let second = if doc.completeness() < Completeness::CompleteMvp {
        let step = interview::next_step(&doc, None).unwrap_or(steps::Step::Activity01);
        sessions::set_mode(tx, user.id, "interviewing", &step.token(), None).await?;
        copy::linkup_profile_first(&step.question(&doc, &catalog))
    } else {
        copy::profile_details(&skip, paused)
    };
    Ok(vec![Reply::say(first), Reply::say(second)])
}
