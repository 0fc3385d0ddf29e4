//! `loadgen verify`: after a run (with faults), checks that every text answered 200 was stored
//! once and handled once (one reply job and one sent reply per text), that no reply reached the
//! simulator twice except sends cut mid-flight by a killed outbound-sender, that the outbox is
//! published, that no JetStream consumer has pending or unacknowledged messages, and that the
//! dead-letter stream is empty.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use futures::TryStreamExt;
use sqlx::Connection;
use tokio::time::Instant;
use twilio_sim::wire::{OutboundFeed, OutboundRecord};

use crate::report::Report;

/// Arguments of `loadgen verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The JSON report `loadgen run --report` wrote.
    #[arg(long)]
    report: PathBuf,
    /// The stack's database, as a superuser (reads every service's tables).
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The stack's NATS.
    #[arg(long, env = "NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// The Twilio simulator.
    #[arg(long, default_value = "http://127.0.0.1:8091")]
    sim: String,
    /// Sends that may legitimately repeat: the kill -9s of outbound-sender times its workers
    /// (only a send in flight when the process died can be sent again).
    #[arg(long, default_value_t = 0)]
    cut_sends_allowed: usize,
    /// Seconds to wait for the outbox, the consumers and the replies to settle.
    #[arg(long, default_value_t = 60.0)]
    settle: f64,
}

