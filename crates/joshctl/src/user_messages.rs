//! `joshctl user messages <phone|user-id> [--bodies --reason ...] [--limit N] [--json]`: the
//! texts a person sent JOSH (inbound-sms) and JOSH sent them (outbound-sender), merged in time
//! order. Bodies are decrypted only when asked for, for support and engineering, with a reason;
//! every view is audited by the services.

use std::fmt::Write as _;
use std::process::ExitCode;

use rpc::admin::v1 as api;
use rpc::admin::v1::inbound_admin_client::InboundAdminClient;
use rpc::admin::v1::sender_admin_client::SenderAdminClient;

use crate::admin::{AdminConn, authed, explain, is_user_id};
use crate::admin_view::at;

/// `joshctl user messages`.
#[derive(Debug, clap::Args)]
pub(crate) struct MessagesArgs {
    /// E.164 phone number or user id.
    user: String,
    /// Decrypt and show the bodies (support, engineering; needs --reason; audited).
    #[arg(long, requires = "reason")]
    bodies: bool,
    /// Why (e.g. the support ticket; written to the audit log).
    #[arg(long)]
    reason: Option<String>,
    /// At most this many texts each way, newest first (the services cap it at 500).
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Both directions, merged oldest first.
struct Merged {
    user_id: String,
    bodies: bool,
    messages: Vec<api::MessageView>,
    /// Older texts exist than those shown.
    truncated: bool,
}

/// Runs `joshctl user messages`.
pub(crate) async fn run(conn: &AdminConn, args: MessagesArgs) -> anyhow::Result<ExitCode> {
    let request = api::ListMessagesRequest {
        user: Some(if is_user_id(&args.user) {
            api::list_messages_request::User::UserId(args.user.clone())
        } else {
            api::list_messages_request::User::PhoneE164(args.user.clone())
        }),
        limit: args.limit,
        include_bodies: args.bodies,
        reason: args.reason.clone().unwrap_or_default(),
    };
    let (inbound_url, sender_url) = (conn.inbound_admin_url(), conn.sender_admin_url());
    let (channel, token) = conn.channel_to("INBOUND_ADMIN_URL", inbound_url)?;
    let inbound = InboundAdminClient::new(channel)
        .list_messages(authed(request.clone(), &token)?)
        .await
        .map_err(|s| explain(&s, inbound_url).context("inbound-sms"))?
        .into_inner();
    let (channel, token) = conn.channel_to("SENDER_ADMIN_URL", sender_url)?;
    let outbound = SenderAdminClient::new(channel)
        .list_messages(authed(request, &token)?)
        .await
        .map_err(|s| explain(&s, sender_url).context("outbound-sender"))?
        .into_inner();
    let merged = merge(inbound, outbound);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&json(&merged))?);
    } else {
        print!("{}", table(&merged));
    }
    Ok(ExitCode::SUCCESS)
}

fn seconds(m: &api::MessageView) -> (i64, i32) {
    m.at.as_ref().map_or((0, 0), |t| (t.seconds, t.nanos))
}

/// Merges both answers oldest first. When one side was cut at its limit, texts of the other
/// side older than its oldest are left out too, so the merged window has no one-sided gap.
fn merge(inbound: api::ListMessagesResponse, outbound: api::ListMessagesResponse) -> Merged {
    let cutoff = |r: &api::ListMessagesResponse| {
        r.truncated
            .then(|| r.messages.iter().map(seconds).min())
            .flatten()
    };
    let since = cutoff(&inbound).max(cutoff(&outbound));
    let truncated = inbound.truncated || outbound.truncated;
    let bodies = inbound.bodies_included && outbound.bodies_included;
    let user_id = inbound.user_id;
    let mut messages: Vec<_> = inbound
        .messages
        .into_iter()
        .chain(outbound.messages)
        .filter(|m| since.is_none_or(|s| seconds(m) >= s))
        .collect();
    messages.sort_by_key(seconds);
    Merged {
        user_id,
        bodies,
        messages,
        truncated,
    }
}

/// The status column: the job's status and Twilio's delivery status, the error code.
fn status(m: &api::MessageView) -> String {
    let mut s = m.status.clone();
    if !m.delivery_status.is_empty() && m.delivery_status != m.status {
        let _ = write!(s, "/{}", m.delivery_status);
    }
    if m.error_code != 0 {
        let _ = write!(s, " ({})", m.error_code);
    }
    s
}

