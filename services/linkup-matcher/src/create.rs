//! `linkup.requested`: one LinkUp per create key, after the initiator's eligibility check; the
//! acceptance window set; draft → broadcasting; the timers scheduled; the first wave sent.

use std::sync::Arc;

use bus::{Handler, HandlerError};
use proto::v1::{
    LinkupBrief, LinkupCreated, LinkupRequestRefused, LinkupRequested, LinkupState, RefusalReason,
};
use proto::{Envelope, Payload};
use sqlx::PgConnection;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::brief::{Brief, TimeOption};
use crate::error::MatcherError;
use crate::out::{self, Cause, Transition};
use crate::store::{linkups, people, timers};
use crate::timewin::{self, TimeWindow};
use crate::{Context, waves};

/// Waves 2 and 3 go out this long after the broadcast starts (product-rules section 4).
pub const WAVE_OFFSETS: [(i32, Duration); 2] = [(2, Duration::hours(2)), (3, Duration::hours(8))];

/// Handles LinkUp requests.
#[derive(Debug, Clone)]
pub struct CreateHandler {
    ctx: Arc<Context>,
}

impl CreateHandler {
    /// A handler over the matcher's context.
    pub fn new(ctx: Arc<Context>) -> Self {
        Self { ctx }
    }
}

impl Handler for CreateHandler {
    async fn handle(&self, tx: &mut PgConnection, envelope: &Envelope) -> Result<(), HandlerError> {
        let Some(Payload::LinkupRequested(req)) = envelope.payload.as_ref() else {
            return Err(MatcherError::UnexpectedEvent("expected linkup.requested").into());
        };
        create(tx, &self.ctx, envelope, req)
            .await
            .map_err(HandlerError::from)
    }
}

/// Creates the LinkUp `req` asks for, or publishes why not.
///
/// # Errors
/// [`MatcherError`] for malformed ids or a failed write.
#[tracing::instrument(skip_all, fields(request_key = %req.request_key))]
pub async fn create(
    tx: &mut PgConnection,
    ctx: &Context,
    envelope: &Envelope,
    req: &LinkupRequested,
) -> Result<(), MatcherError> {
    let cause = Cause::of(envelope, ctx.clock.now());
    if linkups::by_create_key(tx, &req.request_key)
        .await?
        .is_some()
    {
        tracing::info!("linkup request replayed; the LinkUp exists");
        return Ok(());
    }
    match plan(tx, req, cause.at).await? {
        Ok(plan) => open(tx, ctx, &cause, req, plan).await,
        Err((reason, suggestion)) => refuse(tx, &cause, req, reason, suggestion).await,
    }
}

/// A request that passed every check.
struct Plan {
    initiator: Uuid,
    region: Uuid,
    brief: Brief,
    sizes: (i32, i32),
    window_end: OffsetDateTime,
    first_start: OffsetDateTime,
}

/// Checks the initiator and the brief and fixes the acceptance window, or says why not (with a
/// later time window for a request that comes too soon).
async fn plan(
    tx: &mut PgConnection,
    req: &LinkupRequested,
    now: OffsetDateTime,
) -> Result<Result<Plan, (RefusalReason, String)>, MatcherError> {
    let initiator = parse_id(&req.initiator_user_id)?;
    let region = parse_id(&req.region_id)?;
    if let Some(reason) = refusal(tx, initiator, region, now).await? {
        return Ok(Err((reason, String::new())));
    }
    let timezone = people::region_timezone(tx, region)
        .await?
        .unwrap_or_else(|| timewin::DEFAULT_TIMEZONE.to_owned());
    let proto_brief = req.brief.clone().unwrap_or_default();
    let Some((brief, sizes)) = resolve(tx, &proto_brief, &timezone, now).await? else {
        return Ok(Err((RefusalReason::InvalidBrief, String::new())));
    };
    let first_start = brief.options.iter().map(|o| o.starts).min().unwrap_or(now);
    let Some(window_end) = timewin::acceptance_end(now, first_start) else {
        let suggestion = brief
            .window()
            .and_then(|w| timewin::later_suggestion(w, now, &timezone))
            .map(TimeWindow::label)
            .unwrap_or_default();
        return Ok(Err((RefusalReason::TooSoon, suggestion)));
    };
    Ok(Ok(Plan {
        initiator,
        region,
        brief,
        sizes,
        window_end,
        first_start,
    }))
}

