//! After the event: outcomes (once per user, a new answer replaces the old; a no-show becomes a
//! `linkup.no_show_recorded` for the safety side) and contact choices (a mutual yes creates one
//! canonical pair and tells both; a one-sided yes reveals nothing).

use std::sync::Arc;

use bus::{Handler, HandlerError};
use proto::v1::{
    Attendance, ContactChoice, ContactChoiceMade, ContactExchanged, NoShowRecorded,
    OutcomeReported, SmsPurpose,
};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::MatcherError;
use crate::out::{self, Cause, Text, Transition};
use crate::store::{after, linkups, people};
use crate::{Context, changes, timewin};

/// Handles outcome answers, contact choices, cancel and drop requests.
#[derive(Debug, Clone)]
pub struct AfterHandler {
    ctx: Arc<Context>,
}

impl AfterHandler {
    /// A handler over the matcher's context.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }

    async fn run(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), MatcherError> {
        let cause = Cause::of(envelope, self.ctx.clock.now());
        match envelope.payload.as_ref() {
            Some(Payload::OutcomeReported(o)) => outcome(tx, &cause, o).await,
            Some(Payload::ContactChoiceMade(c)) => choice(tx, &self.ctx, &cause, c).await,
            Some(Payload::CancelRequested(c)) => changes::cancel(tx, &self.ctx, &cause, c).await,
            Some(Payload::DropRequested(d)) => changes::drop_out(tx, &self.ctx, &cause, d).await,
            _ => Err(MatcherError::UnexpectedEvent("not an after-lock event")),
        }
    }
}

impl Handler for AfterHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        self.run(tx, envelope).await.map_err(HandlerError::from)
    }
}

pub(crate) fn id(s: &str) -> Result<Uuid, MatcherError> {
    Uuid::parse_str(s).map_err(|_| MatcherError::UnexpectedEvent("malformed id"))
}

/// Stores one participant's outcome answers.
#[tracing::instrument(skip_all, fields(linkup_id = %o.linkup_id))]
async fn outcome(
    tx: &mut PgConnection,
    cause: &Cause,
    o: &OutcomeReported,
) -> Result<(), MatcherError> {
    let (linkup, user) = (id(&o.linkup_id)?, id(&o.user_id)?);
    let Some((state, Some(_))) = after::membership(tx, linkup, user).await? else {
        tracing::warn!("outcome from someone not in the LinkUp; ignored");
        return Ok(());
    };
    if state != "completed" {
        tracing::warn!(state, "outcome before completion; ignored");
        return Ok(());
    }
    let attendance = match o.attendance() {
        Attendance::Attended => Some("attended"),
        Attendance::NoShow => Some("no_show"),
        Attendance::Unsure => Some("unsure"),
        Attendance::NoResponse => Some("no_response"),
        Attendance::Unspecified => None,
    };
    let before = after::upsert_outcome(tx, linkup, user, attendance, o.do_again, cause.at).await?;
    if attendance != before.as_deref() && attendance.is_some() {
        let t = Transition {
            entity_type: "linkup_outcome",
            entity_id: user,
            event_type: "linkup.outcome_recorded",
            from: before.as_deref(),
            to: attendance,
        };
        out::record(tx, cause, t).await?;
    }
    if attendance == Some("no_show") {
        let event = NoShowRecorded {
            linkup_id: linkup.to_string(),
            user_id: user.to_string(),
            recorded_at: Some(proto::timestamp::to_timestamp(cause.at)),
        };
        out::publish(
            tx,
            cause,
            event,
            format!("linkup.no_show_recorded:{linkup}:{user}"),
            user.to_string(),
        )
        .await?;
    }
    Ok(())
}

/// Stores a choice per target and reveals each pair that became mutual.
#[tracing::instrument(skip_all, fields(linkup_id = %c.linkup_id))]
async fn choice(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    c: &ContactChoiceMade,
) -> Result<(), MatcherError> {
    let (linkup, chooser) = (id(&c.linkup_id)?, id(&c.chooser_user_id)?);
    if !attendee(tx, linkup, chooser).await? {
        tracing::warn!("contact choice from someone not attending; ignored");
        return Ok(());
    }
    let yes = c.choice() == ContactChoice::Yes;
    for target in &c.target_user_ids {
        let target = id(target)?;
        if target == chooser || !attendee(tx, linkup, target).await? {
            continue;
        }
        after::choose(tx, linkup, chooser, target, yes, cause.at).await?;
        if yes && after::said_yes(tx, linkup, target, chooser).await? {
            reveal(tx, ctx, cause, linkup, (chooser, target)).await?;
        }
    }
    Ok(())
}

/// A participant of a completed LinkUp who did not report a no-show.
async fn attendee(tx: &mut PgConnection, linkup: Uuid, user: Uuid) -> Result<bool, MatcherError> {
    Ok(matches!(
        after::membership(tx, linkup, user).await?,
        Some((state, Some(status))) if state == "completed" && (status == "confirmed" || status == "attended")
    ))
}

/// Both said yes: blocks and holds re-checked, the pair stored once, both told.
async fn reveal(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: Uuid,
    pair: (Uuid, Uuid),
) -> Result<(), MatcherError> {
    let both = [pair.0, pair.1];
    if !people::now_ineligible(tx, &both, &both, cause.at)
        .await?
        .is_empty()
    {
        tracing::info!("mutual yes held back by a block, hold or lapsed entitlement");
        return Ok(());
    }
    let Some(exchange) = after::insert_exchange(tx, linkup, pair, cause.at).await? else {
        return Ok(());
    };
    let (a, b) = if pair.0 < pair.1 {
        pair
    } else {
        (pair.1, pair.0)
    };
    let t = Transition {
        entity_type: "contact_exchange",
        entity_id: exchange,
        event_type: "linkup.contact_exchanged",
        from: None,
        to: Some("revealed"),
    };
    out::record(tx, cause, t).await?;
    let event = ContactExchanged {
        exchange_id: exchange.to_string(),
        linkup_id: linkup.to_string(),
        user_a_id: a.to_string(),
        user_b_id: b.to_string(),
        revealed_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        event,
        format!("linkup.contact_exchanged:{exchange}"),
        linkup.to_string(),
    )
    .await?;
    tell_each_other(tx, ctx, cause, linkup, exchange, both).await
}

/// Each of the pair gets the other's first name and number, and how to BLOCK.
async fn tell_each_other(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    linkup: Uuid,
    exchange: Uuid,
    both: [Uuid; 2],
) -> Result<(), MatcherError> {
    let contacts = people::contacts(tx, &both).await?;
    let timezone = linkups::timezone(tx, linkup)
        .await?
        .unwrap_or_else(|| timewin::DEFAULT_TIMEZONE.to_owned());
    for (me, other) in [(0, 1), (1, 0)] {
        let (Some(to), Some(them)) = (contacts.get(me), contacts.get(other)) else {
            continue;
        };
        let text = Text {
            to,
            body: crate::copy::reveal(&them.first_name, &them.phone_e164),
            purpose: SmsPurpose::ContactReveal,
            idempotency_key: format!("reveal-sms:{exchange}:{}", to.user_id),
            linkup_id: linkup,
            validity_seconds: 0,
            timezone: &timezone,
        };
        out::send(tx, ctx, cause, text).await?;
    }
    Ok(())
}