/// The body column: the text, or why there is none.
fn body(m: &api::MessageView) -> String {
    match (&m.body, m.body_purged, m.body_error.is_empty()) {
        (Some(text), _, _) => text.replace('\n', " / "),
        (None, _, false) => format!("(cannot decrypt: {})", m.body_error),
        (None, true, _) => "(purged)".to_owned(),
        (None, false, true) => "(not shown)".to_owned(),
    }
}

fn table(v: &Merged) -> String {
    let mut out = String::new();
    let inbound = v.messages.iter().filter(|m| m.direction == "in").count();
    let _ = writeln!(
        out,
        "user {}: {} text(s), {inbound} in, {} out",
        v.user_id,
        v.messages.len(),
        v.messages.len() - inbound
    );
    if v.truncated {
        out.push_str("(older texts not shown; raise --limit)\n");
    }
    let _ = write!(
        out,
        "\n{:<25}  {:<3}  {:<22}  {:<14}  {:<34}",
        "AT", "DIR", "STATUS", "PURPOSE", "MESSAGE SID"
    );
    out.push_str(if v.bodies { "  BODY\n" } else { "\n" });
    for m in &v.messages {
        let purpose = if m.purpose.is_empty() {
            "-"
        } else {
            &m.purpose
        };
        let sid = if m.message_sid.is_empty() {
            "-"
        } else {
            &m.message_sid
        };
        let _ = write!(
            out,
            "{:<25}  {:<3}  {:<22}  {:<14}  {:<34}",
            at(m.at.as_ref()),
            m.direction,
            status(m),
            purpose,
            sid
        );
        if v.bodies {
            let _ = write!(out, "  {}", body(m));
        }
        out.push('\n');
    }
    out
}

fn json(v: &Merged) -> serde_json::Value {
    serde_json::json!({
        "user_id": v.user_id,
        "bodies_included": v.bodies,
        "truncated": v.truncated,
        "messages": v.messages.iter().map(message_json).collect::<Vec<_>>(),
    })
}

/// One text as JSON (also `joshctl user show`'s inbound-sms and outbound-sender parts).
pub(crate) fn message_json(m: &api::MessageView) -> serde_json::Value {
    serde_json::json!({
        "id": m.id,
        "at": at(m.at.as_ref()),
        "direction": m.direction,
        "message_sid": m.message_sid,
        "status": m.status,
        "delivery_status": m.delivery_status,
        "error_code": (m.error_code != 0).then_some(m.error_code),
        "purpose": m.purpose,
        "segments": m.segments,
        "media_count": m.media_count,
        "josh_number": m.josh_number,
        "last_status_at": at(m.last_status_at.as_ref()),
        "body_purged": m.body_purged,
        "body": m.body,
        "body_error": (!m.body_error.is_empty()).then_some(&m.body_error),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(direction: &str, seconds: i64) -> api::MessageView {
        api::MessageView {
            id: format!("{direction}{seconds}"),
            direction: direction.to_owned(),
            at: Some(prost_types::Timestamp { seconds, nanos: 0 }),
            ..api::MessageView::default()
        }
    }

    fn answer(messages: Vec<api::MessageView>, truncated: bool) -> api::ListMessagesResponse {
        api::ListMessagesResponse {
            user_id: "u".to_owned(),
            messages,
            bodies_included: false,
            truncated,
        }
    }

    fn ids(merged: &Merged) -> Vec<&str> {
        merged.messages.iter().map(|m| m.id.as_str()).collect()
    }

    #[test]
    fn both_directions_merge_oldest_first() {
        let inbound = answer(vec![at("in", 30), at("in", 10)], false);
        let outbound = answer(vec![at("out", 20)], false);
        let merged = merge(inbound, outbound);
        assert_eq!(ids(&merged), ["in10", "out20", "in30"]);
        assert!(!merged.truncated);
    }

    #[test]
    fn a_side_cut_at_its_limit_cuts_the_other_side_at_the_same_time() {
        // Inbound shows only texts since 100 (older ones exist): an outbound text at 50 would
        // look like JOSH talking to nobody, so it is left out too.
        let inbound = answer(vec![at("in", 150), at("in", 100)], true);
        let outbound = answer(vec![at("out", 120), at("out", 50)], false);
        let merged = merge(inbound, outbound);
        assert_eq!(ids(&merged), ["in100", "out120", "in150"]);
        assert!(merged.truncated);
    }
}
