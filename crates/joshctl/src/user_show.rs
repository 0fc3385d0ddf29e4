//! `joshctl user show <phone|user-id> [--limit N] [--json]`: one person across the services. The
//! router's `UserTimeline` (state, region, holds, its timeline; it also resolves a phone number),
//! linkup-matcher's `ListLinkups`, billing's `ShowBilling`, and inbound-sms's and
//! outbound-sender's `ListMessages` (metadata only, never a body), asked at once. The table is a
//! header block per service and one merged time-ordered event list ([`crate::user_show_view`]);
//! `--json` is one object keyed by service.
//!
//! A service that does not answer (unreachable, or it refused) does not hide the others: its
//! block (or JSON key) says why, stderr names it, and the exit code is 3. Exit 0 means every
//! service answered. The router must answer for a phone number (nothing else can resolve it), and
//! its refusals (no or a dead token, no such person) stop the command with exit 1.

use std::process::ExitCode;

use rpc::admin::v1 as api;
use rpc::admin::v1::billing_admin_client::BillingAdminClient;
use rpc::admin::v1::inbound_admin_client::InboundAdminClient;
use rpc::admin::v1::matcher_admin_client::MatcherAdminClient;
use rpc::admin::v1::sender_admin_client::SenderAdminClient;
use serde_json::{Value, json};
use tonic::Code;

use crate::admin::{AdminConn, authed, explain, is_user_id};

/// Exit code when the view is partial: some service did not answer.
const PARTIAL: u8 = 3;

/// `joshctl user show`.
#[derive(Debug, clap::Args)]
pub(crate) struct ShowArgs {
    /// E.164 phone number or user id.
    user: String,
    /// At most this many LinkUps, Stripe events and texts each way, newest first.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Print one JSON object keyed by service instead of tables.
    #[arg(long)]
    json: bool,
}

/// What one service answered, or one line saying why it did not.
pub(crate) type Part<T> = Result<T, String>;

/// Every service's part of the view.
pub(crate) struct Parts {
    /// The user id every service was asked about.
    pub(crate) user_id: String,
    pub(crate) router: Part<api::UserTimelineResponse>,
    pub(crate) matcher: Part<api::ListLinkupsResponse>,
    pub(crate) billing: Part<api::BillingView>,
    pub(crate) inbound: Part<api::ListMessagesResponse>,
    pub(crate) sender: Part<api::ListMessagesResponse>,
}

impl Parts {
    /// `(service, why)` for every service that did not answer.
    pub(crate) fn missing(&self) -> Vec<(&'static str, &str)> {
        [
            ("conversation-router", self.router.as_ref().err()),
            ("linkup-matcher", self.matcher.as_ref().err()),
            ("billing", self.billing.as_ref().err()),
            ("inbound-sms", self.inbound.as_ref().err()),
            ("outbound-sender", self.sender.as_ref().err()),
        ]
        .into_iter()
        .filter_map(|(service, why)| why.map(|w| (service, w.as_str())))
        .collect()
    }
}

/// Runs `joshctl user show`.
pub(crate) async fn run(conn: &AdminConn, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let router = timeline(conn, &args.user).await?;
    let user_id = match &router {
        Ok(view) => view.user_id.clone(),
        Err(_) => args.user.clone(), // only a user id gets here (see `timeline`)
    };
    let (matcher, billing, inbound, sender) = tokio::join!(
        linkups(conn, &user_id, args.limit),
        billing(conn, &user_id, args.limit),
        messages(conn, Side::Inbound, &user_id, args.limit),
        messages(conn, Side::Outbound, &user_id, args.limit),
    );
    let parts = Parts {
        user_id,
        router,
        matcher,
        billing,
        inbound,
        sender,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json(&parts))?);
    } else {
        print!("{}", crate::user_show_view::table(&parts));
    }
    let missing = parts.missing();
    for (service, why) in &missing {
        eprintln!("joshctl: warning: {service} did not answer ({why}); its part is missing");
    }
    if missing.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "joshctl: partial view: {} of 5 services answered",
            5 - missing.len()
        );
        Ok(ExitCode::from(PARTIAL))
    }
}

