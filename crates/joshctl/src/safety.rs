//! `joshctl safety list|review`: the safety review queue, through the router's admin API
//! (`ROUTER_ADMIN_URL`, `JOSH_ADMIN_TOKEN`). Cases are reports (REPORT by SMS) and incidents about
//! a user; the reporter is never shown. Reviewing a report upholds it (one strike for the reported
//! person, escalating to a hold by the strike rules) or dismisses it.

use std::fmt::Write as _;
use std::process::ExitCode;

use rpc::admin::v1 as api;

use crate::admin::{AdminConn, authed, explain, is_user_id};
use crate::admin_view::{at, or_dash};

/// `joshctl safety ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SafetyCommand {
    /// The review queue, newest first: open and reviewing reports and incidents (any role).
    List {
        /// open, reviewing or resolved (default: open and reviewing).
        #[arg(long)]
        status: Option<String>,
        /// Only cases about this person: E.164 phone number or user id.
        #[arg(long)]
        user: Option<String>,
        /// Print JSON (one object per case, in an array).
        #[arg(long)]
        json: bool,
    },
    /// Review an open report (support, engineering): --uphold adds a strike to the reported
    /// person (3 in 90 days: a 7-day soft hold; 4+: a hard hold) and texts them; --dismiss adds
    /// nothing. Either way the report is resolved; a resolved report cannot be reviewed again.
    Review {
        /// The report's id (from `joshctl safety list`).
        report_id: String,
        /// Uphold the report.
        #[arg(long, conflicts_with = "dismiss", required_unless_present = "dismiss")]
        uphold: bool,
        /// Dismiss the report.
        #[arg(long)]
        dismiss: bool,
        /// Why (written to the audit log and the report).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `joshctl safety list|review`.
pub(crate) async fn run(conn: &AdminConn, command: SafetyCommand) -> anyhow::Result<ExitCode> {
    match command {
        SafetyCommand::List { status, user, json } => list(conn, status, user, json).await,
        SafetyCommand::Review {
            report_id,
            uphold,
            reason,
            json,
            ..
        } => review(conn, report_id, uphold, reason, json).await,
    }
}

async fn list(
    conn: &AdminConn,
    status: Option<String>,
    user: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (mut client, token) = conn.client().await?;
    let user = user.map(|u| {
        if is_user_id(&u) {
            api::list_safety_cases_request::User::UserId(u)
        } else {
            api::list_safety_cases_request::User::PhoneE164(u)
        }
    });
    let message = api::ListSafetyCasesRequest {
        status: status.unwrap_or_default(),
        user,
        limit: 0,
    };
    let cases = client
        .list_safety_cases(authed(message, &token)?)
        .await
        .map_err(|s| explain(&s, conn.router_admin_url()))?
        .into_inner()
        .cases;
    if json {
        let values: Vec<serde_json::Value> = cases.iter().map(case_json).collect();
        println!("{}", serde_json::Value::Array(values));
    } else {
        print!("{}", table(&cases));
    }
    Ok(ExitCode::SUCCESS)
}

fn case_json(c: &api::SafetyCase) -> serde_json::Value {
    serde_json::json!({
        "kind": c.kind, "id": c.id, "type": c.case_type, "severity": c.severity,
        "user_id": c.user_id, "status": c.status, "created_at": at(c.created_at.as_ref()),
        "age_seconds": c.age_seconds,
    })
}

/// A readable age: `45s`, `12m`, `5h`, `3d`.
fn age(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The cases as a table, or a line saying there are none.
fn table(cases: &[api::SafetyCase]) -> String {
    if cases.is_empty() {
        return "no safety cases\n".to_owned();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<8} {:<36} {:<22} {:>3} {:<36} {:<9} {:>5}",
        "KIND", "ID", "TYPE", "SEV", "USER", "STATUS", "AGE"
    );
    for c in cases {
        let _ = writeln!(
            out,
            "{:<8} {:<36} {:<22} {:>3} {:<36} {:<9} {:>5}",
            c.kind,
            c.id,
            c.case_type,
            c.severity,
            or_dash(&c.user_id),
            c.status,
            age(c.age_seconds)
        );
    }
    let _ = writeln!(out, "{} case(s)", cases.len());
    out
}

async fn review(
    conn: &AdminConn,
    report_id: String,
    uphold: bool,
    reason: String,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let (mut client, token) = conn.client().await?;
    let decision = if uphold {
        api::ReviewDecision::Uphold
    } else {
        api::ReviewDecision::Dismiss
    };
    let message = api::ReviewReportRequest {
        report_id,
        decision: decision.into(),
        reason,
    };
    let done = client
        .review_report(authed(message, &token)?)
        .await
        .map_err(|s| explain(&s, conn.router_admin_url()))?
        .into_inner();
    if json {
        let value = serde_json::json!({
            "report_id": done.report_id, "decision": done.decision, "user_id": done.user_id,
            "strike_added": done.strike_added, "active_strike_points": done.active_strike_points,
            "hold_state": done.hold_state,
        });
        println!("{value}");
    } else if done.strike_added {
        println!(
            "report {} {}: a strike for user {} ({} active in 90 days); hold: {}",
            done.report_id, done.decision, done.user_id, done.active_strike_points, done.hold_state
        );
    } else {
        println!(
            "report {} {}: no strike added; user {} hold: {}",
            done.report_id,
            done.decision,
            or_dash(&done.user_id),
            done.hold_state
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        assert_eq!(
            [age(5), age(125), age(7200), age(3 * 86_400)],
            ["5s", "2m", "2h", "3d"]
        );
    }

    #[test]
    fn an_empty_queue_says_so() {
        assert_eq!(table(&[]), "no safety cases\n");
    }
}
