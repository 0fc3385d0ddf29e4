//! `joshctl region open|close SLUG --reason ... [--json]`: the router's admin API
//! (`ROUTER_ADMIN_URL`, `JOSH_ADMIN_TOKEN`). Closing pauses an open region (`rules.paused`):
//! no new LinkUps and no invites there; opening resumes it and activates any waitlist.

use std::process::ExitCode;

use rpc::admin::v1 as api;
use tonic::Status;

use crate::admin::{AdminConn, authed, explain};

/// `joshctl region ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RegionCommand {
    /// Open a region and activate its waitlist; a closed (paused) open region resumes.
    Open {
        /// The region's slug.
        slug: String,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close (pause) an open region: no new LinkUps and no invites there; members asking for one
    /// hear "we're paused here for now". `region open` resumes it.
    Close {
        /// The region's slug.
        slug: String,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `joshctl region open|close`.
pub(crate) async fn run(conn: &AdminConn, command: RegionCommand) -> anyhow::Result<ExitCode> {
    let (mut client, token) = conn.client().await?;
    let failed = |s: Status| explain(&s, conn.router_admin_url());
    match command {
        RegionCommand::Open { slug, reason, json } => {
            let message = api::OpenRegionRequest {
                slug: slug.clone(),
                reason,
            };
            let opened = client
                .open_region(authed(message, &token)?)
                .await
                .map_err(failed)?
                .into_inner();
            if json {
                let value = serde_json::json!({"slug": slug, "region_id": opened.region_id,
                    "activated": opened.activated, "resumed": opened.resumed});
                println!("{value}");
            } else {
                let resumed = if opened.resumed { " (resumed)" } else { "" };
                println!(
                    "region {slug} is open{resumed}; {} waitlisted member(s) activated",
                    opened.activated
                );
            }
        }
        RegionCommand::Close { slug, reason, json } => {
            let message = api::CloseRegionRequest {
                slug: slug.clone(),
                reason,
            };
            let closed = client
                .close_region(authed(message, &token)?)
                .await
                .map_err(failed)?
                .into_inner();
            if json {
                let value = serde_json::json!({"slug": slug, "region_id": closed.region_id,
                    "already_closed": closed.already_closed, "state": closed.state});
                println!("{value}");
            } else if closed.already_closed {
                println!(
                    "region {slug} was already closed ({}); nothing changed",
                    closed.state
                );
            } else {
                println!(
                    "region {slug} is closed (paused): no new LinkUps or invites; `joshctl region open {slug}` resumes it"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