/// The router's timeline. `Err` only when the router could not be reached and `user` is a user
/// id (the others can still be asked); any other failure stops the command.
async fn timeline(conn: &AdminConn, user: &str) -> anyhow::Result<Part<api::UserTimelineResponse>> {
    let (mut client, token) = conn.client().await?;
    let which = if is_user_id(user) {
        api::user_timeline_request::User::UserId(user.to_owned())
    } else {
        api::user_timeline_request::User::PhoneE164(user.to_owned())
    };
    let request = authed(api::UserTimelineRequest { user: Some(which) }, &token)?;
    let url = conn.router_admin_url();
    match client.user_timeline(request).await {
        Ok(answer) => Ok(Ok(answer.into_inner())),
        Err(status) if status.code() == Code::Unavailable && is_user_id(user) => {
            Ok(Err(explain(&status, url).to_string()))
        }
        Err(status) => Err(explain(&status, url).context("conversation-router")),
    }
}

async fn linkups(conn: &AdminConn, user_id: &str, limit: u32) -> Part<api::ListLinkupsResponse> {
    let url = conn.matcher_admin_url();
    let call = async {
        let (channel, token) = conn.channel_to("MATCHER_ADMIN_URL", url)?;
        let request = api::ListLinkupsRequest {
            user_id: user_id.to_owned(),
            limit,
        };
        let answer = MatcherAdminClient::new(channel)
            .list_linkups(authed(request, &token)?)
            .await
            .map_err(|s| explain(&s, url))?;
        Ok::<_, anyhow::Error>(answer.into_inner())
    };
    call.await.map_err(|e| e.to_string())
}

async fn billing(conn: &AdminConn, user_id: &str, limit: u32) -> Part<api::BillingView> {
    let url = conn.billing_admin_url();
    let call = async {
        let (channel, token) = conn.channel_to("BILLING_ADMIN_URL", url)?;
        let request = api::ShowBillingRequest {
            user_id: user_id.to_owned(),
            events: limit,
        };
        let answer = BillingAdminClient::new(channel)
            .show_billing(authed(request, &token)?)
            .await
            .map_err(|s| explain(&s, url))?;
        Ok::<_, anyhow::Error>(answer.into_inner())
    };
    call.await.map_err(|e| e.to_string())
}

/// Which service's `ListMessages`.
#[derive(Debug, Clone, Copy)]
enum Side {
    Inbound,
    Outbound,
}

async fn messages(
    conn: &AdminConn,
    side: Side,
    user_id: &str,
    limit: u32,
) -> Part<api::ListMessagesResponse> {
    let request = api::ListMessagesRequest {
        user: Some(api::list_messages_request::User::UserId(user_id.to_owned())),
        limit,
        include_bodies: false,
        reason: String::new(),
    };
    let call = async {
        let answer = match side {
            Side::Inbound => {
                let url = conn.inbound_admin_url();
                let (channel, token) = conn.channel_to("INBOUND_ADMIN_URL", url)?;
                InboundAdminClient::new(channel)
                    .list_messages(authed(request, &token)?)
                    .await
                    .map_err(|s| explain(&s, url))?
            }
            Side::Outbound => {
                let url = conn.sender_admin_url();
                let (channel, token) = conn.channel_to("SENDER_ADMIN_URL", url)?;
                SenderAdminClient::new(channel)
                    .list_messages(authed(request, &token)?)
                    .await
                    .map_err(|s| explain(&s, url))?
            }
        };
        Ok::<_, anyhow::Error>(answer.into_inner())
    };
    call.await.map_err(|e| e.to_string())
}

/// One object keyed by service; a service that did not answer is `{"error": "..."}`.
fn json(p: &Parts) -> Value {
    fn part<T>(p: &Part<T>, f: impl Fn(&T) -> Value) -> Value {
        match p {
            Ok(v) => f(v),
            Err(why) => json!({ "error": why }),
        }
    }
    let texts = |r: &api::ListMessagesResponse| {
        let messages: Vec<Value> = r
            .messages
            .iter()
            .map(|m| {
                let mut v = crate::user_messages::message_json(m);
                if let Some(o) = v.as_object_mut() {
                    o.remove("body"); // metadata only: never asked for, never shown
                    o.remove("body_error");
                }
                v
            })
            .collect();
        json!({ "messages": messages, "truncated": r.truncated })
    };
    json!({
        "conversation-router": part(&p.router, crate::admin_view::json),
        "linkup-matcher": part(&p.matcher, |l| json!({
            "user_id": p.user_id,
            "linkups": l.linkups.iter().map(crate::linkup::summary_json).collect::<Vec<_>>(),
        })),
        "billing": part(&p.billing, crate::billing::view_json),
        "inbound-sms": part(&p.inbound, texts),
        "outbound-sender": part(&p.sender, texts),
    })
}
