//! `joshctl linkup show|list|cancel`: linkup-matcher's admin API (`MATCHER_ADMIN_URL`, with
//! `JOSH_ADMIN_TOKEN`); a phone number is resolved to a user id through the router's admin API.

use std::fmt::Write as _;
use std::process::ExitCode;

use rpc::admin::v1 as api;
use rpc::admin::v1::matcher_admin_client::MatcherAdminClient;
use serde_json::json;

use crate::admin::{AdminConn, authed, explain};
use crate::admin_view::at;

/// `joshctl linkup ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum LinkupCommand {
    /// One LinkUp: state, brief, members, every invite, waves and key times.
    Show {
        /// The LinkUp's id.
        id: String,
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// A person's LinkUps (started, joined or invited to), most recent first.
    List {
        /// E.164 phone number or user id.
        user: String,
        /// At most this many (the API caps it at 100).
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a broadcasting or locked LinkUp (ops, engineering): everyone affected is texted.
    Cancel {
        /// The LinkUp's id.
        id: String,
        /// Why (written to the audit log; not texted).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `joshctl linkup ...`.
pub(crate) async fn run(conn: &AdminConn, command: LinkupCommand) -> anyhow::Result<ExitCode> {
    let user = match &command {
        LinkupCommand::List { user, .. } => Some(conn.user_id(user).await?),
        _ => None,
    };
    let (channel, url, token) = conn.matcher_channel()?;
    let mut client = MatcherAdminClient::new(channel);
    match command {
        LinkupCommand::Show { id, json } => {
            let request = authed(api::ShowLinkupRequest { linkup_id: id }, &token)?;
            let view = client
                .show_linkup(request)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            if json {
                println!("{}", serde_json::to_string_pretty(&view_json(&view))?);
            } else {
                print!("{}", view_table(&view));
            }
        }
        LinkupCommand::List { limit, json, .. } => {
            let user_id = user.unwrap_or_default();
            let request = authed(api::ListLinkupsRequest { user_id, limit }, &token)?;
            let listed = client
                .list_linkups(request)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            if json {
                let rows: Vec<_> = listed.linkups.iter().map(summary_json).collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                print!("{}", list_table(&listed.linkups));
            }
        }
        LinkupCommand::Cancel { id, reason, json } => {
            let message = api::CancelLinkupRequest {
                linkup_id: id,
                reason,
            };
            let done = client
                .cancel_linkup(authed(message, &token)?)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            if json {
                let value = json!({"linkup_id": done.linkup_id,
                                   "previous_state": done.previous_state, "told": done.told});
                println!("{value}");
            } else {
                println!(
                    "LinkUp {} is canceled (was {}); {} person(s) texted",
                    done.linkup_id, done.previous_state, done.told
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn view_table(v: &api::LinkupView) -> String {
    let mut out = String::new();
    let brief = v.brief.clone().unwrap_or_default();
    let rows = [
        ("linkup", v.linkup_id.clone()),
        ("state", v.state.clone()),
        ("activity", or_dash(&brief.activity).to_owned()),
        ("window", or_dash(&brief.windows.join(" / ")).to_owned()),
        (
            "region",
            format!("{} ({})", or_dash(&brief.region), or_dash(&brief.timezone)),
        ),
        ("size", format!("{}-{}", brief.min_size, brief.max_size)),
        (
            "initiator",
            format!("{} {}", v.initiator_first_name, v.initiator_user_id),
        ),
        ("created", at(v.created_at.as_ref())),
        ("broadcast", at(v.broadcast_started_at.as_ref())),
        ("window end", at(v.acceptance_window_ends_at.as_ref())),
        ("locked", at(v.locked_at.as_ref())),
        ("event", at(v.event_time.as_ref())),
        ("completed", at(v.completed_at.as_ref())),
        ("canceled", or_dash(&v.canceled_reason).to_owned()),
    ];
    for (k, val) in rows {
        let _ = writeln!(out, "{k:<10} {}", or_dash(&val));
    }
    let _ = writeln!(
        out,
        "\n{:<36}  {:<10}  {:<11}  {:<12}  JOINED",
        "MEMBER", "NAME", "ROLE", "STATUS"
    );
    for m in &v.members {
        let _ = writeln!(
            out,
            "{:<36}  {:<10}  {:<11}  {:<12}  {}",
            m.user_id,
            m.first_name,
            m.role,
            m.status,
            at(m.joined_at.as_ref())
        );
    }
    let _ = writeln!(
        out,
        "\n{:<36}  {:<10}  {:>4}  {:<9}  {:<25}  {:<25}  CLOSED",
        "INVITEE", "NAME", "WAVE", "STATE", "SENT", "REPLIED"
    );
    for i in &v.invites {
        let _ = writeln!(
            out,
            "{:<36}  {:<10}  {:>4}  {:<9}  {:<25}  {:<25}  {}",
            i.user_id,
            i.first_name,
            i.wave,
            i.state,
            at(i.sent_at.as_ref()),
            or_dash(&at(i.responded_at.as_ref())),
            or_dash(&at(i.closed_at.as_ref()))
        );
    }
    let _ = writeln!(
        out,
        "\n{:>4}  {:>5}  {:>4}  {:>7}  AT",
        "WAVE", "RELAX", "POOL", "INVITED"
    );
    for w in &v.waves {
        let _ = writeln!(
            out,
            "{:>4}  {:>5}  {:>4}  {:>7}  {}",
            w.wave,
            w.relaxation_level,
            w.pool_size,
            w.invited_count,
            at(w.at.as_ref())
        );
    }
    out
}

fn view_json(v: &api::LinkupView) -> serde_json::Value {
    let brief = v.brief.clone().unwrap_or_default();
    json!({
        "linkup_id": v.linkup_id,
        "state": v.state,
        "brief": {
            "activity": brief.activity, "windows": brief.windows, "region": brief.region,
            "timezone": brief.timezone, "min_size": brief.min_size, "max_size": brief.max_size,
            "location_hint": brief.location_hint,
        },
        "initiator": {"user_id": v.initiator_user_id, "first_name": v.initiator_first_name},
        "members": v.members.iter().map(|m| json!({
            "user_id": m.user_id, "first_name": m.first_name, "role": m.role, "status": m.status,
            "joined_at": at(m.joined_at.as_ref()), "left_at": at(m.left_at.as_ref()),
        })).collect::<Vec<_>>(),
        "invites": v.invites.iter().map(|i| json!({
            "invite_id": i.invite_id, "user_id": i.user_id, "first_name": i.first_name,
            "wave": i.wave, "state": i.state, "selected_option": i.selected_option,
            "sent_at": at(i.sent_at.as_ref()), "responded_at": at(i.responded_at.as_ref()),
            "expires_at": at(i.expires_at.as_ref()), "closed_at": at(i.closed_at.as_ref()),
        })).collect::<Vec<_>>(),
        "waves": v.waves.iter().map(|w| json!({
            "wave": w.wave, "relaxation_level": w.relaxation_level, "pool_size": w.pool_size,
            "invited_count": w.invited_count, "at": at(w.at.as_ref()),
        })).collect::<Vec<_>>(),
        "canceled_reason": v.canceled_reason,
        "lock_version": v.lock_version,
        "created_at": at(v.created_at.as_ref()),
        "broadcast_started_at": at(v.broadcast_started_at.as_ref()),
        "acceptance_window_ends_at": at(v.acceptance_window_ends_at.as_ref()),
        "locked_at": at(v.locked_at.as_ref()),
        "event_time": at(v.event_time.as_ref()),
        "completed_at": at(v.completed_at.as_ref()),
        "updated_at": at(v.updated_at.as_ref()),
    })
}

/// One row of `linkup list` as JSON (also in `joshctl user show`).
pub(crate) fn summary_json(s: &api::LinkupSummary) -> serde_json::Value {
    json!({
        "linkup_id": s.linkup_id, "state": s.state, "activity": s.activity,
        "relation": s.relation, "status": s.status,
        "event_time": at(s.event_time.as_ref()), "created_at": at(s.created_at.as_ref()),
    })
}

fn list_table(rows: &[api::LinkupSummary]) -> String {
    if rows.is_empty() {
        return "no LinkUps\n".to_owned();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36}  {:<12}  {:<14}  {:<11}  {:<10}  {:<25}  CREATED",
        "LINKUP", "STATE", "ACTIVITY", "RELATION", "STATUS", "EVENT"
    );
    for s in rows {
        let _ = writeln!(
            out,
            "{:<36}  {:<12}  {:<14}  {:<11}  {:<10}  {:<25}  {}",
            s.linkup_id,
            s.state,
            or_dash(&s.activity),
            s.relation,
            or_dash(&s.status),
            or_dash(&at(s.event_time.as_ref())),
            at(s.created_at.as_ref())
        );
    }
    out
}
