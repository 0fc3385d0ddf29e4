//! Safety phrases (product-rules §9): a hit ends processing for that text. Crisis gets the
//! crisis reply at once, a critical incident and a soft hold; high risk a hard hold and an admin
//! alert; medium a warning, an incident and a strike (3 in 90 days: a 7-day soft hold; 4 or
//! more: a hard hold); low is logged.

use proto::v1::{
    HoldReason, IncidentOpened, IncidentSeverity, IncidentType, SafetyHoldChanged, SafetyHoldState,
    SmsPurpose,
};
use sqlx::PgConnection;
use time::Duration;
use uuid::Uuid;

use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::store::identity::User;
use crate::store::safety::{self as store, NewIncident};
use crate::text::safety::{SafetyHit, Tier};

/// How long strikes put someone on a soft hold.
const STRIKE_HOLD: Duration = Duration::days(7);

/// Screens one text; `Some(replies)` when a phrase matched (processing ends there).
///
/// # Errors
/// [`RouterError`] when recording the incident fails.
pub async fn screen(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: Option<&User>,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let rules = ctx.safety_rules.current(tx).await?;
    let Some(hit) = rules.classify(msg.text) else {
        return Ok(None);
    };
    let user_id = user.map(|u| u.id);
    tracing::warn!(tier = ?hit.tier, phrase = %hit.phrase, "safety phrase matched");
    let (severity, admin_alert, hold_for_tier, reply) = match hit.tier {
        Tier::Low => return Ok(Some(Vec::new())),
        Tier::Medium => (IncidentSeverity::Medium, false, None, copy::SAFETY_WARNING),
        Tier::High => (
            IncidentSeverity::High,
            true,
            Some(Hold::indefinite("hard_hold", HoldReason::HighRiskKeyword)),
            copy::ACCOUNT_PAUSED,
        ),
        Tier::Crisis => (
            IncidentSeverity::Critical,
            true,
            Some(Hold::indefinite("soft_hold", HoldReason::Crisis)),
            copy::CRISIS,
        ),
    };
    let incident_id = incident(tx, msg, user_id, &hit, severity, admin_alert).await?;
    if let Some(user_id) = user_id {
        match hold_for_tier {
            Some(h) => {
                hold(
                    tx,
                    ctx,
                    &Cause::of(msg),
                    user_id,
                    &h,
                    &incident_id.to_string(),
                )
                .await?
            }
            // Medium language counts as a strike instead; strikes escalate to holds.
            None => {
                let why = ("safety_keyword", "medium-tier language");
                strike(tx, ctx, &Cause::of(msg), user_id, why).await?;
            }
        }
    }
    let replies = vec![Reply::with_purpose(reply, SmsPurpose::Safety)];
    Ok(Some(replies))
}

async fn incident(
    tx: &mut PgConnection,
    msg: &Inbound<'_>,
    user_id: Option<Uuid>,
    hit: &SafetyHit,
    severity: IncidentSeverity,
    admin_alert: bool,
) -> Result<Uuid, RouterError> {
    let crisis = hit.tier == Tier::Crisis;
    let tier = format!("{:?}", hit.tier).to_lowercase();
    let id = store::open_incident(
        tx,
        &NewIncident {
            user_id,
            phone_hash: msg.phone_hash,
            incident_type: if crisis { "crisis" } else { "safety_keyword" },
            severity: severity as i32,
            details: serde_json::json!({
                "tier": tier, "phrase": hit.phrase, "message_sid": msg.message_sid,
            }),
        },
    )
    .await?;
    let fact = IncidentOpened {
        incident_id: id.to_string(),
        user_id: user_id.map(|u| u.to_string()).unwrap_or_default(),
        phone_hash: msg.phone_hash.to_owned(),
        incident_type: if crisis {
            IncidentType::Crisis
        } else {
            IncidentType::SafetyKeyword
        }
        .into(),
        severity: severity.into(),
        admin_alert,
        urgent: crisis,
        keyword_tier: tier,
        message_sid: msg.message_sid.to_owned(),
        opened_at: msg.envelope.occurred_at,
        ..IncidentOpened::default()
    };
    events::publish(
        tx,
        msg.envelope,
        fact,
        format!("incident:{}", msg.message_sid),
        msg.phone_hash,
    )
    .await?;
    Ok(id)
}

