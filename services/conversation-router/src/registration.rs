//! Registration over SMS (product-rules §2): an unknown number is offered to join right there —
//! first name, last name, birthday (18+), ZIP, then one AGREE step for the consents — and ends
//! in the same state as the web path: a verified user whose ZIP picks the region; an open
//! region starts the interview, a waitlisted or closed one puts them on its list.

use proto::v1::{Channel, UserRegistered, UserState, UserVerified};
use sqlx::PgConnection;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::{self, NewUser};
use crate::store::registrations::{self, Answer, Registration};
use crate::text::registration::{self as parse, RegistrationError};

/// The reply to a text from an unknown number whose open registration (if any) is `open`.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
#[tracing::instrument(skip_all)]
pub async fn step(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    open: Option<Registration>,
) -> Result<Vec<Reply>, RouterError> {
    let now = ctx.clock.now();
    let Some(reg) = open else {
        registrations::start(tx, msg.phone_hash, msg.phone_e164, now).await?;
        return Ok(vec![Reply::say(copy::REGISTER_WELCOME)]);
    };
    let reply = match reg.step.as_str() {
        "first_name" => match parse::name(msg.text) {
            Ok(first) => {
                let reply = copy::ask_last_name(&first);
                registrations::answer(tx, reg.id, &Answer::FirstName(first)).await?;
                reply
            }
            Err(_) => copy::NAME_AGAIN.to_owned(),
        },
        "last_name" => match parse::name(msg.text) {
            Ok(last) => {
                registrations::answer(tx, reg.id, &Answer::LastName(last)).await?;
                copy::ASK_BIRTHDAY.to_owned()
            }
            Err(_) => copy::NAME_AGAIN.to_owned(),
        },
        "birthday" => match parse::birthday(msg.text, now.date()) {
            Ok(date) => {
                registrations::answer(tx, reg.id, &Answer::Birthday(date)).await?;
                copy::ASK_ZIP.to_owned()
            }
            Err(RegistrationError::Underage) => {
                registrations::discard(tx, reg.id).await?;
                copy::UNDER_18.to_owned()
            }
            Err(_) => copy::BIRTHDAY_AGAIN.to_owned(),
        },
        "zip" => match parse::zip(msg.text) {
            Ok(zip) => {
                registrations::answer(tx, reg.id, &Answer::Zip(zip)).await?;
                copy::ask_agree(&ctx.public_base_url)
            }
            Err(_) => copy::ZIP_AGAIN.to_owned(),
        },
        _ if parse::agrees(msg.text) => return finish(tx, ctx, msg, &reg).await,
        _ => copy::ask_agree(&ctx.public_base_url),
    };
    Ok(vec![Reply::say(reply)])
}

/// The AGREE step: create the verified user, place them in their region, start the interview
/// or the waitlist.
async fn finish(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    reg: &Registration,
) -> Result<Vec<Reply>, RouterError> {
    let now = ctx.clock.now();
    let (Some(first), Some(last), Some(birthday), Some(zip)) =
        (&reg.first_name, &reg.last_name, reg.birthday, &reg.zip_code)
    else {
        // A registration cannot reach AGREE without its answers; start over rather than guess.
        registrations::start(tx, msg.phone_hash, msg.phone_e164, now).await?;
        return Ok(vec![Reply::say(copy::REGISTER_WELCOME)]);
    };
    let region = identity::region_by_zip(tx, zip).await?;
    let user_id = identity::create_verified_user(
        tx,
        &NewUser {
            phone_e164: msg.phone_e164,
            phone_hash: msg.phone_hash,
            first_name: first,
            last_name: last,
            birthday,
            zip_code: zip,
            region_id: region.as_ref().map(|r| r.id),
            consented_at: now,
        },
    )
    .await?;
    registrations::complete(tx, reg.id, user_id, now).await?;
    let verified = Verified {
        cause: msg.envelope,
        phone_hash: msg.phone_hash,
        user_id,
        first_name: first,
        region,
        channel: Channel::Sms,
    };
    activate(tx, ctx, &verified).await
}

