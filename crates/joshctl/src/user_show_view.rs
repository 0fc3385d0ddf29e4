//! How `joshctl user show` prints: a header block per service (what it says about the person
//! now), then one list of what happened, oldest first, across every service that answered.

use std::fmt::Write as _;

use prost_types::Timestamp;
use rpc::admin::v1 as api;

use crate::admin_view::{at, or_dash};
use crate::user_show::{Part, Parts};

/// One line of the merged list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    /// (seconds, nanos), for ordering.
    key: (i64, i32),
    /// RFC 3339.
    pub(crate) at: String,
    pub(crate) service: &'static str,
    pub(crate) what: String,
}

impl Event {
    fn new(ts: Option<&Timestamp>, service: &'static str, what: String) -> Option<Self> {
        let ts = ts?;
        Some(Self {
            key: (ts.seconds, ts.nanos),
            at: at(Some(ts)),
            service,
            what,
        })
    }
}

/// The whole view as text.
pub(crate) fn table(p: &Parts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "user {}\n", p.user_id);
    block(
        &mut out,
        "conversation-router",
        &p.router,
        crate::admin_view::header,
    );
    block(&mut out, "linkup-matcher", &p.matcher, linkups_header);
    block(&mut out, "billing", &p.billing, billing_header);
    block(&mut out, "inbound-sms", &p.inbound, texts_header);
    block(&mut out, "outbound-sender", &p.sender, texts_header);
    let events = events(p);
    let _ = writeln!(out, "{:<27}  {:<19}  WHAT", "AT", "SERVICE");
    for e in &events {
        let _ = writeln!(out, "{:<27}  {:<19}  {}", e.at, e.service, e.what);
    }
    if events.is_empty() {
        out.push_str("(nothing happened yet)\n");
    }
    out
}

fn block<T>(out: &mut String, service: &str, part: &Part<T>, header: fn(&T) -> String) {
    let _ = writeln!(out, "== {service} ==");
    match part {
        Ok(v) => out.push_str(&header(v)),
        Err(why) => {
            let _ = writeln!(out, "NOT AVAILABLE: {why}");
        }
    }
    out.push('\n');
}

fn linkups_header(l: &api::ListLinkupsResponse) -> String {
    let count = |relation: &str| l.linkups.iter().filter(|s| s.relation == relation).count();
    let open = l
        .linkups
        .iter()
        .filter(|s| matches!(s.state.as_str(), "broadcasting" | "locked"))
        .count();
    format!(
        "{:<10} {} shown ({} started, {} joined, {} invited); {open} broadcasting or locked\n",
        "linkups",
        l.linkups.len(),
        count("initiator"),
        count("participant"),
        count("invitee")
    )
}

fn billing_header(v: &api::BillingView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<10} {}", "customer", or_dash(&v.stripe_customer_id));
    let member = crate::billing::membership(v);
    let _ = writeln!(out, "{:<10} {member}", "member");
    for s in &v.subscriptions {
        let end = at(s.current_period_end.as_ref());
        let _ = writeln!(
            out,
            "{:<10} {} {} (period end {})",
            "sub",
            or_dash(&s.stripe_subscription_id),
            s.status,
            or_dash(&end)
        );
    }
    if !v.failed_events.is_empty() {
        let _ = writeln!(
            out,
            "{:<10} {} Stripe event(s) failed",
            "failed",
            v.failed_events.len()
        );
    }
    out
}

fn texts_header(r: &api::ListMessagesResponse) -> String {
    let more = if r.truncated {
        " (older ones not shown; raise --limit)"
    } else {
        ""
    };
    format!("{:<10} {} shown{more}\n", "texts", r.messages.len())
}

/// Every service's events, oldest first (ties in service order).
pub(crate) fn events(p: &Parts) -> Vec<Event> {
    let mut all = Vec::new();
    if let Ok(v) = &p.router {
        all.extend(v.timeline.iter().filter_map(|e| {
            let what = if e.detail.is_empty() {
                e.event_type.clone()
            } else {
                format!("{} ({})", e.event_type, e.detail)
            };
            Event::new(e.at.as_ref(), "conversation-router", what)
        }));
    }
    if let Ok(l) = &p.matcher {
        all.extend(l.linkups.iter().filter_map(linkup_event));
    }
    if let Ok(v) = &p.billing {
        all.extend(billing_events(v));
    }
    for (part, service) in [(&p.inbound, "inbound-sms"), (&p.sender, "outbound-sender")] {
        if let Ok(r) = part {
            all.extend(r.messages.iter().filter_map(|m| text_event(m, service)));
        }
    }
    all.sort_by_key(|e| e.key);
    all
}

