//! Asking for a LinkUp (product-rules §4): a free-text request ("coffee sat morning?") with at
//! most one clarifier for what is missing, or the LINKUP command's short dialog (activity, time,
//! group size). The draft lives in the session token (mode `linkup_forming`) and expires with
//! the clarifier after 15 minutes. A complete draft goes to [`submit`].

pub mod draft;
mod submit;
pub mod window;

use sqlx::PgConnection;
use time::{Duration, Weekday};

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::interview::steps::{display_names, recognise};
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::profiles::{self, Activity};
use crate::store::sessions::{self, Session};
use crate::text::answers::{self, YesNo};
use crate::text::normalize::words;
use crate::text::when::{self, Day, Part, When};
use draft::{Ask, Draft};

/// How long a clarifier or dialog question waits for its answer.
pub const CLARIFIER_TTL: Duration = Duration::minutes(15);
/// The LINKUP command's words.
const COMMANDS: [&str; 5] = ["linkup", "link up", "plan", "plan something", "new linkup"];

/// Whether the text is the LINKUP command.
pub fn is_command(text: &str) -> bool {
    COMMANDS.contains(&words(text).as_str())
}

/// A free-text LinkUp request: the text names a catalog activity or a day/time. `None` when it
/// names neither.
pub fn intent(text: &str, catalog: &[Activity]) -> Option<Draft> {
    let activity = recognise_by_alias(catalog, text);
    let when = when::parse(text);
    if activity.is_none() && when == When::default() {
        return None;
    }
    let mut draft = Draft::for_activity(activity);
    draft.merge_when(when);
    Some(draft)
}

fn recognise_by_alias(catalog: &[Activity], text: &str) -> Option<String> {
    // Numbers ("1, 3") are answers to lists, not requests: only aliases count here.
    let named = recognise(catalog, text);
    let by_alias = named.first().filter(|_| answers::choice(text, 6).is_none());
    by_alias.map(|a| a.key.clone())
}

/// Continues the dialog with the answer in `msg`; `None` when the dialog expired (the text is
/// then handled as a fresh one).
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn resume(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    session: &Session,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let now = ctx.clock.now();
    let expired = session.expires_at.is_none_or(|at| at <= now);
    let draft = Draft::from_token(&session.state_token);
    let (Some(mut draft), false) = (draft, expired) else {
        sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
        return Ok(None);
    };
    if answers::yes_no(msg.text) == Some(YesNo::No) && draft.asked != Some(Ask::Size) {
        sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
        return Ok(Some(vec![Reply::say(copy::LINKUP_DROPPED_DRAFT)]));
    }
    let catalog = profiles::activities(tx).await?;
    let understood = match draft.asked {
        Some(ask) => answer(
            &mut draft,
            ask,
            msg.text,
            &catalog,
            &favourites(tx, user).await?,
        ),
        None => false,
    };
    if !understood {
        if draft.ask_size {
            // The command's dialog asks again; a free-text request had its one clarifier.
            let question = question(tx, user, &draft, &catalog).await?;
            return Ok(Some(vec![Reply::say(copy::again(&question))]));
        }
        sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
        return Ok(Some(vec![Reply::say(copy::LINKUP_NOT_CLEAR)]));
    }
    start(tx, ctx, msg, user, draft).await.map(Some)
}

/// Reads `text` as the answer to `ask`, filling `draft`; `false` when it is not one.
fn answer(draft: &mut Draft, ask: Ask, text: &str, catalog: &[Activity], favs: &[String]) -> bool {
    match ask {
        Ask::Activity => {
            let pick = answers::choice(text, favs.len().min(3))
                .map(|i| favs[i].clone())
                .or_else(|| recognise(catalog, text).first().map(|a| a.key.clone()));
            draft.activity = pick;
            draft.activity.is_some()
        }
        Ask::When | Ask::Part | Ask::WeekendDay | Ask::Confirm => {
            let mut when = when::parse(text);
            if when == When::default() {
                when = match (ask, answers::choice(text, 4)) {
                    (Ask::When, Some(i)) => When {
                        day: Some([Day::Today, Day::Tomorrow, sat(), sun()][i]),
                        part: None,
                    },
                    (Ask::Part, Some(i)) if i < 3 => When {
                        day: None,
                        part: Some(Part::ALL[i]),
                    },
                    (Ask::WeekendDay, Some(i)) if i < 2 => When {
                        day: Some([sat(), sun()][i]),
                        part: None,
                    },
                    _ => return ask == Ask::Confirm && answers::yes_no(text) == Some(YesNo::Yes),
                };
            } else if ask == Ask::Confirm {
                draft.clear_when();
            }
            draft.merge_when(when);
            true
        }
        Ask::Size => {
            let Some(i) = answers::choice(text, 3) else {
                return false;
            };
            draft.size = Some([(2, 3), (4, 6), (7, 10)][i]);
            true
        }
    }
}

const fn sat() -> Day {
    Day::Weekday(Weekday::Saturday)
}

const fn sun() -> Day {
    Day::Weekday(Weekday::Sunday)
}

/// Moves a draft on — from the idle conversation (the LINKUP command or a free-text intent) or
/// after an answer: asks what is missing, or submits a complete draft.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn start(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    mut draft: Draft,
) -> Result<Vec<Reply>, RouterError> {
    let Some(ask) = draft.missing() else {
        return submit::submit(tx, ctx, msg, user, draft).await;
    };
    draft.asked = Some(ask);
    let catalog = profiles::activities(tx).await?;
    let question = question(tx, user, &draft, &catalog).await?;
    let expires = ctx.clock.now() + CLARIFIER_TTL;
    sessions::set_mode(tx, user.id, "linkup_forming", &draft.token(), Some(expires)).await?;
    Ok(vec![Reply::say(question)])
}

async fn question(
    tx: &mut PgConnection,
    user: &User,
    draft: &Draft,
    catalog: &[Activity],
) -> Result<String, RouterError> {
    Ok(match draft.asked.unwrap_or(Ask::Activity) {
        Ask::Activity => {
            let favs = favourites(tx, user).await?;
            copy::ask_linkup_activity(&display_names(&favs, catalog))
        }
        Ask::When | Ask::Confirm => copy::ASK_LINKUP_DAY.to_owned(),
        Ask::Part => copy::ASK_LINKUP_PART.to_owned(),
        Ask::WeekendDay => copy::ASK_LINKUP_WEEKEND_DAY.to_owned(),
        Ask::Size => copy::ASK_LINKUP_SIZE.to_owned(),
    })
}

/// The person's activities, top pick first, at most three.
async fn favourites(tx: &mut PgConnection, user: &User) -> Result<Vec<String>, RouterError> {
    let doc = profiles::load(tx, user.id).await?;
    let mut keys = doc.activity_keys();
    if let Some(top) = doc.preferences.get("top_activity").and_then(|v| v.as_str())
        && let Some(i) = keys.iter().position(|k| k == top)
    {
        let top = keys.remove(i);
        keys.insert(0, top);
    }
    if keys.is_empty() {
        keys = ["coffee", "walk", "brunch"].map(str::to_owned).to_vec();
    }
    keys.truncate(3);
    Ok(keys)
}
