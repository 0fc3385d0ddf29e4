//! The inbound pipeline (product-rules §1), in order: carrier keywords, rate limit, safety
//! phrases, then registration for unknown numbers or the conversation for users. Each step may
//! end processing; whatever it decides is written in the caller's transaction.

use proto::Envelope;
use proto::v1::{OptInSource, OptOutSource, SmsPurpose, UserOptedIn, UserOptedOut};
use sqlx::PgConnection;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::linkup;
use crate::registration;
use crate::replies::Reply;
use crate::screening;
use crate::store::arrival::{self, Window};
use crate::store::identity::{self, User};
use crate::store::optouts::{self, RateDecision};
use crate::store::registrations::Registration;
use crate::store::sessions;
use crate::text::keywords::{CarrierCommand, carrier_command};

/// Inbound texts a phone may send per minute before JOSH asks it to slow down.
pub const RATE_LIMIT_PER_MINUTE: i32 = 10;

/// One decrypted inbound text.
#[derive(Debug)]
pub struct Inbound<'a> {
    /// The envelope it arrived in (for correlation and causation).
    pub envelope: &'a Envelope,
    /// Twilio's MessageSid.
    pub message_sid: &'a str,
    /// Sender, E.164.
    pub phone_e164: &'a str,
    /// Keyed hash of the sender.
    pub phone_hash: &'a str,
    /// The text (never logged).
    pub text: &'a str,
}

/// What the pipeline made of one text.
#[derive(Debug)]
pub struct Answer {
    /// The sender, when registered.
    pub user: Option<User>,
    /// The replies to send.
    pub replies: Vec<Reply>,
    /// The sender's phone was read as not opted out in this transaction, and no carrier command
    /// (the only thing that changes it) ran since: the replies need no second look.
    pub opt_out_clear: bool,
}

/// Runs the pipeline for one text and returns the replies to send.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails; the transaction is then rolled back
/// and the text redelivered.
#[tracing::instrument(skip_all, fields(message_sid = msg.message_sid))]
pub async fn run(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
) -> Result<Answer, RouterError> {
    // Only a text that reads as a carrier command to an opted-out phone (the wider reading: a
    // bare "yes" too) needs the opt-out before anything is counted; every other text takes the
    // one-statement arrival.
    if carrier_command(msg.text, true).is_some() {
        let identity::Texter { user, opted_out } = identity::texter(tx, msg.phone_hash).await?;
        if let Some(command) = carrier_command(msg.text, opted_out) {
            let replies = carrier(tx, ctx, msg, user.as_ref(), command, opted_out).await?;
            return Ok(Answer {
                user,
                replies,
                opt_out_clear: false,
            });
        }
    }
    let arrival = arrival::arrive(tx, msg.phone_hash, ctx.clock.now()).await?;
    let Some(window) = arrival.window else {
        // Opt-out wins over everything but the one confirmation.
        tracing::info!("text from an opted-out phone ignored");
        return Ok(Answer {
            user: arrival.user,
            replies: Vec::new(),
            opt_out_clear: false,
        });
    };
    let user = arrival.user;
    let replies = respond(tx, ctx, msg, user.as_ref(), window, arrival.registration).await?;
    Ok(Answer {
        user,
        replies,
        opt_out_clear: true,
    })
}

/// The pipeline past the carrier commands, for a phone that is not opted out and whose text
/// was counted in `window`.
async fn respond(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: Option<&User>,
    window: Window,
    registration: Option<Registration>,
) -> Result<Vec<Reply>, RouterError> {
    match optouts::rate_decision(tx, msg.phone_hash, window, RATE_LIMIT_PER_MINUTE).await? {
        RateDecision::Allow => {}
        RateDecision::WarnOnce => return Ok(vec![Reply::say(copy::SLOW_DOWN)]),
        RateDecision::Drop => return Ok(Vec::new()),
    }
    if let Some(replies) = screening::screen(tx, ctx, msg, user).await? {
        return Ok(replies);
    }
    match user {
        None => registration::step(tx, ctx, msg, registration).await,
        Some(user) => converse(tx, ctx, msg, user).await,
    }
}

