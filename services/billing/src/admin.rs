//! billing's admin gRPC API (`josh.admin.v1.BillingAdmin`, served next to `Billing` on
//! `GRPC_ADDR`): a person's membership as billing sees it, and their export. Every call is
//! authenticated by `admin_auth` and written to `admin_audit_log`.
//!
//! | action (audit `action`) | support | ops | engineering |
//! |---|---|---|---|
//! | show a person's billing (`billing.show`) | yes | yes | yes |
//! | export a person's rows (`user.export`) | yes | no | yes |

use admin_auth::{Admin, AuditEntry, Role, internal};
use platform::clock::SharedClock;
use proto::timestamp::{to_timestamp, to_timestamp_opt};
use rpc::admin::v1 as api;
use rpc::admin::v1::billing_admin_server::{BillingAdmin, BillingAdminServer};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::SERVICE;
use crate::store::admin::{self as store, EntitlementRow, EventRow, SubscriptionRow};
use crate::store::customers;

/// How many Stripe events a view shows by default, and at most (failed ones too).
const EVENTS_DEFAULT: u32 = 10;
const EVENTS_MAX: u32 = 100;

/// The admin API's state.
#[derive(Debug, Clone)]
pub struct BillingAdminApi {
    pool: PgPool,
    clock: SharedClock,
}

impl BillingAdminApi {
    /// The API over `pool` (as `josh_billing`), reading `clock` for "eligible now".
    pub fn new(pool: PgPool, clock: SharedClock) -> Self {
        Self { pool, clock }
    }

    /// The tonic service.
    pub fn into_server(self) -> BillingAdminServer<Self> {
        BillingAdminServer::new(self)
    }

    async fn view(
        &self,
        admin: &Admin,
        user: Uuid,
        events: u32,
    ) -> Result<api::BillingView, Status> {
        let limit = i64::from(if events == 0 {
            EVENTS_DEFAULT
        } else {
            events.min(EVENTS_MAX)
        });
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let customer = customers::of_user(&mut tx, user).await.map_err(internal)?;
        let subscription = store::subscription(&mut tx, user).await.map_err(internal)?;
        let entitlement = store::entitlement(&mut tx, user).await.map_err(internal)?;
        let c = customer.as_deref();
        let latest = store::events(&mut tx, user, c, limit, false)
            .await
            .map_err(internal)?;
        let max = i64::from(EVENTS_MAX);
        let failed = store::events(&mut tx, user, c, max, true)
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new(admin, "billing.show", "user")
            .target(user)
            .with("failed_events", failed.len());
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        let now = self.clock.now();
        Ok(api::BillingView {
            user_id: user.to_string(),
            stripe_customer_id: customer.unwrap_or_default(),
            subscriptions: subscription.into_iter().map(subscription_view).collect(),
            entitlement: entitlement.map(|e| entitlement_view(e, now)),
            events: latest.into_iter().map(event_view).collect(),
            failed_events: failed.into_iter().map(event_view).collect(),
        })
    }
}

/// A UUID field of a request.
fn uuid_arg(raw: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(raw.trim()).map_err(|_| Status::invalid_argument("user_id is not a UUID"))
}

#[tonic::async_trait]
impl BillingAdmin for BillingAdminApi {
    #[tracing::instrument(skip_all)]
    async fn show_billing(
        &self,
        request: Request<api::ShowBillingRequest>,
    ) -> Result<Response<api::BillingView>, Status> {
        let admin =
            admin_auth::authorize(&self.pool, request.metadata(), Role::ANY, "billing.show")
                .await?;
        let req = request.get_ref();
        let user = uuid_arg(&req.user_id)?;
        Ok(Response::new(self.view(&admin, user, req.events).await?))
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
        let user = uuid_arg(&req.user_id)?;
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let customer = customers::of_user(&mut tx, user).await.map_err(internal)?;
        let document = store::export(&mut tx, user, customer.as_deref())
            .await
            .map_err(internal)?;
        let entry = AuditEntry::new(&admin, admin_auth::EXPORT_ACTION, "user")
            .target(user)
            .reason(why)
            .with("service", SERVICE);
        admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        tracing::info!(admin = %admin.id, %user, "admin exported a user's billing data");
        Ok(Response::new(api::UserExportResponse {
            service: SERVICE.to_owned(),
            document_json: document.to_string(),
        }))
    }
}

fn subscription_view(s: SubscriptionRow) -> api::SubscriptionView {
    api::SubscriptionView {
        stripe_subscription_id: s.stripe_subscription_id.unwrap_or_default(),
        status: s.state,
        current_period_end: to_timestamp_opt(s.current_period_end),
        cancel_at_period_end: s.cancel_at_period_end,
        grace_until: to_timestamp_opt(s.grace_until),
        checkout_pending_until: to_timestamp_opt(s.checkout_pending_until),
        revoked_at: to_timestamp_opt(s.revoked_at),
        stripe_state_at: to_timestamp_opt(s.stripe_state_at),
        stripe_created_at: to_timestamp_opt(s.stripe_subscription_created_at),
        last_stripe_event_id: s.last_stripe_event_id.unwrap_or_default(),
    }
}

fn entitlement_view(e: EntitlementRow, now: time::OffsetDateTime) -> api::EntitlementView {
    let open = e.expires_at.is_none_or(|end| end > now);
    api::EntitlementView {
        eligible_now: e.eligible_to_participate && open,
        eligible_to_participate: e.eligible_to_participate,
        eligible_to_initiate: e.eligible_to_initiate,
        reason: e.reason,
        expires_at: to_timestamp_opt(e.expires_at),
        effective_at: Some(to_timestamp(e.effective_at)),
    }
}

fn event_view(e: EventRow) -> api::StripeEventView {
    api::StripeEventView {
        stripe_event_id: e.stripe_event_id,
        event_type: e.event_type,
        received_at: Some(to_timestamp(e.received_at)),
        processed_at: to_timestamp_opt(e.processed_at),
        processing_error: e.processing_error.unwrap_or_default(),
    }
}
