//! inbound-sms's admin gRPC API (`josh.admin.v1.InboundAdmin`, on `GRPC_ADDR`): the texts a
//! person sent JOSH, and their export. Authenticated, role-checked and audited through
//! `admin_auth`: metadata for any role; decrypted bodies and exports only for support and
//! engineering, with a reason.

mod export;
mod messages;

use rpc::admin::v1 as api;
use rpc::admin::v1::inbound_admin_server::{InboundAdmin, InboundAdminServer};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

/// The admin API over the service's database (as `josh_inbound_sms`) and body keyring (its
/// `Debug` shows no key material).
#[derive(Debug, Clone)]
pub struct InboundAdminApi {
    pool: PgPool,
    keyring: crypto::Keyring,
}

impl InboundAdminApi {
    /// The API over `pool`, decrypting with `keyring`.
    pub fn new(pool: PgPool, keyring: crypto::Keyring) -> Self {
        Self { pool, keyring }
    }

    /// The tonic service.
    pub fn into_server(self) -> InboundAdminServer<Self> {
        InboundAdminServer::new(self)
    }
}

/// The person a request names: by phone or by id.
fn user_ref(
    user: Option<&api::list_messages_request::User>,
) -> Result<(Option<&str>, Option<Uuid>), Status> {
    use api::list_messages_request::User;
    match user {
        Some(User::PhoneE164(p)) => Ok((Some(p.trim()), None)),
        Some(User::UserId(id)) => Ok((None, Some(parse_id(id)?))),
        None => Err(Status::invalid_argument("a phone or user id is required")),
    }
}

fn parse_id(id: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(id.trim()).map_err(|_| Status::invalid_argument("user_id is not a UUID"))
}

#[tonic::async_trait]
impl InboundAdmin for InboundAdminApi {
    #[tracing::instrument(skip_all)]
    async fn list_messages(
        &self,
        request: Request<api::ListMessagesRequest>,
    ) -> Result<Response<api::ListMessagesResponse>, Status> {
        messages::list(self, request.metadata(), request.get_ref())
            .await
            .map(Response::new)
    }

    #[tracing::instrument(skip_all)]
    async fn export_user(
        &self,
        request: Request<api::UserExportRequest>,
    ) -> Result<Response<api::UserExportResponse>, Status> {
        export::export(self, request.metadata(), request.get_ref())
            .await
            .map(Response::new)
    }
}