/// What caused a safety action: the envelope, a key unique to the cause, and the partition of
/// the facts it publishes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cause<'a> {
    /// The message that caused it.
    pub envelope: &'a proto::Envelope,
    /// Unique per cause (the inbound message SID, or the fact's event id).
    pub key: &'a str,
    /// Partition key of the published facts.
    pub partition: &'a str,
}

impl<'a> Cause<'a> {
    /// Caused by an inbound text.
    pub(crate) fn of(msg: &'a Inbound<'a>) -> Self {
        Self {
            envelope: msg.envelope,
            key: msg.message_sid,
            partition: msg.phone_hash,
        }
    }
}

/// What a strike did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Struck {
    /// Strike points active within the window, this one included.
    pub active: i64,
    /// The hold the strikes escalated to (`soft_hold` or `hard_hold`), if any.
    pub escalated_to: Option<&'static str>,
}

/// Records a strike (`why` = strike type and reason) and applies the hold thresholds: 3 active
/// in 90 days → a 7-day soft hold, 4 or more → a hard hold.
pub(crate) async fn strike(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause<'_>,
    user_id: Uuid,
    why: (&str, &str),
) -> Result<Struck, RouterError> {
    let now = ctx.clock.now();
    let active = store::add_strike(tx, user_id, why.0, why.1, now).await?;
    let escalation = if active >= 4 {
        Some(Hold::indefinite("hard_hold", HoldReason::Strikes))
    } else if active == 3 {
        Some(Hold {
            state: "soft_hold",
            reason: HoldReason::Strikes,
            expires_at: Some(now + STRIKE_HOLD),
        })
    } else {
        None
    };
    if let Some(h) = &escalation {
        hold(tx, ctx, cause, user_id, h, "").await?;
    }
    Ok(Struck {
        active,
        escalated_to: escalation.map(|h| h.state),
    })
}

/// A hold to apply.
pub(crate) struct Hold {
    /// `soft_hold` or `hard_hold`.
    state: &'static str,
    reason: HoldReason,
    /// None: until reviewed.
    expires_at: Option<time::OffsetDateTime>,
}

impl Hold {
    pub(crate) fn indefinite(state: &'static str, reason: HoldReason) -> Self {
        Self {
            state,
            reason,
            expires_at: None,
        }
    }
}

pub(crate) async fn hold(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause<'_>,
    user_id: Uuid,
    hold: &Hold,
    incident_id: &str,
) -> Result<(), RouterError> {
    let Hold {
        state,
        reason,
        expires_at,
    } = *hold;
    let now = ctx.clock.now();
    let previous =
        store::raise_hold(tx, user_id, state, reason.as_str_name(), expires_at, now).await?;
    if previous == state || previous == "hard_hold" {
        return Ok(());
    }
    let as_proto = |s: &str| match s {
        "soft_hold" => SafetyHoldState::SoftHold,
        "hard_hold" => SafetyHoldState::HardHold,
        _ => SafetyHoldState::None,
    };
    let fact = SafetyHoldChanged {
        user_id: user_id.to_string(),
        state: as_proto(state).into(),
        previous_state: as_proto(&previous).into(),
        reason: reason.into(),
        expires_at: expires_at.map(proto::timestamp::to_timestamp),
        incident_id: incident_id.to_owned(),
        changed_at: Some(proto::timestamp::to_timestamp(now)),
        ..SafetyHoldChanged::default()
    };
    events::publish(
        tx,
        cause.envelope,
        fact,
        format!("hold:{}:{state}", cause.key),
        cause.partition,
    )
    .await
}