/// One check's outcome.
struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// Runs every check, printing each; fails when one fails.
pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read(&args.report)
        .with_context(|| format!("cannot read {}", args.report.display()))?;
    let report: Report = serde_json::from_slice(&text).context("not a loadgen report")?;
    let mut expected: HashMap<&str, usize> = HashMap::new();
    for text in &report.accepted_texts {
        *expected.entry(text.phone.as_str()).or_default() += 1;
    }
    let phones: Vec<String> = expected.keys().map(|p| (*p).to_owned()).collect();
    let deadline = Instant::now() + Duration::from_secs_f64(args.settle.max(0.0));
    let mut db = sqlx::PgConnection::connect(&args.database_url)
        .await
        .context("cannot connect to the stack's database")?;
    let mut checks = Vec::new();
    checks.push(stored_once(&mut db, &report, &phones).await?);
    let js = async_nats::jetstream::new(
        async_nats::connect(&args.nats_url)
            .await
            .with_context(|| format!("cannot connect to NATS at {}", args.nats_url))?,
    );
    loop {
        let settled = settle_checks(&mut db, &js, &args, &expected, &phones).await?;
        if settled.iter().all(|c| c.ok) || Instant::now() >= deadline {
            checks.extend(settled);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stages(&mut db, &phones).await?;
    let mut failed = 0;
    for check in &checks {
        println!(
            "{} {:<34} {}",
            if check.ok { "ok  " } else { "FAIL" },
            check.name,
            check.detail
        );
        failed += usize::from(!check.ok);
    }
    if failed > 0 {
        println!("verification FAILED: {failed} of {} checks", checks.len());
        return Ok(ExitCode::FAILURE);
    }
    println!("verification passed: {} checks", checks.len());
    Ok(ExitCode::SUCCESS)
}

/// The checks that may need time to come true (replies still in flight, consumers catching up).
async fn settle_checks(
    db: &mut sqlx::PgConnection,
    js: &async_nats::jetstream::Context,
    args: &VerifyArgs,
    expected: &HashMap<&str, usize>,
    phones: &[String],
) -> anyhow::Result<Vec<Check>> {
    let mut checks = vec![handled_once(db, expected, phones).await?];
    let sent = all_outbound(&args.sim).await?;
    checks.extend(replies_sent(&sent, expected, args.cut_sends_allowed));
    checks.push(outbox_published(db).await?);
    checks.extend(jetstream(js).await?);
    Ok(checks)
}

/// Every text answered 200 is one `sms_messages` row.
async fn stored_once(
    db: &mut sqlx::PgConnection,
    report: &Report,
    phones: &[String],
) -> anyhow::Result<Check> {
    let rows = sqlx::query!(
        r#"select twilio_message_sid as "sid!", count(*) as "n!"
             from sms_messages where direction = 'in' and from_e164 = any($1) group by 1"#,
        phones
    )
    .fetch_all(db)
    .await?;
    let stored: HashMap<String, i64> = rows.into_iter().map(|r| (r.sid, r.n)).collect();
    let accepted: HashSet<&str> = report
        .accepted_texts
        .iter()
        .map(|t| t.sid.as_str())
        .collect();
    let missing = accepted
        .iter()
        .filter(|sid| !stored.contains_key(**sid))
        .count();
    let twice = stored.values().filter(|n| **n > 1).count();
    let unanswered = stored
        .keys()
        .filter(|sid| !accepted.contains(sid.as_str()))
        .count();
    Ok(Check {
        name: "answered texts stored once",
        ok: missing == 0 && twice == 0,
        detail: format!(
            "{} answered 200, {} stored, {missing} missing, {twice} stored twice, {unanswered} stored without a 200 answer",
            accepted.len(),
            stored.len()
        ),
    })
}

/// One reply job per text (the router handled each once), and each job sent.
async fn handled_once(
    db: &mut sqlx::PgConnection,
    expected: &HashMap<&str, usize>,
    phones: &[String],
) -> anyhow::Result<Check> {
    let rows = sqlx::query!(
        r#"select to_e164 as "to!", count(*) as "jobs!",
                  count(*) filter (where status = 'sent') as "sent!"
             from sms_outbound_jobs where to_e164 = any($1) group by 1"#,
        phones
    )
    .fetch_all(db)
    .await?;
    let jobs: HashMap<String, (i64, i64)> =
        rows.into_iter().map(|r| (r.to, (r.jobs, r.sent))).collect();
    let (mut fewer, mut more, mut unsent) = (0_usize, 0_usize, 0_i64);
    for (phone, want) in expected {
        let (have, sent) = jobs.get(*phone).copied().unwrap_or((0, 0));
        let want = i64::try_from(*want).unwrap_or(i64::MAX);
        fewer += usize::try_from((want - have).max(0)).unwrap_or(0);
        more += usize::try_from((have - want).max(0)).unwrap_or(0);
        unsent += have - sent;
    }
    let total: usize = expected.values().sum();
    Ok(Check {
        name: "one reply job per text, all sent",
        ok: fewer == 0 && more == 0 && unsent == 0,
        detail: format!(
            "{total} texts: {fewer} without a reply job, {more} extra jobs, {unsent} jobs not sent"
        ),
    })
}

/// Every create the simulator received, from the first.
async fn all_outbound(sim: &str) -> anyhow::Result<Vec<OutboundRecord>> {
    let http = reqwest::Client::new();
    let base = sim.trim_end_matches('/');
    let mut all = Vec::new();
    loop {
        let mut url = format!("{base}/sim/outbound");
        if let Some(last) = all.last().map(|m: &OutboundRecord| m.index) {
            url.push_str(&format!("?after={last}"));
        }
        let page: OutboundFeed = http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if page.messages.is_empty() {
            return Ok(all);
        }
        all.extend(page.messages);
    }
}

/// Each text's reply reached the simulator once; repeats within the allowance of cut sends.
fn replies_sent(
    sent: &[OutboundRecord],
    expected: &HashMap<&str, usize>,
    allowed: usize,
) -> Vec<Check> {
    let mut by_reply: HashMap<(&str, &str), usize> = HashMap::new();
    for m in sent.iter().filter(|m| expected.contains_key(m.to.as_str())) {
        *by_reply
            .entry((m.to.as_str(), m.body.as_str()))
            .or_default() += 1;
    }
    let mut distinct: HashMap<&str, usize> = HashMap::new();
    for (to, _) in by_reply.keys() {
        *distinct.entry(to).or_default() += 1;
    }
    let repeats: usize = by_reply.values().map(|n| n - 1).sum();
    let missing: usize = expected
        .iter()
        .map(|(phone, want)| want.saturating_sub(distinct.get(phone).copied().unwrap_or(0)))
        .sum();
    vec![
        Check {
            name: "every text's reply reached Twilio",
            ok: missing == 0,
            detail: format!("{} distinct replies, {missing} missing", by_reply.len()),
        },
        Check {
            name: "no reply sent twice (but cut sends)",
            ok: repeats <= allowed,
            detail: format!("{repeats} sent again (cut mid-flight; at most {allowed} allowed)"),
        },
    ]
}

/// Where the time goes, from the rows' timestamps: inbound stored → reply job created (inbound
/// relay, JetStream, the router's transaction, its relay, the sender's intake) → sent (the
/// sender's claim and the Messages API call), at p50, p95, p99 and the maximum. Printed, not
/// checked.
async fn stages(db: &mut sqlx::PgConnection, phones: &[String]) -> anyhow::Result<()> {
    let rows = sqlx::query!(
        r#"with i as (select from_e164 as phone, created_at,
                             row_number() over (partition by from_e164 order by created_at) as n
                        from sms_messages where direction = 'in' and from_e164 = any($1)),
                j as (select to_e164 as phone, created_at, sent_at,
                             row_number() over (partition by to_e164 order by created_at) as n
                        from sms_outbound_jobs where to_e164 = any($1)),
                d as (select extract(epoch from j.created_at - i.created_at) * 1000 as to_job,
                             extract(epoch from j.sent_at - j.created_at) * 1000 as to_sent
                        from i join j using (phone, n))
           select q as "q!",
                  (percentile_cont(q) within group (order by to_job))::float8 as "to_job!",
                  (percentile_cont(q) within group (order by to_sent))::float8 as "to_sent!"
             from d, unnest(array[0.5, 0.95, 0.99, 1.0]::float8[]) as q
            group by q order by q"#,
        phones
    )
    .fetch_all(db)
    .await?;
    for r in rows {
        // The maximum too: under faults a single text that waited out a lease hides below p99.
        let label = if r.q >= 1.0 {
            "max".to_owned()
        } else {
            format!("p{}", (r.q * 100.0).round())
        };
        println!(
            "stage {label:<3} inbound stored -> reply job {:>8.1} ms; reply job -> sent {:>8.1} ms",
            r.to_job, r.to_sent
        );
    }
    Ok(())
}

