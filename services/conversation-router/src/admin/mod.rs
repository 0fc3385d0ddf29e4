//! The router's admin gRPC API (`josh.admin.v1.RouterAdmin`): a user's timeline, safety holds,
//! opening and closing (pausing) a region, deleting an account, exporting the router's data about
//! a person and the safety review queue. Every call is authenticated by `admin_auth` and written
//! to `admin_audit_log`.

mod cases;
mod delete;
mod export;
mod hold;
mod region;
mod timeline;

use std::sync::Arc;

use admin_auth::Role;
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_server::{RouterAdmin, RouterAdminServer};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::Context;

/// The admin API's state.
#[derive(Debug, Clone)]
pub struct RouterAdminApi {
    pool: PgPool,
    ctx: Arc<Context>,
}

impl RouterAdminApi {
    /// The API over `pool` (as `josh_conversation_router`).
    pub fn new(pool: PgPool, ctx: Arc<Context>) -> Self {
        Self { pool, ctx }
    }

    /// The tonic service.
    pub fn into_server(self) -> RouterAdminServer<Self> {
        RouterAdminServer::new(self)
    }
}

/// A user named by phone or id in a request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserRef<'a> {
    Phone(&'a str),
    Id(Uuid),
}

impl<'a> UserRef<'a> {
    fn from_timeline(user: Option<&'a api::user_timeline_request::User>) -> Result<Self, Status> {
        use api::user_timeline_request::User;
        match user {
            Some(User::PhoneE164(p)) => Ok(Self::Phone(p)),
            Some(User::UserId(id)) => parse_id(id),
            None => Err(Status::invalid_argument("a phone or user id is required")),
        }
    }

    fn from_delete(user: Option<&'a api::delete_user_request::User>) -> Result<Self, Status> {
        use api::delete_user_request::User;
        match user {
            Some(User::PhoneE164(p)) => Ok(Self::Phone(p)),
            Some(User::UserId(id)) => parse_id(id),
            None => Err(Status::invalid_argument("a phone or user id is required")),
        }
    }

    fn from_cases(
        user: Option<&'a api::list_safety_cases_request::User>,
    ) -> Result<Option<Self>, Status> {
        use api::list_safety_cases_request::User;
        match user {
            Some(User::PhoneE164(p)) => Ok(Some(Self::Phone(p))),
            Some(User::UserId(id)) => parse_id(id).map(Some),
            None => Ok(None),
        }
    }

    fn from_hold(user: Option<&'a api::set_hold_request::User>) -> Result<Self, Status> {
        use api::set_hold_request::User;
        match user {
            Some(User::PhoneE164(p)) => Ok(Self::Phone(p)),
            Some(User::UserId(id)) => parse_id(id),
            None => Err(Status::invalid_argument("a phone or user id is required")),
        }
    }

    /// The user's id and phone hash, or `NOT_FOUND`.
    pub(crate) async fn resolve(
        self,
        tx: &mut sqlx::PgConnection,
    ) -> Result<(Uuid, String), Status> {
        let (phone, id) = match self {
            Self::Phone(p) => (Some(p), None),
            Self::Id(id) => (None, Some(id)),
        };
        crate::store::admin::find_user(tx, phone, id)
            .await
            .map_err(admin_auth::internal)?
            .ok_or_else(|| Status::not_found("no such user"))
    }
}

/// Who may review safety reports: support and engineering (ops run the service, not cases).
const REVIEWERS: &[Role] = &[Role::Support, Role::Engineering];

fn parse_id(id: &str) -> Result<UserRef<'_>, Status> {
    Uuid::parse_str(id)
        .map(UserRef::Id)
        .map_err(|_| Status::invalid_argument("user_id is not a UUID"))
}