async fn carrier(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: Option<&User>,
    command: CarrierCommand,
    opted_out: bool,
) -> Result<Vec<Reply>, RouterError> {
    let now = ctx.clock.now();
    let user_id = user.map(|u| u.id);
    match command {
        CarrierCommand::OptOut => {
            let whole_word = crate::text::keywords::OPT_OUT_WORDS
                .contains(&msg.text.trim().to_lowercase().as_str());
            let (source, label) = if whole_word {
                (OptOutSource::Keyword, "keyword")
            } else {
                (OptOutSource::PlainLanguage, "plain_language")
            };
            if !optouts::opt_out(tx, msg.phone_hash, user_id, label, now).await? {
                return Ok(Vec::new()); // exactly one confirmation, then silence
            }
            let fact = UserOptedOut {
                user_id: user_id.map(|u| u.to_string()).unwrap_or_default(),
                phone_hash: msg.phone_hash.to_owned(),
                source: source.into(),
                message_sid: msg.message_sid.to_owned(),
                opted_out_at: Some(proto::timestamp::to_timestamp(now)),
            };
            events::publish(
                tx,
                msg.envelope,
                fact,
                format!("opted_out:{}", msg.message_sid),
                msg.phone_hash,
            )
            .await?;
            Ok(vec![Reply::with_purpose(
                copy::OPT_OUT_CONFIRMATION,
                SmsPurpose::OptOutConfirmation,
            )])
        }
        CarrierCommand::OptIn => {
            if optouts::opt_in(tx, msg.phone_hash, now).await? {
                let source = if opted_out && msg.text.trim().eq_ignore_ascii_case("yes") {
                    OptInSource::YesAfterStop
                } else {
                    OptInSource::Keyword
                };
                let fact = UserOptedIn {
                    user_id: user_id.map(|u| u.to_string()).unwrap_or_default(),
                    phone_hash: msg.phone_hash.to_owned(),
                    source: source.into(),
                    message_sid: msg.message_sid.to_owned(),
                    opted_in_at: Some(proto::timestamp::to_timestamp(now)),
                };
                events::publish(
                    tx,
                    msg.envelope,
                    fact,
                    format!("opted_in:{}", msg.message_sid),
                    msg.phone_hash,
                )
                .await?;
            }
            Ok(vec![Reply::with_purpose(
                copy::OPT_IN_CONFIRMATION,
                SmsPurpose::Help,
            )])
        }
        CarrierCommand::Help => Ok(vec![Reply::with_purpose(copy::HELP, SmsPurpose::Help)]),
    }
}

/// A registered user's text: a held account hears it is paused; an interview in progress takes
/// the answer; otherwise the menu, never silence. LinkUp, invite and post-event dialogs plug in
/// here as they arrive.
async fn converse(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let hold = crate::store::safety::hold_state(tx, user.id, ctx.clock.now()).await?;
    let Some(session) = sessions::session(tx, user.id).await? else {
        return Ok(vec![Reply::say(copy::MENU)]);
    };
    // A hard hold leaves only safety and legal texts: HELP and STOP (above) and REPORT.
    let reporting = crate::text::normalize::words(msg.text) == "report"
        || matches!(
            crate::commands::Pending::from_token(&session.state_token),
            Some(crate::commands::Pending::Report { .. })
        );
    if hold == "hard_hold" && !reporting {
        return Ok(vec![Reply::say(copy::ACCOUNT_PAUSED)]);
    }
    let replies = match commands_first(tx, ctx, msg, user, &session).await? {
        Some(replies) => replies,
        None => by_mode(tx, ctx, msg, user, &session).await?,
    };
    sessions::touch(tx, user.id, msg.message_sid, ctx.clock.now()).await?;
    Ok(replies)
}

/// A pending command dialog's answer, or a command named at any time.
async fn commands_first(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    session: &sessions::Session,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let live = session.expires_at.is_some_and(|at| at > ctx.clock.now());
    if let Some(pending) = crate::commands::Pending::from_token(&session.state_token) {
        if live && let Some(replies) = crate::commands::answer(tx, ctx, msg, user, pending).await? {
            return Ok(Some(replies));
        }
        sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
    }
    crate::commands::run(tx, ctx, msg, user).await
}

/// The text in the light of the conversation's mode.
async fn by_mode(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    session: &sessions::Session,
) -> Result<Vec<Reply>, RouterError> {
    let session = session.clone();
    Ok(match session.mode.as_str() {
        "interviewing" => crate::interview::step(tx, ctx, msg, user, &session).await?,
        "linkup_forming" => match linkup::resume(tx, ctx, msg, user, &session).await? {
            Some(replies) => replies,
            None => invite_or_idle(tx, ctx, msg, user, &session).await?,
        },
        _ => match crate::post_event::PostEvent::from_token(&session.state_token) {
            Some(state) => match crate::post_event::answer(tx, ctx, msg, user, state).await? {
                Some(replies) => replies,
                None => invite_or_idle(tx, ctx, msg, user, &session).await?,
            },
            None => invite_or_idle(tx, ctx, msg, user, &session).await?,
        },
    })
}

/// An answer to a pending invite if it reads as one, else an idle text.
async fn invite_or_idle(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    session: &sessions::Session,
) -> Result<Vec<Reply>, RouterError> {
    match crate::invites::reply(tx, ctx, msg, user, session).await? {
        Some(replies) => Ok(replies),
        None => idle(tx, ctx, msg, user).await,
    }
}

/// A text outside any dialog: a command, a free-text LinkUp request, or the menu.
async fn idle(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    if linkup::is_command(msg.text) {
        return linkup::start(tx, ctx, msg, user, linkup::draft::Draft::command()).await;
    }
    let catalog = crate::store::profiles::activities(tx).await?;
    if let Some(draft) = linkup::intent(msg.text, &catalog) {
        return linkup::start(tx, ctx, msg, user, draft).await;
    }
    Ok(vec![Reply::say(copy::MENU)])
}
