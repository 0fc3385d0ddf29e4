//! `joshctl retention run` and `joshctl rekey --to N`: the maintenance jobs, with a progress bar
//! on a terminal (plain periodic lines otherwise) and a summary (`--json` for scripts); both are
//! safe to stop and run again.

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use maintenance::Progress;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

/// How often a plain progress line is printed when no bar can be drawn.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// `joshctl retention ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum RetentionCommand {
    /// Null message bodies older than the window (metadata stays).
    Run {
        /// Retention window in days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// Rows per transaction.
        #[arg(long, default_value_t = 1000)]
        batch: i64,
        /// Print the summary as JSON on stdout (progress lines go to stderr).
        #[arg(long)]
        json: bool,
    },
}

/// `joshctl rekey`.
#[derive(Debug, Args)]
pub(crate) struct RekeyArgs {
    /// The key version to re-encrypt under; must be JOSH_ACTIVE_KEY_VERSION.
    #[arg(long)]
    to: i32,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500)]
    batch: i64,
    /// The keyring, `version:base64key,...` (every version still in use is needed).
    #[arg(long, env = "JOSH_ENCRYPTION_KEYS", hide_env_values = true)]
    keys: SecretString,
    /// The active key version.
    #[arg(long, env = "JOSH_ACTIVE_KEY_VERSION")]
    active: String,
    /// Print the summary as JSON on stdout (progress lines go to stderr).
    #[arg(long)]
    json: bool,
}

/// Shows a job's progress: a bar when stdout is a terminal, else a plain line every few seconds
/// (on stderr with `--json`, so stdout carries the summary alone).
struct Meter {
    job: &'static str,
    bar: Option<ProgressBar>,
    to_stderr: bool,
    started: Instant,
    last_line: Option<Instant>,
}

impl Meter {
    fn new(job: &'static str, json: bool) -> Self {
        let bar = (!json && std::io::stdout().is_terminal()).then(|| {
            let style = ProgressStyle::with_template(
                "{msg:<18} {wide_bar} {human_pos}/{human_len} rows  {per_sec}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
            bar.set_style(style);
            bar
        });
        Self {
            job,
            bar,
            to_stderr: json,
            started: Instant::now(),
            last_line: None,
        }
    }

    fn update(&mut self, p: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(p.table);
            return;
        }
        let due = self.last_line.is_none_or(|t| t.elapsed() >= PLAIN_EVERY);
        if due || p.done == p.total {
            self.last_line = Some(Instant::now());
            self.line(&plain_line(self.job, p, self.started.elapsed()));
        }
    }

    fn line(&self, text: &str) {
        if self.to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `rekey: 1200/5000 rows (24%), 350 rows/s, ETA 11s`.
fn plain_line(job: &str, p: Progress, elapsed: Duration) -> String {
    let percent = p
        .done
        .saturating_mul(100)
        .checked_div(p.total)
        .unwrap_or(100);
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        p.done as f64 / secs
    } else {
        0.0
    };
    let eta = if rate > 0.0 {
        format!("{:.0}s", p.total.saturating_sub(p.done) as f64 / rate)
    } else {
        "-".to_owned()
    };
    format!(
        "{job}: {}/{} rows ({percent}%), {rate:.0} rows/s, ETA {eta}",
        p.done, p.total
    )
}

/// Runs the retention job.
pub(crate) async fn retention(
    pool: &PgPool,
    command: RetentionCommand,
) -> anyhow::Result<ExitCode> {
    let RetentionCommand::Run { days, batch, json } = command;
    anyhow::ensure!(days >= 1, "--days must be at least 1");
    anyhow::ensure!(batch >= 1, "--batch must be at least 1");
    let now = time::OffsetDateTime::now_utc();
    let mut meter = Meter::new("retention", json);
    let run = maintenance::retention::run(pool, now, time::Duration::days(days), batch, |p| {
        meter.update(p);
    })
    .await;
    meter.finish();
    let report = run?;
    if json {
        let value = serde_json::json!({
            "job": "retention",
            "days": days,
            "messages": report.messages,
            "jobs": report.jobs,
            "seconds": meter.started.elapsed().as_secs_f64(),
        });
        println!("{value}");
    } else {
        println!(
            "retention: {} message and {} job bodies older than {days} days nulled",
            report.messages, report.jobs
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the rekey job and reports what is left under older keys (exit 3 while any is).
pub(crate) async fn rekey(pool: &PgPool, args: RekeyArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.batch >= 1, "--batch must be at least 1");
    let keyring = crypto::Keyring::from_config(args.keys.expose_secret(), &args.active)
        .context("JOSH_ENCRYPTION_KEYS / JOSH_ACTIVE_KEY_VERSION are not a valid keyring")?;
    let mut meter = Meter::new("rekey", args.json);
    let run = maintenance::rekey::run(pool, &keyring, args.to, args.batch, |p| {
        meter.update(p);
    })
    .await;
    meter.finish();
    let changed = run?;
    let left = maintenance::rekey::left_under_old_keys(pool, args.to).await?;
    let code = if left.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    };
    if args.json {
        let value = serde_json::json!({
            "job": "rekey",
            "to": args.to,
            "changed": changed,
            "left": left.iter().map(|k| serde_json::json!({
                "table": k.table, "key_version": k.key_version, "rows": k.rows,
            })).collect::<Vec<_>>(),
            "old_keys_retirable": left.is_empty(),
            "seconds": meter.started.elapsed().as_secs_f64(),
        });
        println!("{value}");
        return Ok(code);
    }
    println!("rekey: {changed} bodies now under key {}", args.to);
    if left.is_empty() {
        println!("no body is left under an older key: older keys can be retired");
    }
    for key in &left {
        println!(
            "left: {} rows of {} under key {} (held by a service; run again)",
            key.rows, key.table, key.key_version
        );
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_show_done_of_total_rate_and_eta() {
        let p = |done, total| Progress {
            table: "sms_messages",
            batch: 10,
            done,
            total,
        };
        let ten_seconds = Duration::from_secs(10);
        assert_eq!(
            plain_line("rekey", p(50, 100), ten_seconds),
            "rekey: 50/100 rows (50%), 5 rows/s, ETA 10s"
        );
        assert_eq!(
            plain_line("retention", p(0, 0), Duration::ZERO),
            "retention: 0/0 rows (100%), 0 rows/s, ETA -"
        );
    }
}