#[tonic::async_trait]
impl RouterAdmin for RouterAdminApi {
    #[tracing::instrument(skip_all)]
    async fn user_timeline(
        &self,
        request: Request<api::UserTimelineRequest>,
    ) -> Result<Response<api::UserTimelineResponse>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "user.timeline")
                .await?;
        let user = UserRef::from_timeline(request.get_ref().user.as_ref())?;
        let view = timeline::view(&self.pool, &self.ctx, &admin, user).await?;
        Ok(Response::new(view))
    }

    #[tracing::instrument(skip_all)]
    async fn set_hold(
        &self,
        request: Request<api::SetHoldRequest>,
    ) -> Result<Response<api::SetHoldResponse>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "safety.set_hold")
                .await?;
        let req = request.get_ref();
        let user = UserRef::from_hold(req.user.as_ref())?;
        let state = match api::HoldState::try_from(req.state) {
            Ok(api::HoldState::None) => "none",
            Ok(api::HoldState::Soft) => "soft_hold",
            Ok(api::HoldState::Hard) => "hard_hold",
            _ => return Err(Status::invalid_argument("state must be none, soft or hard")),
        };
        let why = admin_auth::require_reason(&req.reason)?;
        let changed = hold::set(&self.pool, &self.ctx, &admin, user, state, why).await?;
        Ok(Response::new(changed))
    }

    #[tracing::instrument(skip_all)]
    async fn open_region(
        &self,
        request: Request<api::OpenRegionRequest>,
    ) -> Result<Response<api::OpenRegionResponse>, Status> {
        let admin = admin_auth::authorize(
            &self.pool,
            request.metadata(),
            Role::OPERATORS,
            "region.open",
        )
        .await?;
        let req = request.get_ref();
        let why = admin_auth::require_reason(&req.reason)?;
        let opened = region::open(&self.pool, &self.ctx, &admin, req.slug.trim(), why).await?;
        Ok(Response::new(opened))
    }

    #[tracing::instrument(skip_all)]
    async fn close_region(
        &self,
        request: Request<api::CloseRegionRequest>,
    ) -> Result<Response<api::CloseRegionResponse>, Status> {
        let admin = admin_auth::authorize(
            &self.pool,
            request.metadata(),
            Role::OPERATORS,
            "region.close",
        )
        .await?;
        let req = request.get_ref();
        let why = admin_auth::require_reason(&req.reason)?;
        let closed = region::close(&self.pool, &self.ctx, &admin, req.slug.trim(), why).await?;
        Ok(Response::new(closed))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_user(
        &self,
        request: Request<api::DeleteUserRequest>,
    ) -> Result<Response<api::DeleteUserResponse>, Status> {
        let admin = admin_auth::authorize(
            &self.pool,
            request.metadata(),
            Role::OPERATORS,
            "user.delete",
        )
        .await?;
        let req = request.get_ref();
        let user = UserRef::from_delete(req.user.as_ref())?;
        let why = admin_auth::require_reason(&req.reason)?;
        let deleted = delete::delete(&self.pool, &self.ctx, &admin, user, why).await?;
        Ok(Response::new(deleted))
    }

    #[tracing::instrument(skip_all)]
    async fn export_user(
        &self,
        request: Request<api::UserExportRequest>,
    ) -> Result<Response<api::UserExportResponse>, Status> {
        export::export(&self.pool, request.metadata(), request.get_ref())
            .await
            .map(Response::new)
    }

    #[tracing::instrument(skip_all)]
    async fn list_safety_cases(
        &self,
        request: Request<api::ListSafetyCasesRequest>,
    ) -> Result<Response<api::ListSafetyCasesResponse>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "safety.list").await?;
        let req = request.get_ref();
        let status = match req.status.trim() {
            "" => None,
            s @ ("open" | "reviewing" | "resolved") => Some(s),
            _ => {
                return Err(Status::invalid_argument(
                    "status must be open, reviewing or resolved",
                ));
            }
        };
        let user = UserRef::from_cases(req.user.as_ref())?;
        let listed = cases::list(&self.pool, &self.ctx, &admin, status, user, req.limit).await?;
        Ok(Response::new(listed))
    }

    #[tracing::instrument(skip_all)]
    async fn review_report(
        &self,
        request: Request<api::ReviewReportRequest>,
    ) -> Result<Response<api::ReviewReportResponse>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), REVIEWERS, "safety.review")
                .await?;
        let req = request.get_ref();
        let report_id = Uuid::parse_str(req.report_id.trim())
            .map_err(|_| Status::invalid_argument("report_id is not a UUID"))?;
        let uphold = match api::ReviewDecision::try_from(req.decision) {
            Ok(api::ReviewDecision::Uphold) => true,
            Ok(api::ReviewDecision::Dismiss) => false,
            _ => {
                return Err(Status::invalid_argument(
                    "decision must be uphold or dismiss",
                ));
            }
        };
        let why = admin_auth::require_reason(&req.reason)?;
        let reviewed = cases::review(&self.pool, &self.ctx, &admin, report_id, uphold, why).await?;
        Ok(Response::new(reviewed))
    }
}
