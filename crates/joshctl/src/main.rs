//! `joshctl`: JOSH's ops CLI.
//!
//! - `joshctl migrate`: apply pending migrations to `DATABASE_URL` (running it twice is a no-op).
//! - `joshctl verify-schema`: compare the live schema with the expected one; print every
//!   difference and exit 1 on drift.
//! - `joshctl schema-snapshot`: print the live schema in the expected-schema format (to refresh
//!   `crates/schema/expected_schema.txt` after writing a migration).
//! - `joshctl dlq list [--service S] [--json]`, `joshctl dlq replay ID|--all [--service S]
//!   --reason ...`, `joshctl dlq discard ID --reason ...`: dead letters through every service's
//!   `DeadLetters` admin API (`<SERVICE>_ADMIN_URL`, `JOSH_ADMIN_TOKEN`).
//! - `joshctl phone +15555550100 [--to JOSH] [--sim URL]`: text JOSH from a terminal through the
//!   local Twilio simulator, and see the replies.
//! - `joshctl clock show|advance 2h|set 2026-12-02T18:00:00Z|reset`: the shared simulated clock.
//! - `joshctl demo`: play the whole journey (eight phones, one LinkUp) against the dev stack.
//! - `joshctl retention run [--days 30]`: null message bodies past the retention window.
//! - `joshctl rekey --to N`: re-encrypt every body under the active key N; reports what is left.
//! - `joshctl admin token create --email X --role R`: mint an admin API token (printed once);
//!   `joshctl admin token list [--json]` / `joshctl admin token revoke ID --reason ...`.
//! - `joshctl user show +1555...|USER_ID [--json]`: one person across every service's admin API
//!   (router timeline, LinkUps, billing, texts' metadata), merged in time order; exit 3 when a
//!   service did not answer (the rest is printed).
//! - `joshctl hold +1555... --state soft --reason ...`,
//!   `joshctl region open|close SLUG --reason ...`: the router's admin API (`ROUTER_ADMIN_URL`,
//!   `JOSH_ADMIN_TOKEN`).
//! - `joshctl safety list [--status open] [--user +1555...|USER_ID] [--json]`,
//!   `joshctl safety review REPORT_ID --uphold|--dismiss --reason ...`: the safety review queue
//!   (reports and incidents, reporter never shown) through the router's admin API.
//! - `joshctl user messages +1555... [--bodies --reason ...]`: a person's texts in time order
//!   (inbound-sms's and outbound-sender's admin APIs, `INBOUND_ADMIN_URL`, `SENDER_ADMIN_URL`);
//!   `joshctl user export +1555... --reason ... [--out FILE]`: every service's data about them.
//! - `joshctl sender pause|resume SENDER --reason ...`, `joshctl sender status`,
//!   `joshctl sender resend JOB --reason ...`: outbound-sender's admin API (`SENDER_ADMIN_URL`).
//! - `joshctl linkup show ID`, `joshctl linkup list +1555...|USER_ID`,
//!   `joshctl linkup cancel ID --reason ...`: linkup-matcher's admin API (`MATCHER_ADMIN_URL`).
//! - `joshctl billing show +1555...|USER_ID`: billing's admin API (`BILLING_ADMIN_URL`).

#![allow(clippy::print_stdout)] // a CLI reports on stdout

use std::process::ExitCode;

mod admin;
mod admin_view;
mod billing;
mod clock;
mod demo;
mod dlq;
mod linkup;
mod maintain;
mod phone;
mod region;
mod safety;
mod sender;
mod tokens;
mod user_export;
mod user_messages;
mod user_show;
mod user_show_view;

use anyhow::Context;
use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

