//! `joshctl sender pause|resume|status` and `joshctl job resend`: outbound-sender's admin API
//! (`SENDER_ADMIN_URL`, with `JOSH_ADMIN_TOKEN`).

use std::fmt::Write as _;
use std::process::ExitCode;

use rpc::admin::v1 as api;
use rpc::admin::v1::sender_admin_client::SenderAdminClient;

use crate::admin::{AdminConn, authed, explain};

/// `joshctl sender ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum SenderCommand {
    /// Stop sending from a sender (its texts wait, in order); `*` pauses every sender.
    Pause {
        /// A From number (E.164), a Messaging Service SID (MG...), or `*` for all.
        sender: String,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Lift a pause (an admin's or Twilio's 30007 / 30034).
    Resume {
        /// A From number (E.164), a Messaging Service SID (MG...), or `*`.
        sender: String,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Paused senders and the job queue by state.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Send a failed or undelivered job again, as a new job linked to it.
    Resend {
        /// The job's id (`sms_outbound_jobs.id`).
        job_id: String,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// Runs `joshctl sender ...`.
pub(crate) async fn run(conn: &AdminConn, command: SenderCommand) -> anyhow::Result<ExitCode> {
    let (channel, token) = conn.sender_channel()?;
    let mut client = SenderAdminClient::new(channel);
    let url = conn.sender_admin_url();
    match command {
        SenderCommand::Pause {
            sender,
            reason,
            json,
        } => {
            let message = api::PauseSenderRequest { sender, reason };
            let done = client
                .pause_sender(authed(message, &token)?)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            if json {
                let value =
                    serde_json::json!({"sender": done.sender, "newly_paused": done.newly_paused});
                println!("{value}");
            } else if done.newly_paused {
                println!(
                    "sender {} is paused; its texts wait until it is resumed",
                    done.sender
                );
            } else {
                println!("sender {} was paused already", done.sender);
            }
        }
        SenderCommand::Resume {
            sender,
            reason,
            json,
        } => {
            let message = api::ResumeSenderRequest { sender, reason };
            let done = client
                .resume_sender(authed(message, &token)?)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            if json {
                let value =
                    serde_json::json!({"sender": done.sender, "was_paused": done.was_paused});
                println!("{value}");
            } else if done.was_paused {
                println!(
                    "sender {} is resumed; waiting texts go out in order",
                    done.sender
                );
            } else {
                println!("sender {} was not paused", done.sender);
            }
        }
        SenderCommand::Status { json } => {
            let status = client
                .sender_status(authed(api::SenderStatusRequest {}, &token)?)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            if json {
                println!("{}", serde_json::to_string_pretty(&status_json(&status))?);
            } else {
                print!("{}", status_table(&status));
            }
        }
        SenderCommand::Resend { job_id, reason } => {
            let message = api::ResendJobRequest { job_id, reason };
            let done = client
                .resend_job(authed(message, &token)?)
                .await
                .map_err(|s| explain(&s, url))?
                .into_inner();
            println!("job {} is resent as job {}", done.resent_from, done.job_id);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn status_json(s: &api::SenderStatusResponse) -> serde_json::Value {
    serde_json::json!({
        "paused": s.paused.iter().map(|p| serde_json::json!({
            "sender": p.sender,
            "reason": p.reason,
            "error_code": (p.error_code != 0).then_some(p.error_code),
            "paused_at": crate::admin_view::at(p.paused_at.as_ref()),
            "paused_by": (!p.paused_by.is_empty()).then_some(&p.paused_by),
        })).collect::<Vec<_>>(),
        "queue": s.queue.iter().map(|q| (q.status.clone(), serde_json::Value::from(q.jobs))).collect::<serde_json::Map<_, _>>(),
        "due": s.due,
    })
}

fn status_table(s: &api::SenderStatusResponse) -> String {
    let mut out = String::new();
    if s.paused.is_empty() {
        out.push_str("no sender is paused\n");
    } else {
        let _ = writeln!(
            out,
            "{:<36}  {:<24}  {:>5}  {:<25}  PAUSED BY",
            "PAUSED SENDER", "REASON", "CODE", "SINCE"
        );
        for p in &s.paused {
            let code = if p.error_code == 0 {
                "-".to_owned()
            } else {
                p.error_code.to_string()
            };
            let by = if p.paused_by.is_empty() {
                "twilio (automatic)"
            } else {
                &p.paused_by
            };
            let _ = writeln!(
                out,
                "{:<36}  {:<24}  {:>5}  {:<25}  {by}",
                p.sender,
                p.reason,
                code,
                crate::admin_view::at(p.paused_at.as_ref())
            );
        }
    }
    let _ = writeln!(out, "\n{:<12}  {:>8}", "JOB STATE", "JOBS");
    for q in &s.queue {
        let _ = writeln!(out, "{:<12}  {:>8}", q.status, q.jobs);
    }
    let _ = writeln!(out, "{:<12}  {:>8}", "(due now)", s.due);
    out
}
