//! How the router's user timeline prints (`joshctl user show`'s conversation-router part): a
//! readable table, or JSON for scripts.

use std::fmt::Write as _;

use rpc::admin::v1 as api;

/// A timestamp as RFC 3339, empty when absent.
pub(crate) fn at(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|t| {
        let nanos = i128::from(t.seconds) * 1_000_000_000 + i128::from(t.nanos);
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    })
    .and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_default()
}

pub(crate) fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// The user's state, region, profile, session, hold and counts, one `key value` line each.
pub(crate) fn header(v: &api::UserTimelineResponse) -> String {
    let mut out = String::new();
    let hold = if v.hold_reason.is_empty() {
        v.hold_state.clone()
    } else {
        format!("{} ({})", v.hold_state, v.hold_reason)
    };
    let rows = [
        ("user", v.user_id.clone()),
        ("state", v.state.clone()),
        (
            "region",
            format!("{} ({})", or_dash(&v.region), or_dash(&v.region_membership)),
        ),
        ("profile", or_dash(&v.profile_state).to_owned()),
        ("session", or_dash(&v.session_mode).to_owned()),
        ("hold", hold),
        ("strikes", v.active_strike_points.to_string()),
        ("incidents", v.incidents.to_string()),
        ("reports", v.reports_against.to_string()),
    ];
    for (k, val) in rows {
        let _ = writeln!(out, "{k:<10} {val}");
    }
    out
}

/// The view as JSON.
pub(crate) fn json(v: &api::UserTimelineResponse) -> serde_json::Value {
    serde_json::json!({
        "user_id": v.user_id,
        "state": v.state,
        "region": v.region,
        "region_membership": v.region_membership,
        "profile_state": v.profile_state,
        "session_mode": v.session_mode,
        "hold_state": v.hold_state,
        "hold_reason": v.hold_reason,
        "active_strike_points": v.active_strike_points,
        "incidents": v.incidents,
        "reports_against": v.reports_against,
        "timeline": v.timeline.iter().map(|e| serde_json::json!({
            "at": at(e.at.as_ref()),
            "source": e.source,
            "event_type": e.event_type,
            "detail": e.detail,
        })).collect::<Vec<_>>(),
    })
}