/// Inserts the LinkUp as a draft, starts broadcasting, schedules its timers, publishes
/// `linkup.created` and sends the first wave.
async fn open(
    tx: &mut PgConnection,
    ctx: &Context,
    cause: &Cause,
    req: &LinkupRequested,
    plan: Plan,
) -> Result<(), MatcherError> {
    let proto_brief = req.brief.clone().unwrap_or_default();
    let brief_json = plan.brief.to_json(&proto_brief);
    let new = linkups::NewLinkup {
        create_key: &req.request_key,
        initiator_user_id: plan.initiator,
        region_id: plan.region,
        brief: &brief_json,
        min_size: plan.sizes.0,
        max_size: plan.sizes.1,
        correlation_id: cause.correlation_uuid(),
        at: cause.at,
    };
    let Some(id) = linkups::insert_draft(tx, &new).await? else {
        return Ok(());
    };
    let t = |from, to, event_type| Transition {
        entity_type: "linkup",
        entity_id: id,
        event_type,
        from,
        to,
    };
    out::record(tx, cause, t(None, Some("draft"), "linkup.created")).await?;
    linkups::start_broadcast(tx, id, plan.window_end, plan.first_start, cause.at).await?;
    out::record(
        tx,
        cause,
        t(Some("draft"), Some("broadcasting"), "linkup.broadcasting"),
    )
    .await?;
    for (wave, offset) in WAVE_OFFSETS {
        if cause.at + offset < plan.window_end {
            timers::schedule(tx, id, "wave", wave, cause.at + offset).await?;
        }
    }
    timers::schedule(tx, id, "window_end", 0, plan.window_end).await?;
    let created = LinkupCreated {
        linkup_id: id.to_string(),
        initiator_user_id: plan.initiator.to_string(),
        region_id: plan.region.to_string(),
        state: LinkupState::Broadcasting.into(),
        brief: Some(proto_brief),
        acceptance_window_ends_at: Some(proto::timestamp::to_timestamp(plan.window_end)),
        request_key: req.request_key.clone(),
        created_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    out::publish(
        tx,
        cause,
        created,
        format!("linkup.created:{id}"),
        id.to_string(),
    )
    .await?;
    let linkup = linkups::lock_row(tx, id)
        .await?
        .ok_or(MatcherError::UnexpectedEvent("linkup vanished"))?;
    waves::send_wave(tx, ctx, cause, &linkup, 1).await
}

fn parse_id(s: &str) -> Result<Uuid, MatcherError> {
    Uuid::parse_str(s).map_err(|_| MatcherError::UnexpectedEvent("malformed id"))
}

/// Why the initiator may not start a LinkUp now, in the order of product-rules section 7.
async fn refusal(
    tx: &mut PgConnection,
    user: Uuid,
    region: Uuid,
    now: time::OffsetDateTime,
) -> Result<Option<RefusalReason>, MatcherError> {
    let i = people::initiator(tx, user, region, now).await?;
    let reason = if i.removed || i.user_state.as_deref() != Some("active") {
        Some(RefusalReason::AccountStatus)
    } else if i.held {
        Some(RefusalReason::SafetyHold)
    } else if !i.region_ok {
        Some(RefusalReason::Region)
    } else if !matches!(
        i.profile_state.as_deref(),
        Some("complete_mvp" | "complete_full" | "stale")
    ) {
        Some(RefusalReason::ProfileIncomplete)
    } else if !i.may_initiate {
        Some(RefusalReason::Subscription)
    } else {
        None
    };
    Ok(reason)
}

/// The brief with its catalog entry and option times, and (min, max) sizes; `None` when invalid.
async fn resolve(
    tx: &mut PgConnection,
    b: &LinkupBrief,
    timezone: &str,
    now: time::OffsetDateTime,
) -> Result<Option<(Brief, (i32, i32))>, MatcherError> {
    let min = if b.min_size == 0 {
        2
    } else {
        i32::try_from(b.min_size).unwrap_or(i32::MAX)
    };
    let max = if b.max_size == 0 {
        6
    } else {
        i32::try_from(b.max_size).unwrap_or(i32::MAX)
    };
    if !(2..=10).contains(&min) || !(2..=10).contains(&max) || min >= max {
        return Ok(None);
    }
    let Some((activity_name, category)) = people::activity(tx, &b.activity_key).await? else {
        return Ok(None);
    };
    let mut options = Vec::new();
    for (label, bucket) in [("A", &b.time_window), ("B", &b.option_b_time_window)] {
        if bucket.is_empty() && label == "B" {
            continue;
        }
        let Some(window) = TimeWindow::parse(bucket) else {
            return Ok(None);
        };
        let (starts, ends) = window.next_occurrence(now, timezone);
        options.push(TimeOption {
            label: label.to_owned(),
            window: window.label(),
            starts,
            ends,
        });
    }
    let brief = Brief {
        activity_key: b.activity_key.clone(),
        activity_name,
        category,
        options,
        motives: b
            .motive_emphasis
            .iter()
            .map(|(k, v)| (k.clone(), v.clamp(0.0, 1.0)))
            .collect(),
        location_hint: b.location_hint.clone(),
        timezone: timezone.to_owned(),
    };
    Ok(Some((brief, (min, max))))
}

async fn refuse(
    tx: &mut PgConnection,
    cause: &Cause,
    req: &LinkupRequested,
    reason: RefusalReason,
    suggested_time_window: String,
) -> Result<(), MatcherError> {
    tracing::info!(reason = reason.as_str_name(), "linkup request refused");
    let refused = LinkupRequestRefused {
        request_key: req.request_key.clone(),
        initiator_user_id: req.initiator_user_id.clone(),
        reason: reason.into(),
        suggested_time_window,
        refused_at: Some(proto::timestamp::to_timestamp(cause.at)),
    };
    let key = format!("linkup.request_refused:{}", req.request_key);
    out::publish(tx, cause, refused, key, req.initiator_user_id.clone()).await
}
