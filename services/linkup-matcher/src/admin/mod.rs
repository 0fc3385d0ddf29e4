//! linkup-matcher's admin gRPC API (`josh.admin.v1.MatcherAdmin`, on `GRPC_ADDR`): one LinkUp
//! in full, a person's LinkUps, canceling a LinkUp, and a person's export. Every call is
//! authenticated by `admin_auth` and written to `admin_audit_log`.
//!
//! | action (audit `action`) | support | ops | engineering |
//! |---|---|---|---|
//! | show a LinkUp (`linkup.show`), list a person's (`linkup.list`) | yes | yes | yes |
//! | cancel a LinkUp (`linkup.cancel`) | no | yes | yes |
//! | export a person's rows (`user.export`) | yes | no | yes |

mod cancel;
mod show;

use std::sync::Arc;

use admin_auth::{AuditEntry, Role, internal, require_reason};
use rpc::admin::v1 as api;
use rpc::admin::v1::matcher_admin_server::{MatcherAdmin, MatcherAdminServer};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{Context, SERVICE};

/// The admin API's state.
#[derive(Debug, Clone)]
pub struct MatcherAdminApi {
    pool: PgPool,
    ctx: Arc<Context>,
}

impl MatcherAdminApi {
    /// The API over `pool` (as `josh_linkup_matcher`).
    pub fn new(pool: PgPool, ctx: Arc<Context>) -> Self {
        Self { pool, ctx }
    }

    /// The tonic service.
    pub fn into_server(self) -> MatcherAdminServer<Self> {
        MatcherAdminServer::new(self)
    }
}

/// A UUID field of a request.
fn uuid_arg(raw: &str, name: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| Status::invalid_argument(format!("{name} is not a UUID")))
}

#[tonic::async_trait]
impl MatcherAdmin for MatcherAdminApi {
    #[tracing::instrument(skip_all)]
    async fn show_linkup(
        &self,
        request: Request<api::ShowLinkupRequest>,
    ) -> Result<Response<api::LinkupView>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "linkup.show").await?;
        let id = uuid_arg(&request.get_ref().linkup_id, "linkup_id")?;
        Ok(Response::new(show::linkup(&self.pool, &admin, id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn list_linkups(
        &self,
        request: Request<api::ListLinkupsRequest>,
    ) -> Result<Response<api::ListLinkupsResponse>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "linkup.list").await?;
        let req = request.get_ref();
        let user = uuid_arg(&req.user_id, "user_id")?;
        let listed = show::of_user(&self.pool, &admin, user, req.limit).await?;
        Ok(Response::new(listed))
    }

    #[tracing::instrument(skip_all)]
    async fn cancel_linkup(
        &self,
        request: Request<api::CancelLinkupRequest>,
    ) -> Result<Response<api::CancelLinkupResponse>, Status> {
        let admin = admin_auth::authorize(
            &self.pool,
            request.metadata(),
            Role::OPERATORS,
            "linkup.cancel",
        )
        .await?;
        let req = request.get_ref();
        let id = uuid_arg(&req.linkup_id, "linkup_id")?;
        let why = require_reason(&req.reason)?;
        let done = cancel::cancel(&self.pool, &self.ctx, &admin, id, why).await?;
        Ok(Response::new(done))
    }

    #[tracing::instrument(skip_all)]
    async fn export_user(
        &self,
        request: Request<api::UserExportRequest>,
    ) -> Result<Response<api::UserExportResponse>, Status> {
        let req = request.get_ref();
        let (admin, why) =
            admin_auth::authorize_export(&self.pool, request.metadata(), SERVICE, &req.reason)
                .await?;
        let user = uuid_arg(&req.user_id, "user_id")?;
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let document = crate::store::admin::export(&mut tx, user)
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new(&admin, admin_auth::EXPORT_ACTION, "user")
            .target(user)
            .reason(why)
            .with("service", SERVICE);
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(admin = %admin.id, %user, "admin exported a user's LinkUp data");
        Ok(Response::new(api::UserExportResponse {
            service: SERVICE.to_owned(),
            document_json: document.to_string(),
        }))
    }
}