fn linkup_event(s: &api::LinkupSummary) -> Option<Event> {
    let status = if s.status.is_empty() {
        String::new()
    } else {
        format!(", {}", s.status)
    };
    let event = at(s.event_time.as_ref());
    let event = if event.is_empty() {
        String::new()
    } else {
        format!(", for {event}")
    };
    let what = format!(
        "LinkUp {} ({}) as {}: {}{status}{event}",
        s.linkup_id,
        or_dash(&s.activity),
        s.relation,
        s.state
    );
    Event::new(s.created_at.as_ref(), "linkup-matcher", what)
}

fn billing_events(v: &api::BillingView) -> Vec<Event> {
    let mut all: Vec<Event> = v
        .subscriptions
        .iter()
        .filter_map(|s| {
            let what = format!(
                "subscription {} created (now {})",
                or_dash(&s.stripe_subscription_id),
                s.status
            );
            Event::new(s.stripe_created_at.as_ref(), "billing", what)
        })
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    for e in v.events.iter().chain(&v.failed_events) {
        if !seen.insert(e.stripe_event_id.as_str()) {
            continue;
        }
        let outcome = match (&e.processed_at, e.processing_error.is_empty()) {
            (_, false) => format!("failed: {}", e.processing_error),
            (Some(_), true) => "applied".to_owned(),
            (None, true) => "waiting".to_owned(),
        };
        let what = format!("Stripe {} {} ({outcome})", e.event_type, e.stripe_event_id);
        all.extend(Event::new(e.received_at.as_ref(), "billing", what));
    }
    if let Some(e) = &v.entitlement {
        let what = format!(
            "entitlement: participate {}, initiate {} ({})",
            e.eligible_to_participate, e.eligible_to_initiate, e.reason
        );
        all.extend(Event::new(e.effective_at.as_ref(), "billing", what));
    }
    all
}

fn text_event(m: &api::MessageView, service: &'static str) -> Option<Event> {
    let mut what = if m.direction == "in" {
        format!("text in, {}", m.status)
    } else {
        format!("text out ({}), {}", or_dash(&m.purpose), m.status)
    };
    if !m.delivery_status.is_empty() && m.delivery_status != m.status {
        let _ = write!(what, "/{}", m.delivery_status);
    }
    if m.error_code != 0 {
        let _ = write!(what, " (error {})", m.error_code);
    }
    if !m.message_sid.is_empty() {
        let _ = write!(what, " {}", m.message_sid);
    }
    Event::new(m.at.as_ref(), service, what)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp { seconds, nanos: 0 })
    }

    #[test]
    fn every_service_merges_oldest_first_and_a_missing_one_is_named() {
        let router = api::UserTimelineResponse {
            user_id: "u".to_owned(),
            timeline: vec![api::TimelineEntry {
                at: ts(30),
                source: "domain_events".to_owned(),
                event_type: "user.activated".to_owned(),
                detail: String::new(),
            }],
            ..Default::default()
        };
        let text = |direction: &str, seconds| api::MessageView {
            direction: direction.to_owned(),
            at: ts(seconds),
            status: "received".to_owned(),
            ..Default::default()
        };
        let parts = Parts {
            user_id: "u".to_owned(),
            router: Ok(router),
            matcher: Ok(api::ListLinkupsResponse {
                linkups: vec![api::LinkupSummary {
                    linkup_id: "l1".to_owned(),
                    created_at: ts(20),
                    ..Default::default()
                }],
            }),
            billing: Err("cannot reach the admin API at http://127.0.0.1:9".to_owned()),
            inbound: Ok(api::ListMessagesResponse {
                messages: vec![text("in", 10)],
                ..Default::default()
            }),
            sender: Ok(api::ListMessagesResponse::default()),
        };
        let services: Vec<&str> = events(&parts).iter().map(|e| e.service).collect();
        assert_eq!(
            services,
            ["inbound-sms", "linkup-matcher", "conversation-router"]
        );
        let shown = table(&parts);
        assert!(
            shown.contains("== billing ==\nNOT AVAILABLE: cannot reach"),
            "{shown}"
        );
        assert_eq!(
            parts.missing(),
            [(
                "billing",
                "cannot reach the admin API at http://127.0.0.1:9"
            )]
        );
    }
}
