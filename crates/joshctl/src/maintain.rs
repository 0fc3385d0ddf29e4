//! `joshctl retention run` and `joshctl rekey --to N`: the maintenance jobs, with a line of
//! progress per batch and a summary; both are safe to stop and run again.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;

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
}

/// Runs the retention job.
pub(crate) async fn retention(
    pool: &PgPool,
    command: RetentionCommand,
) -> anyhow::Result<ExitCode> {
    let RetentionCommand::Run { days, batch } = command;
    anyhow::ensure!(days >= 1, "--days must be at least 1");
    let now = time::OffsetDateTime::now_utc();
    let report =
        maintenance::retention::run(pool, now, time::Duration::days(days), batch, |table, n| {
            if n > 0 {
                println!("{table}: {n} bodies nulled");
            }
        })
        .await?;
    println!(
        "retention: {} message and {} job bodies older than {days} days nulled",
        report.messages, report.jobs
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs the rekey job and reports what is left under older keys.
pub(crate) async fn rekey(pool: &PgPool, args: RekeyArgs) -> anyhow::Result<ExitCode> {
    let keyring = crypto::Keyring::from_config(args.keys.expose_secret(), &args.active)
        .context("JOSH_ENCRYPTION_KEYS / JOSH_ACTIVE_KEY_VERSION are not a valid keyring")?;
    let mut total = 0;
    let changed = maintenance::rekey::run(pool, &keyring, args.to, args.batch, |table, n| {
        total += n;
        if n > 0 {
            println!("{table}: {n} bodies re-encrypted ({total} so far)");
        }
    })
    .await?;
    println!("rekey: {changed} bodies now under key {}", args.to);
    let left = maintenance::rekey::left_under_old_keys(pool, args.to).await?;
    if left.is_empty() {
        println!("no body is left under an older key: older keys can be retired");
        return Ok(ExitCode::SUCCESS);
    }
    for key in &left {
        println!(
            "left: {} rows of {} under key {} (held by a service; run again)",
            key.rows, key.table, key.key_version
        );
    }
    Ok(ExitCode::from(3))
}
