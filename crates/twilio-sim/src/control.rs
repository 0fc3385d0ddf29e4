//! The simulator-only API under `/sim/` (see [`crate::wire`] for the bodies): simulated phones,
//! fault injection, manual status callbacks, health.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use tokio::time::Instant;
use twilio::status::MessageStatus;

use crate::inbound::{self, Inbound};
use crate::resource::{message_json, rfc2822};
use crate::state::InjectedError;
use crate::validate::is_e164;
use crate::wire::{
    Faults, FireStatus, Health, InboxMessage, OutboundFeed, OutboundRecord, PhoneSend, PhoneSent,
    SimError, StatusFired,
};
use crate::{Shared, fire_status};

/// Longest a long poll waits.
const MAX_WAIT: Duration = Duration::from_secs(60);

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/sim/health", get(health))
        .route("/sim/phones/{number}/send", post(phone_send))
        .route("/sim/phones/{number}/messages", get(phone_inbox))
        .route("/sim/faults", post(faults))
        .route("/sim/messages", get(all_messages))
        .route("/sim/outbound", get(outbound_feed))
        .route("/sim/messages/{sid}/status", post(status))
}

fn sim_error(status: StatusCode, error: impl Into<String>) -> Response {
    (
        status,
        Json(SimError {
            error: error.into(),
        }),
    )
        .into_response()
}

async fn health(State(shared): State<Arc<Shared>>) -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
        josh_number: shared.store.josh_number(),
    })
}

async fn phone_send(
    State(shared): State<Arc<Shared>>,
    Path(number): Path<String>,
    Json(send): Json<PhoneSend>,
) -> Response {
    if !is_e164(&number) || !is_e164(&send.to) {
        return sim_error(
            StatusCode::BAD_REQUEST,
            "phone numbers must be E.164, e.g. +15555550100",
        );
    }
    let text = Inbound {
        from: &number,
        to: &send.to,
        body: &send.body,
        messaging_service_sid: send.messaging_service_sid.as_deref(),
        sid: send.sid.as_deref(),
    };
    if send.sid.as_deref().is_some_and(|sid| !is_message_sid(sid)) {
        return sim_error(
            StatusCode::BAD_REQUEST,
            "sid must be SM followed by 32 hex digits",
        );
    }
    match inbound::send(&shared, text).await {
        Ok(sent) => Json(PhoneSent {
            sid: sent.sid,
            webhook_status: sent.http_status,
            answered_at_us: unix_us(sent.answered_at),
        })
        .into_response(),
        Err(error) => sim_error(StatusCode::BAD_GATEWAY, format!("{error:#}")),
    }
}

/// `after` and `wait` of an inbox long poll.
#[derive(Debug, serde::Deserialize)]
struct InboxQuery {
    after: Option<usize>,
    wait: Option<f64>,
}

async fn phone_inbox(
    State(shared): State<Arc<Shared>>,
    Path(number): Path<String>,
    Query(query): Query<InboxQuery>,
) -> Json<Vec<InboxMessage>> {
    let from_index = query.after.map_or(0, |after| after.saturating_add(1));
    let wait = query
        .wait
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .unwrap_or(Duration::ZERO)
        .min(MAX_WAIT);
    let deadline = Instant::now() + wait;
    let mut deliveries = shared.store.watch_deliveries();
    loop {
        deliveries.borrow_and_update();
        let found = shared.store.inbox(&number, from_index);
        if !found.is_empty() || Instant::now() >= deadline {
            let messages = found
                .into_iter()
                .map(|(index, m)| InboxMessage {
                    index,
                    sid: m.sid,
                    from: m.from,
                    to: m.to,
                    body: m.body,
                    date_created: rfc2822(m.date_created),
                })
                .collect();
            return Json(messages);
        }
        tokio::select! {
            changed = deliveries.changed() => if changed.is_err() { return Json(Vec::new()) },
            () = tokio::time::sleep_until(deadline) => {}
            () = shared.shutdown.cancelled() => return Json(Vec::new()),
        }
    }
}

async fn faults(State(shared): State<Arc<Shared>>, Json(faults): Json<Faults>) -> StatusCode {
    let store = &shared.store;
    if let Some(fail) = faults.fail_next_creates {
        store.fail_next_creates(
            fail.count,
            InjectedError {
                http_status: fail.http_status,
                code: fail.code,
            },
        );
    }
    for number in &faults.numbers {
        store.set_behavior(&number.number, number.behavior);
    }
    if let Some(ms) = faults.create_delay_ms {
        store.set_create_delay(Duration::from_millis(ms));
    }
    if let Some(on) = faults.auto_callbacks {
        store.set_auto_callbacks(on);
    }
    if let Some(on) = faults.drop_callbacks {
        store.set_drop_callbacks(on);
    }
    tracing::info!(faults = ?faults, "faults set");
    StatusCode::NO_CONTENT
}

fn is_message_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("SM") && sid[2..].chars().all(|c| c.is_ascii_hexdigit())
}

fn unix_us(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

/// `after` and `limit` of the outbound feed.
#[derive(Debug, serde::Deserialize)]
struct FeedQuery {
    after: Option<usize>,
    limit: Option<usize>,
}

/// Most messages one feed page returns.
const FEED_PAGE: usize = 1_000;

async fn outbound_feed(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<FeedQuery>,
) -> Json<OutboundFeed> {
    let from = query.after.map_or(0, |after| after.saturating_add(1));
    let limit = query.limit.unwrap_or(FEED_PAGE).clamp(1, FEED_PAGE);
    let (total, page) = shared.store.messages_from(from, limit);
    let messages = page
        .into_iter()
        .zip(from..)
        .map(|(m, index)| OutboundRecord {
            index,
            sid: m.sid,
            to: m.to,
            body: m.body,
            created_at_us: unix_us(m.date_created),
        })
        .collect();
    Json(OutboundFeed { total, messages })
}

async fn all_messages(State(shared): State<Arc<Shared>>) -> Json<serde_json::Value> {
    let render = |messages: Vec<crate::SimMessage>| -> Vec<serde_json::Value> {
        messages.iter().map(message_json).collect()
    };
    Json(json!({
        "outbound": render(shared.store.messages()),
        "inbound": render(shared.store.inbound()),
    }))
}

async fn status(
    State(shared): State<Arc<Shared>>,
    Path(sid): Path<String>,
    Json(fire): Json<FireStatus>,
) -> Response {
    let Ok(status) = fire.status.parse::<MessageStatus>() else {
        return sim_error(
            StatusCode::BAD_REQUEST,
            format!("unknown status {:?}", fire.status),
        );
    };
    match fire_status(&shared, &sid, status, fire.error_code).await {
        Ok(callback_status) => Json(StatusFired { callback_status }).into_response(),
        Err(error) => sim_error(StatusCode::BAD_GATEWAY, format!("{error:#}")),
    }
}
