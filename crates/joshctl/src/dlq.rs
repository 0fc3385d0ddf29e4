//! `joshctl dlq list|replay|discard`: dead letters through each service's `DeadLetters` admin
//! API (with `JOSH_ADMIN_TOKEN`), so every look and every replay is authenticated and audited.
//! A service holds only its own consumers' dead letters: without `--service` joshctl asks every
//! service and skips (with a warning) those it cannot reach.

use std::fmt::Write as _;
use std::process::ExitCode;

use rpc::admin::v1 as api;
use rpc::admin::v1::dead_letters_client::DeadLettersClient;
use rpc::admin::v1::replay_dead_letters_request::Target;
use secrecy::SecretString;
use tonic::Code;
use tonic::transport::Channel;

use crate::admin::{AdminConn, authed, explain};

/// Every service that consumes from the bus, in pipeline order.
const SERVICES: [&str; 5] = [
    "inbound-sms",
    "conversation-router",
    "linkup-matcher",
    "billing",
    "outbound-sender",
];

/// `joshctl dlq ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DlqCommand {
    /// List dead letters, oldest first (metadata only, never message bodies).
    List {
        /// Only this service's (e.g. conversation-router); default: every service's.
        #[arg(long)]
        service: Option<String>,
        /// Only those first published on this subject (`josh.evt.sms.received`, `josh.evt.>`).
        #[arg(long)]
        subject: Option<String>,
        /// At most this many per service.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Publish dead letters again to their original subjects and remove them from the DLQ; a
    /// consumer that handled one already skips it.
    Replay {
        /// The dead letter's id, as `list` shows it.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<u64>,
        /// Every dead letter (of --service, on --subject).
        #[arg(long)]
        all: bool,
        /// Only this service's; default: whichever holds the id, or every service with --all.
        #[arg(long)]
        service: Option<String>,
        /// With --all: only those first published on this subject.
        #[arg(long, requires = "all")]
        subject: Option<String>,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a dead letter without replaying it.
    Discard {
        /// The dead letter's id, as `list` shows it.
        id: u64,
        /// The service holding it; default: whichever does.
        #[arg(long)]
        service: Option<String>,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// One service's admin API.
struct ServiceApi {
    service: &'static str,
    url: String,
    client: DeadLettersClient<Channel>,
    token: SecretString,
}

/// The admin APIs to ask: `service`'s, or every service's.
fn apis(conn: &AdminConn, service: Option<&str>) -> anyhow::Result<Vec<ServiceApi>> {
    let names: Vec<&'static str> = match service {
        Some(wanted) => match SERVICES.iter().find(|s| **s == wanted) {
            Some(found) => vec![*found],
            None => anyhow::bail!("unknown service {wanted:?}: one of {}", SERVICES.join(", ")),
        },
        None => SERVICES.to_vec(),
    };
    names
        .into_iter()
        .map(|service| {
            let (setting, url) = conn
                .admin_url(service)
                .ok_or_else(|| anyhow::anyhow!("no admin API setting for {service}"))?;
            let (channel, token) = conn.channel_to(setting, url)?;
            Ok(ServiceApi {
                service,
                url: url.to_owned(),
                client: DeadLettersClient::new(channel),
                token,
            })
        })
        .collect()
}

/// Whether a failure only means "ask the next service" when every service is asked.
fn skippable(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unimplemented | Code::DeadlineExceeded
    )
}

fn warn_skipped(target: &ServiceApi, status: &tonic::Status) {
    eprintln!(
        "joshctl: skipped {}: {}",
        target.service,
        explain(status, &target.url)
    );
}

/// Runs `joshctl dlq ...`.
pub(crate) async fn run(conn: &AdminConn, command: DlqCommand) -> anyhow::Result<ExitCode> {
    match command {
        DlqCommand::List {
            service,
            subject,
            limit,
            json,
        } => {
            let filter = api::DeadLetterFilter {
                consumer: String::new(),
                subject: subject.unwrap_or_default(),
            };
            list(apis(conn, service.as_deref())?, filter, limit, json).await
        }
        DlqCommand::Replay {
            id,
            service,
            subject,
            reason,
            json,
            ..
        } => {
            let target = match id {
                Some(id) => Target::Sequence(id),
                None => Target::All(api::DeadLetterFilter {
                    consumer: String::new(),
                    subject: subject.unwrap_or_default(),
                }),
            };
            replay(apis(conn, service.as_deref())?, target, reason, json).await
        }
        DlqCommand::Discard {
            id,
            service,
            reason,
        } => discard(apis(conn, service.as_deref())?, id, reason).await,
    }
}

async fn list(
    apis: Vec<ServiceApi>,
    filter: api::DeadLetterFilter,
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let single = apis.len() == 1;
    let (mut rows, mut truncated, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for mut t in apis {
        let message = api::ListDeadLettersRequest {
            filter: Some(filter.clone()),
            limit,
        };
        match t.client.list_dead_letters(authed(message, &t.token)?).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                if answer.truncated {
                    truncated.push(t.service);
                }
                rows.extend(answer.dead_letters.into_iter().map(|l| (t.service, l)));
            }
            Err(status) if !single && skippable(&status) => {
                warn_skipped(&t, &status);
                skipped.push(t.service);
            }
            Err(status) => return Err(explain(&status, &t.url)),
        }
    }
    rows.sort_by_key(|(_, l)| l.sequence);
    if json {
        let value = serde_json::json!({
            "dead_letters": rows.iter().map(|(s, l)| letter_json(s, l)).collect::<Vec<_>>(),
            "truncated": truncated,
            "skipped": skipped,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{}", table(&rows));
        for service in truncated {
            println!("({service} holds more: raise --limit or narrow --subject)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn replay(
    apis: Vec<ServiceApi>,
    target: Target,
    reason: String,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let single = apis.len() == 1;
    let one = matches!(target, Target::Sequence(_));
    let (mut rows, mut more_left) = (Vec::new(), Vec::new());
    for mut t in apis {
        let message = api::ReplayDeadLettersRequest {
            target: Some(target.clone()),
            reason: reason.clone(),
        };
        match t
            .client
            .replay_dead_letters(authed(message, &t.token)?)
            .await
        {
            Ok(answer) => {
                let answer = answer.into_inner();
                if answer.more_left {
                    more_left.push(t.service);
                }
                rows.extend(answer.replayed.into_iter().map(|l| (t.service, l)));
                if one {
                    break;
                }
            }
            Err(status) if one && !single && status.code() == Code::NotFound => {}
            Err(status) if !single && skippable(&status) => warn_skipped(&t, &status),
            Err(status) => return Err(explain(&status, &t.url)),
        }
    }
    if let (Target::Sequence(id), true) = (&target, rows.is_empty()) {
        anyhow::bail!("not found: no service answering holds dead letter {id}");
    }
    if json {
        let letters: Vec<_> = rows.iter().map(|(s, l)| letter_json(s, l)).collect();
        let value = serde_json::json!({ "replayed": letters, "more_left": more_left });
        println!("{value}");
    } else {
        for (service, l) in &rows {
            println!(
                "replayed {} of {service}: {} {} to {}",
                l.sequence,
                or_dash(&l.payload_type),
                or_dash(&l.event_id),
                l.original_subject
            );
        }
        println!("{} dead letter(s) replayed", rows.len());
        for service in more_left {
            println!("({service} holds more matching letters: run it again)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn discard(apis: Vec<ServiceApi>, id: u64, reason: String) -> anyhow::Result<ExitCode> {
    let single = apis.len() == 1;
    for mut t in apis {
        let message = api::DiscardDeadLetterRequest {
            sequence: id,
            reason: reason.clone(),
        };
        match t
            .client
            .discard_dead_letter(authed(message, &t.token)?)
            .await
        {
            Ok(answer) => {
                let l = answer.into_inner().discarded.unwrap_or_default();
                println!(
                    "discarded {id} of {}: {} {} (it will not be handled)",
                    t.service,
                    or_dash(&l.payload_type),
                    or_dash(&l.event_id)
                );
                return Ok(ExitCode::SUCCESS);
            }
            Err(status) if !single && status.code() == Code::NotFound => {}
            Err(status) if !single && skippable(&status) => warn_skipped(&t, &status),
            Err(status) => return Err(explain(&status, &t.url)),
        }
    }
    anyhow::bail!("not found: no service answering holds dead letter {id}")
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// A timestamp to the second, for tables.
fn short_at(ts: Option<&prost_types::Timestamp>) -> String {
    let full = crate::admin_view::at(
        ts.map(|t| prost_types::Timestamp {
            seconds: t.seconds,
            nanos: 0,
        })
        .as_ref(),
    );
    if full.is_empty() {
        "-".to_owned()
    } else {
        full
    }
}

fn table(rows: &[(&str, api::DeadLetter)]) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("no dead letters\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:>6}  {:<19}  {:<28}  {:>5}  {:>7}  {:<20}  {:<20}  {:<40}  ERROR",
        "ID", "SERVICE", "TYPE", "TRIES", "REPLAYS", "FIRST FAILED", "LAST FAILED", "SUBJECT"
    );
    for (service, l) in rows {
        let _ = writeln!(
            out,
            "{:>6}  {:<19}  {:<28}  {:>5}  {:>7}  {:<20}  {:<20}  {:<40}  {}",
            l.sequence,
            service,
            or_dash(&l.payload_type),
            l.attempts,
            l.replays,
            short_at(l.first_failed_at.as_ref()),
            short_at(l.last_failed_at.as_ref()),
            l.original_subject,
            l.error
        );
    }
    out
}

fn letter_json(service: &str, l: &api::DeadLetter) -> serde_json::Value {
    serde_json::json!({
        "id": l.sequence,
        "service": service,
        "consumer": l.consumer,
        "original_subject": l.original_subject,
        "payload_type": l.payload_type,
        "event_id": l.event_id,
        "error": l.error,
        "attempts": l.attempts,
        "replays": l.replays,
        "first_failed_at": crate::admin_view::at(l.first_failed_at.as_ref()),
        "last_failed_at": crate::admin_view::at(l.last_failed_at.as_ref()),
    })
}
