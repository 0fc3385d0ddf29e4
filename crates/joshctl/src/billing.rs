//! `joshctl billing show`: billing's admin API (`BILLING_ADMIN_URL`, with `JOSH_ADMIN_TOKEN`);
//! a phone number is resolved to a user id through the router's admin API.

use std::fmt::Write as _;
use std::process::ExitCode;

use rpc::admin::v1 as api;
use rpc::admin::v1::billing_admin_client::BillingAdminClient;
use serde_json::json;

use crate::admin::{AdminConn, authed, explain};
use crate::admin_view::at;

/// `joshctl billing ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum BillingCommand {
    /// A person's Stripe customer, subscription, entitlement (with its grace) and Stripe events.
    Show {
        /// E.164 phone number or user id.
        user: String,
        /// How many of the latest Stripe events to show (the API caps it at 100).
        #[arg(long, default_value_t = 10)]
        events: u32,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `joshctl billing ...`.
pub(crate) async fn run(conn: &AdminConn, command: BillingCommand) -> anyhow::Result<ExitCode> {
    let BillingCommand::Show { user, events, json } = command;
    let user_id = conn.user_id(&user).await?;
    let (channel, url, token) = conn.billing_channel()?;
    let mut client = BillingAdminClient::new(channel);
    let request = authed(api::ShowBillingRequest { user_id, events }, &token)?;
    let view = client
        .show_billing(request)
        .await
        .map_err(|s| explain(&s, url))?
        .into_inner();
    if json {
        println!("{}", serde_json::to_string_pretty(&view_json(&view))?);
    } else {
        print!("{}", view_table(&view));
    }
    Ok(ExitCode::SUCCESS)
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// The entitlement in one phrase: "eligible (active) until ...", or "never decided".
pub(crate) fn membership(v: &api::BillingView) -> String {
    let Some(e) = &v.entitlement else {
        return "never decided".to_owned();
    };
    let eligible = if e.eligible_now {
        "eligible"
    } else {
        "not eligible"
    };
    let until = at(e.expires_at.as_ref());
    let until = if until.is_empty() {
        String::new()
    } else {
        format!(" until {until}")
    };
    format!("{eligible} ({}){until}", e.reason)
}

fn view_table(v: &api::BillingView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{:<10} {}", "user", v.user_id);
    let _ = writeln!(out, "{:<10} {}", "customer", or_dash(&v.stripe_customer_id));
    let _ = writeln!(out, "{:<10} {}", "member", membership(v));
    let _ = writeln!(
        out,
        "\n{:<28}  {:<18}  {:<25}  {:<25}  CANCEL AT END",
        "SUBSCRIPTION", "STATUS", "PERIOD END", "GRACE UNTIL"
    );
    for s in &v.subscriptions {
        let _ = writeln!(
            out,
            "{:<28}  {:<18}  {:<25}  {:<25}  {}",
            or_dash(&s.stripe_subscription_id),
            s.status,
            or_dash(&at(s.current_period_end.as_ref())),
            or_dash(&at(s.grace_until.as_ref())),
            if s.cancel_at_period_end { "yes" } else { "no" }
        );
    }
    for (title, events) in [
        ("STRIPE EVENT", &v.events),
        ("FAILED EVENT", &v.failed_events),
    ] {
        if title == "FAILED EVENT" && events.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{title:<30}  {:<36}  {:<25}  {:<25}  ERROR",
            "TYPE", "RECEIVED", "PROCESSED"
        );
        for e in events {
            let _ = writeln!(
                out,
                "{:<30}  {:<36}  {:<25}  {:<25}  {}",
                e.stripe_event_id,
                e.event_type,
                at(e.received_at.as_ref()),
                or_dash(&at(e.processed_at.as_ref())),
                or_dash(&e.processing_error)
            );
        }
    }
    out
}

fn event_json(e: &api::StripeEventView) -> serde_json::Value {
    json!({
        "stripe_event_id": e.stripe_event_id, "event_type": e.event_type,
        "received_at": at(e.received_at.as_ref()), "processed_at": at(e.processed_at.as_ref()),
        "processing_error": e.processing_error,
    })
}

/// The view as JSON (also `joshctl user show`'s billing part).
pub(crate) fn view_json(v: &api::BillingView) -> serde_json::Value {
    json!({
        "user_id": v.user_id,
        "stripe_customer_id": v.stripe_customer_id,
        "subscriptions": v.subscriptions.iter().map(|s| json!({
            "stripe_subscription_id": s.stripe_subscription_id, "status": s.status,
            "current_period_end": at(s.current_period_end.as_ref()),
            "cancel_at_period_end": s.cancel_at_period_end,
            "grace_until": at(s.grace_until.as_ref()),
            "checkout_pending_until": at(s.checkout_pending_until.as_ref()),
            "revoked_at": at(s.revoked_at.as_ref()),
            "stripe_state_at": at(s.stripe_state_at.as_ref()),
            "stripe_created_at": at(s.stripe_created_at.as_ref()),
            "last_stripe_event_id": s.last_stripe_event_id,
        })).collect::<Vec<_>>(),
        "entitlement": v.entitlement.as_ref().map(|e| json!({
            "eligible_now": e.eligible_now,
            "eligible_to_participate": e.eligible_to_participate,
            "eligible_to_initiate": e.eligible_to_initiate,
            "reason": e.reason,
            "expires_at": at(e.expires_at.as_ref()),
            "effective_at": at(e.effective_at.as_ref()),
        })),
        "events": v.events.iter().map(event_json).collect::<Vec<_>>(),
        "failed_events": v.failed_events.iter().map(event_json).collect::<Vec<_>>(),
    })
}