/// A user who just became verified, by either path.
#[derive(Debug)]
pub struct Verified<'a> {
    /// What caused it (the AGREE text, or the HTTP request's origin).
    pub cause: &'a proto::Envelope,
    /// Keyed hash of the phone.
    pub phone_hash: &'a str,
    /// The user.
    pub user_id: uuid::Uuid,
    /// For the greeting.
    pub first_name: &'a str,
    /// The ZIP's region, if any.
    pub region: Option<identity::Region>,
    /// SMS or web.
    pub channel: Channel,
}

/// Places a verified user in their region: an open one starts the interview (its opening
/// texts are returned), a waitlisted or closed one puts them on its list. Both paths end here.
/// An open region that ops paused (`CloseRegion`) registers as open: the pause is temporary,
/// so the person becomes an active member and does the interview; only LinkUps wait.
///
/// # Errors
/// [`RouterError`] when the database or the outbox fails.
pub async fn activate(
    tx: &mut PgConnection,
    ctx: &Context,
    v: &Verified<'_>,
) -> Result<Vec<Reply>, RouterError> {
    let now = ctx.clock.now();
    let open = v.region.as_ref().is_some_and(|r| r.state == "open");
    let reply = if let Some(region) = &v.region {
        let status = if open { "active" } else { "waitlisted" };
        identity::add_membership(tx, v.user_id, region.id, status).await?;
        if open {
            identity::set_user_state(tx, v.user_id, "interviewing").await?;
            let first_step = crate::interview::FIRST_STEP;
            identity::start_conversation(tx, v.user_id, "interviewing", first_step, now).await?;
            publish_registration(tx, v, Some(region.id), true, now).await?;
            record(tx, v, "interviewing").await?;
            return Ok(crate::interview::opening(v.first_name));
        }
        identity::start_conversation(tx, v.user_id, "idle", "waitlisted", now).await?;
        copy::waitlisted(&region.display_name)
    } else {
        identity::start_conversation(tx, v.user_id, "idle", "no_region", now).await?;
        copy::waitlisted("your area")
    };
    record(tx, v, "verified").await?;
    publish_registration(tx, v, v.region.as_ref().map(|r| r.id), open, now).await?;
    Ok(vec![Reply::say(reply)])
}

/// Appends the registration to `domain_events`.
async fn record(tx: &mut PgConnection, v: &Verified<'_>, to: &str) -> Result<(), RouterError> {
    let user_id = v.user_id;
    let correlation = uuid::Uuid::parse_str(&v.cause.correlation_id).ok();
    let key = format!("user:{user_id}:registered");
    identity::record_transition(
        tx,
        "user",
        user_id,
        "registered",
        (None, Some(to)),
        &key,
        correlation,
    )
    .await?;
    Ok(())
}

async fn publish_registration(
    tx: &mut PgConnection,
    v: &Verified<'_>,
    region_id: Option<uuid::Uuid>,
    open: bool,
    now: time::OffsetDateTime,
) -> Result<(), RouterError> {
    let user_id = v.user_id;
    let state = if open {
        UserState::Interviewing
    } else {
        UserState::Verified
    };
    let at = Some(proto::timestamp::to_timestamp(now));
    let region_id = region_id.map(|r| r.to_string()).unwrap_or_default();
    let registered = UserRegistered {
        user_id: user_id.to_string(),
        phone_hash: v.phone_hash.to_owned(),
        region_id: region_id.clone(),
        channel: v.channel.into(),
        waitlisted: !open,
        state: state.into(),
        registered_at: at,
    };
    events::publish(
        tx,
        v.cause,
        registered,
        format!("registered:{user_id}"),
        v.phone_hash,
    )
    .await?;
    let verified = UserVerified {
        user_id: user_id.to_string(),
        phone_hash: v.phone_hash.to_owned(),
        channel: v.channel.into(),
        region_id,
        waitlisted: !open,
        state: state.into(),
        verified_at: at,
    };
    events::publish(
        tx,
        v.cause,
        verified,
        format!("verified:{user_id}"),
        v.phone_hash,
    )
    .await
}
