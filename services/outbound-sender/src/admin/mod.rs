//! outbound-sender's admin gRPC API (`josh.admin.v1.SenderAdmin`, on `GRPC_ADDR`): pause and
//! resume a sender or every sender (the kill switch), the queue's status, resending a failed
//! job, a person's texts (bodies only for support and engineering, with a reason) and their
//! export. Authenticated and audited through `admin_auth`.
//!
//! A pause is a `sms_sender_pauses` row, the same record Twilio's 30007 / 30034 create, so ops
//! see and clear both alike and every replica obeys it: workers check it before claiming a job,
//! so paused jobs stay pending, in order, and go out when the pause is lifted.

mod export;
mod messages;
mod resend;

use admin_auth::{AuditEntry, Role, internal, require_reason};
use rpc::admin::v1 as api;
use rpc::admin::v1::sender_admin_server::{SenderAdmin, SenderAdminServer};
use tonic::{Request, Response, Status};

use crate::engine::{JOBS_CHANNEL, Outbound};
use crate::store::admin as store;
use crate::store::state::ALL_SENDERS;

/// The admin API over the engine's database, keys and clock.
#[derive(Debug, Clone)]
pub struct SenderAdminApi {
    outbound: Outbound,
}

impl SenderAdminApi {
    /// The API for `outbound`'s database (as `josh_outbound_sender`).
    pub fn new(outbound: Outbound) -> Self {
        Self { outbound }
    }

    /// The tonic service.
    pub fn into_server(self) -> SenderAdminServer<Self> {
        SenderAdminServer::new(self)
    }

    fn pool(&self) -> &sqlx::PgPool {
        &self.outbound.inner.pool
    }
}

/// `*`, a From number (E.164) or a Messaging Service SID (`MG` + 32 hex digits).
fn sender(raw: &str) -> Result<&str, Status> {
    let s = raw.trim();
    let sid = s.len() == 34
        && s.starts_with("MG")
        && s.get(2..)
            .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
    if s == ALL_SENDERS || sid || crypto::validate_e164(s).is_ok() {
        Ok(s)
    } else {
        Err(Status::invalid_argument(
            "sender must be a From number (E.164), a Messaging Service SID (MG...) or * for all",
        ))
    }
}

#[tonic::async_trait]
impl SenderAdmin for SenderAdminApi {
    #[tracing::instrument(skip_all)]
    async fn pause_sender(
        &self,
        request: Request<api::PauseSenderRequest>,
    ) -> Result<Response<api::PauseSenderResponse>, Status> {
        let admin = admin_auth::authorize(
            self.pool(),
            request.metadata(),
            Role::OPERATORS,
            "sender.pause",
        )
        .await?;
        let req = request.get_ref();
        let (who, why) = (sender(&req.sender)?, require_reason(&req.reason)?);
        let now = self.outbound.inner.clock.now();
        let mut tx = self.pool().begin().await.map_err(internal)?;
        let newly = store::pause(&mut tx, who, why, admin.id, now)
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new(&admin, "sender.pause", "sender")
            .reason(why)
            .with("sender", who)
            .with("newly_paused", newly);
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::warn!(admin = %admin.id, sender = who, newly, "an admin paused a sender");
        Ok(Response::new(api::PauseSenderResponse {
            sender: who.to_owned(),
            newly_paused: newly,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn resume_sender(
        &self,
        request: Request<api::ResumeSenderRequest>,
    ) -> Result<Response<api::ResumeSenderResponse>, Status> {
        let admin = admin_auth::authorize(
            self.pool(),
            request.metadata(),
            Role::OPERATORS,
            "sender.resume",
        )
        .await?;
        let req = request.get_ref();
        let (who, why) = (sender(&req.sender)?, require_reason(&req.reason)?);
        let now = self.outbound.inner.clock.now();
        let mut tx = self.pool().begin().await.map_err(internal)?;
        let was = store::resume(&mut tx, who, admin.id, now)
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new(&admin, "sender.resume", "sender")
            .reason(why)
            .with("sender", who)
            .with("was_paused", was);
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        // Wake every replica's workers at commit rather than at their next poll.
        sqlx::query("select pg_notify($1, '')")
            .bind(JOBS_CHANNEL)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::warn!(admin = %admin.id, sender = who, was, "an admin resumed a sender");
        Ok(Response::new(api::ResumeSenderResponse {
            sender: who.to_owned(),
            was_paused: was,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn sender_status(
        &self,
        request: Request<api::SenderStatusRequest>,
    ) -> Result<Response<api::SenderStatusResponse>, Status> {
        let admin =
            admin_auth::authorize(self.pool(), request.metadata(), Role::ANY, "sender.status")
                .await?;
        let now = self.outbound.inner.clock.now();
        let mut tx = self.pool().begin().await.map_err(internal)?;
        let paused = store::paused(&mut tx).await.map_err(internal)?;
        let (queue, due) = store::queue(&mut tx, now).await.map_err(internal)?;
        let entry = AuditEntry::new(&admin, "sender.status", "sender").with("paused", paused.len());
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(api::SenderStatusResponse {
            paused: paused
                .into_iter()
                .map(|p| api::PausedSender {
                    sender: p.sender,
                    reason: p.reason,
                    error_code: p.error_code.unwrap_or_default(),
                    paused_at: Some(proto::timestamp::to_timestamp(p.paused_at)),
                    paused_by: p.paused_by.unwrap_or_default(),
                })
                .collect(),
            queue: queue
                .into_iter()
                .map(|(status, jobs)| api::QueueDepth { status, jobs })
                .collect(),
            due,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn resend_job(
        &self,
        request: Request<api::ResendJobRequest>,
    ) -> Result<Response<api::ResendJobResponse>, Status> {
        let admin = admin_auth::authorize(
            self.pool(),
            request.metadata(),
            Role::OPERATORS,
            "job.resend",
        )
        .await?;
        let req = request.get_ref();
        let job_id = uuid::Uuid::parse_str(req.job_id.trim())
            .map_err(|_| Status::invalid_argument("job_id is not a UUID"))?;
        let why = require_reason(&req.reason)?;
        let new_id = resend::resend(&self.outbound, &admin, job_id, why).await?;
        Ok(Response::new(api::ResendJobResponse {
            job_id: new_id.to_string(),
            resent_from: job_id.to_string(),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_messages(
        &self,
        request: Request<api::ListMessagesRequest>,
    ) -> Result<Response<api::ListMessagesResponse>, Status> {
        let keyring = &self.outbound.inner.keyring;
        messages::list(self.pool(), keyring, request.metadata(), request.get_ref())
            .await
            .map(Response::new)
    }

    #[tracing::instrument(skip_all)]
    async fn export_user(
        &self,
        request: Request<api::UserExportRequest>,
    ) -> Result<Response<api::UserExportResponse>, Status> {
        let keyring = &self.outbound.inner.keyring;
        export::export(self.pool(), keyring, request.metadata(), request.get_ref())
            .await
            .map(Response::new)
    }
}
