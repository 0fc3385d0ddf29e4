//! `joshctl user export <phone|user-id> --reason ... [--out FILE]`: everything the services hold
//! about a person, as one JSON object keyed by service. The router resolves the person; then
//! every service in [`EXPORTERS`] answers its `ExportUser` (support and engineering, reason
//! required, audited by each service). A service that does not implement it yet is skipped with
//! a warning; any other failure stops the export (a partial one would look complete).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use rpc::admin::v1 as api;
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

use crate::admin::{AdminConn, authed, explain};

/// `joshctl user export`.
#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// E.164 phone number or user id.
    user: String,
    /// Why (e.g. the ticket of the person's access request; written to every audit log).
    #[arg(long)]
    reason: String,
    /// Write the JSON here (created owner-only; refused if it exists) instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// A service that serves `ExportUser(UserExportRequest) returns (UserExportResponse)` (see
/// `proto/josh/admin/v1/export.proto`) in its admin API.
struct Exporter {
    /// Its key in the document.
    service: &'static str,
    /// The gRPC method.
    method: &'static str,
    /// Its admin API's address, and the setting that names it.
    url: fn(&AdminConn) -> (&str, &'static str),
}

/// Every service asked, in this order (the document's keys are sorted). Adding one is one row
/// here (and its URL setting on [`AdminConn`]).
const EXPORTERS: &[Exporter] = &[
    Exporter {
        service: "conversation-router",
        method: "/josh.admin.v1.RouterAdmin/ExportUser",
        url: |c| (c.router_admin_url(), "ROUTER_ADMIN_URL"),
    },
    Exporter {
        service: "inbound-sms",
        method: "/josh.admin.v1.InboundAdmin/ExportUser",
        url: |c| (c.inbound_admin_url(), "INBOUND_ADMIN_URL"),
    },
    Exporter {
        service: "linkup-matcher",
        method: "/josh.admin.v1.MatcherAdmin/ExportUser",
        url: |c| (c.matcher_admin_url(), "MATCHER_ADMIN_URL"),
    },
    Exporter {
        service: "billing",
        method: "/josh.admin.v1.BillingAdmin/ExportUser",
        url: |c| (c.billing_admin_url(), "BILLING_ADMIN_URL"),
    },
    Exporter {
        service: "outbound-sender",
        method: "/josh.admin.v1.SenderAdmin/ExportUser",
        url: |c| (c.sender_admin_url(), "SENDER_ADMIN_URL"),
    },
];

/// Runs `joshctl user export`.
pub(crate) async fn run(conn: &AdminConn, args: ExportArgs) -> anyhow::Result<ExitCode> {
    // Refuse before any service does (and audits) the work.
    if let Some(path) = args.out.as_deref().filter(|p| p.exists()) {
        anyhow::bail!(
            "{} exists; an export never overwrites a file",
            path.display()
        );
    }
    let user_id = conn.user_id(&args.user).await?;
    let mut document = serde_json::Map::new();
    for exporter in EXPORTERS {
        let (url, setting) = (exporter.url)(conn);
        let (channel, token) = conn.channel_to(setting, url)?;
        let message = api::UserExportRequest {
            user_id: user_id.clone(),
            reason: args.reason.clone(),
        };
        match export_user(channel, exporter.method, authed(message, &token)?).await {
            Ok(answer) => {
                let part: serde_json::Value = serde_json::from_str(&answer.document_json)
                    .with_context(|| format!("{} answered malformed JSON", exporter.service))?;
                document.insert(exporter.service.to_owned(), part);
            }
            Err(status) if status.code() == Code::Unimplemented => {
                eprintln!(
                    "joshctl: warning: {} does not export user data yet; skipped",
                    exporter.service
                );
            }
            Err(status) => return Err(explain(&status, url).context(exporter.service)),
        }
    }
    let services: Vec<String> = document.keys().cloned().collect();
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(document))?;
    match &args.out {
        Some(path) => write_private(path, &text)?,
        None => println!("{text}"),
    }
    eprintln!(
        "joshctl: exported user {user_id} from {} service(s): {}",
        services.len(),
        services.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Calls `method`, which every exporting admin service declares alike.
async fn export_user(
    channel: Channel,
    method: &'static str,
    request: Request<api::UserExportRequest>,
) -> Result<api::UserExportResponse, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(format!("not ready: {e}")))?;
    let codec = tonic_prost::ProstCodec::default();
    let answer = grpc
        .unary(request, PathAndQuery::from_static(method), codec)
        .await?;
    Ok(answer.into_inner())
}

/// Writes `text` to a new file only its owner can read (it holds a person's data).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .with_context(|| format!("cannot write {}", path.display()))
}