#[derive(Debug, Parser)]
#[command(
    name = "joshctl",
    version,
    about = "Operate JOSH: migrations, schema checks, dead letters, a simulated phone"
)]
struct Cli {
    /// Postgres URL (as a role allowed to run migrations for `migrate`).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<SecretString>,
    /// NATS server (for `clock` and `demo`).
    #[arg(
        long,
        env = "NATS_URL",
        global = true,
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    #[command(flatten)]
    admin: admin::AdminConn,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations (idempotent).
    Migrate,
    /// Check the live schema against the expected one; exit 1 on drift.
    VerifySchema,
    /// Print the live schema in the expected-schema format.
    SchemaSnapshot,
    /// Dead letters: messages a consumer gave up on, through each service's admin API.
    #[command(subcommand)]
    Dlq(dlq::DlqCommand),
    /// Text JOSH from a terminal as a simulated phone (through the local Twilio simulator).
    Phone(phone::PhoneArgs),
    /// Message body retention.
    #[command(subcommand)]
    Retention(maintain::RetentionCommand),
    /// Re-encrypt every message body under the active key (resumable; exit 3 while rows remain
    /// under older keys).
    Rekey(maintain::RekeyArgs),
    /// Admin users and their API tokens (on `DATABASE_URL`).
    #[command(subcommand)]
    Admin(tokens::AdminCommand),
    /// Users, through the services' admin APIs.
    #[command(subcommand)]
    User(admin::UserCommand),
    /// Raise, lower or clear a user's safety hold, through the router's admin API.
    Hold(admin::HoldArgs),
    /// Regions, through the router's admin API.
    #[command(subcommand)]
    Region(region::RegionCommand),
    /// The safety review queue (reports and incidents), through the router's admin API.
    #[command(subcommand)]
    Safety(safety::SafetyCommand),
    /// Outbound senders and jobs, through outbound-sender's admin API (`SENDER_ADMIN_URL`).
    #[command(subcommand)]
    Sender(sender::SenderCommand),
    /// LinkUps, through linkup-matcher's admin API (`MATCHER_ADMIN_URL`).
    #[command(subcommand)]
    Linkup(linkup::LinkupCommand),
    /// Memberships, through billing's admin API (`BILLING_ADMIN_URL`).
    #[command(subcommand)]
    Billing(billing::BillingCommand),
    /// The shared simulated clock (services started with `JOSH_CLOCK=simulated`).
    #[command(subcommand)]
    Clock(clock::ClockCommand),
    /// Play the whole journey (eight people, one LinkUp) against the running dev stack.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("joshctl: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("joshctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let schema_command = match cli.command {
        Command::Dlq(command) => return dlq::run(&cli.admin, command).await,
        Command::Phone(args) => return phone::run(args).await,
        Command::Clock(command) => return clock::run(&cli.nats_url, command).await,
        Command::Demo(args) => return demo::run(&cli.nats_url, args).await,
        Command::User(command) => return admin::user(&cli.admin, command).await,
        Command::Hold(args) => return admin::hold(&cli.admin, args).await,
        Command::Region(command) => return region::run(&cli.admin, command).await,
        Command::Safety(command) => return safety::run(&cli.admin, command).await,
        Command::Sender(command) => return sender::run(&cli.admin, command).await,
        Command::Linkup(command) => return linkup::run(&cli.admin, command).await,
        Command::Billing(command) => return billing::run(&cli.admin, command).await,
        Command::Admin(command) => {
            let pool = connect(&database_url(cli.database_url)?).await?;
            return tokens::run(&pool, command).await;
        }
        Command::Migrate => SchemaCommand::Migrate,
        Command::VerifySchema => SchemaCommand::Verify,
        Command::SchemaSnapshot => SchemaCommand::Snapshot,
        Command::Retention(command) => {
            let pool = connect(&database_url(cli.database_url)?).await?;
            return maintain::retention(&pool, command).await;
        }
        Command::Rekey(args) => {
            let pool = connect(&database_url(cli.database_url)?).await?;
            return maintain::rekey(&pool, args).await;
        }
    };
    let pool = connect(&database_url(cli.database_url)?).await?;
    match schema_command {
        SchemaCommand::Migrate => migrate(&pool).await,
        SchemaCommand::Verify => verify(&pool).await,
        SchemaCommand::Snapshot => {
            let snapshot = schema::snapshot(&pool).await?;
            print!("{snapshot}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The subcommands that work on `DATABASE_URL`.
enum SchemaCommand {
    Migrate,
    Verify,
    Snapshot,
}

fn database_url(url: Option<SecretString>) -> anyhow::Result<SecretString> {
    url.context("DATABASE_URL is missing (or pass --database-url)")
}

async fn connect(url: &SecretString) -> anyhow::Result<PgPool> {
    // Never print the URL: it may hold a password.
    let options: PgConnectOptions = url
        .expose_secret()
        .parse()
        .map_err(|_| anyhow::anyhow!("DATABASE_URL is malformed: expected postgres://..."))?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.application_name("joshctl"))
        .await
        .context("cannot connect to the database")?;
    Ok(pool)
}

async fn migrate(pool: &PgPool) -> anyhow::Result<ExitCode> {
    let report = schema::migrate(pool).await?;
    let version = report
        .version
        .map_or_else(|| "none".to_owned(), |v| v.to_string());
    if report.applied.is_empty() {
        println!("schema up to date at version {version}");
    } else {
        for v in &report.applied {
            println!("applied {v}");
        }
        println!(
            "applied {} migration(s); schema now at version {version}",
            report.applied.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn verify(pool: &PgPool) -> anyhow::Result<ExitCode> {
    let required = schema::required_version();
    let live = schema::live_version(pool).await?;
    let drift = schema::verify(pool).await?;
    let version_ok = live == Some(required);
    if drift.is_empty() && version_ok {
        let facts = schema::expected().lines().count();
        println!("schema matches: version {required}, {facts} facts checked");
        return Ok(ExitCode::SUCCESS);
    }
    if !version_ok {
        let live = live.map_or_else(|| "none".to_owned(), |v| v.to_string());
        println!("version: database reports {live}, this build expects {required}");
    }
    print!("{drift}");
    println!(
        "schema drift: {} missing, {} unexpected",
        drift.missing.len(),
        drift.unexpected.len()
    );
    Ok(ExitCode::from(1))
}