async fn outbox_published(db: &mut sqlx::PgConnection) -> anyhow::Result<Check> {
    let left = sqlx::query_scalar!(
        r#"select count(*) as "n!" from event_outbox where published_at is null"#
    )
    .fetch_one(db)
    .await?;
    Ok(Check {
        name: "outbox fully published",
        ok: left == 0,
        detail: format!("{left} unpublished rows"),
    })
}

/// No consumer with pending or unacknowledged messages; an empty dead-letter stream.
async fn jetstream(js: &async_nats::jetstream::Context) -> anyhow::Result<Vec<Check>> {
    let names: Vec<String> = js.stream_names().try_collect().await?;
    let mut stuck = BTreeMap::new();
    let mut consumers = 0;
    let mut dead = 0;
    for name in names {
        let mut stream = js.get_stream(&name).await?;
        if name == bus::subjects::DLQ_STREAM {
            dead = stream.info().await?.state.messages;
        }
        let infos: Vec<_> = stream.consumers().try_collect().await?;
        for info in infos {
            consumers += 1;
            if info.num_pending > 0 || info.num_ack_pending > 0 {
                stuck.insert(
                    format!("{name}/{}", info.name),
                    (info.num_pending, info.num_ack_pending),
                );
            }
        }
    }
    Ok(vec![
        Check {
            name: "no event stuck in JetStream",
            ok: stuck.is_empty() && consumers > 0,
            detail: format!(
                "{consumers} consumers; (pending, ack pending) of the stuck: {stuck:?}"
            ),
        },
        Check {
            name: "dead-letter stream empty",
            ok: dead == 0,
            detail: format!("{dead} dead letters"),
        },
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(to: &str, body: &str) -> OutboundRecord {
        OutboundRecord {
            index: 0,
            sid: String::new(),
            to: to.to_owned(),
            body: body.to_owned(),
            created_at_us: 0,
        }
    }

    #[test]
    fn repeats_and_missing_replies_are_counted_per_phone() {
        let expected = HashMap::from([("+1", 2), ("+2", 1)]);
        let all = [
            sent("+1", "a"),
            sent("+1", "b"),
            sent("+1", "b"),
            sent("+3", "x"),
        ];
        let checks = replies_sent(&all, &expected, 0);
        assert!(!checks[0].ok, "{}", checks[0].detail);
        assert!(checks[0].detail.contains("1 missing"));
        assert!(!checks[1].ok);
        assert!(checks[1].detail.starts_with("1 sent again"));
        let allowed = replies_sent(&all, &expected, 1);
        assert!(allowed[1].ok);
    }
}
