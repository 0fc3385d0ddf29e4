//! The `Billing` gRPC service (proto/josh/billing/v1/billing.proto): entitlements now, checkout
//! and portal links. One Stripe customer per user and no second checkout while a subscription
//! is live, even under parallel requests: a request holds the user's `subscriptions` row lock
//! while it talks to Stripe, and asks Stripe with idempotency keys derived from the user, so
//! racing requests get the same customer and the same checkout session.

use std::sync::Arc;

use platform::clock::SharedClock;
use proto::timestamp::to_timestamp_opt;
use rpc::billing::v1 as api;
use rpc::billing::v1::billing_server::{Billing, BillingServer};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::config::Prices;
use crate::entitlement::{self, Reason};
use crate::error::BillingError;
use crate::store;
use crate::stripe::{StripeClient, id_of};

/// Checkout sessions are reused for this long (the idempotency key's time bucket).
const CHECKOUT_BUCKET_SECONDS: i64 = 15 * 60;

/// The service's state.
#[derive(Debug, Clone)]
pub struct BillingApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    pool: PgPool,
    stripe: StripeClient,
    clock: SharedClock,
    prices: Prices,
    public_base_url: String,
}

impl BillingApi {
    /// The API over `pool` (as `josh_billing`) and `stripe`.
    pub fn new(
        pool: PgPool,
        stripe: StripeClient,
        clock: SharedClock,
        prices: Prices,
        public_base_url: String,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                stripe,
                clock,
                prices,
                public_base_url,
            }),
        }
    }

    /// The tonic service.
    pub fn into_server(self) -> BillingServer<Self> {
        BillingServer::new(self)
    }

    async fn entitlement(&self, user_id: Uuid) -> Result<api::Entitlement, BillingError> {
        let mut conn = self.inner.pool.acquire().await?;
        let stored = store::entitlements::get(&mut conn, user_id).await?;
        let state = store::subscriptions::state(&mut conn, user_id).await?;
        let now = self.inner.clock.now();
        let (eligible, reason, expires_at) = match stored {
            Some(e) => (e.eligible_at(now), e.reason, e.expires_at),
            None => (false, Reason::NoSubscription, None),
        };
        Ok(api::Entitlement {
            user_id: user_id.to_string(),
            eligible_to_participate: eligible,
            eligible_to_initiate: eligible,
            reason: reason_to_api(reason).into(),
            expires_at: to_timestamp_opt(expires_at.filter(|_| eligible)),
            subscription_state: state.unwrap_or_else(|| "none".to_owned()),
        })
    }

    async fn checkout(&self, user_id: Uuid, plan: api::Plan) -> Result<api::Link, ApiError> {
        let now = self.inner.clock.now();
        let mut tx = self.inner.pool.begin().await.map_err(BillingError::from)?;
        if !store::users::exists(&mut tx, user_id)
            .await
            .map_err(BillingError::from)?
        {
            return Err(ApiError::NotFound("no such user"));
        }
        let sub = store::subscriptions::lock(&mut tx, user_id)
            .await
            .map_err(BillingError::from)?;
        if entitlement::has_live_subscription(&sub, now) {
            return Err(ApiError::Live);
        }
        let customer = match store::customers::of_user(&mut tx, user_id)
            .await
            .map_err(BillingError::from)?
        {
            Some(customer) => customer,
            None => {
                let created = self
                    .inner
                    .stripe
                    .post(
                        "customers",
                        &[("metadata[user_id]", user_id.to_string())],
                        &format!("customer:{user_id}"),
                    )
                    .await
                    .map_err(BillingError::from)?;
                let id = id_of(&created, "id").ok_or(BillingError::Stripe(
                    crate::stripe::StripeError::Missing("id"),
                ))?;
                store::customers::link(&mut tx, user_id, &id)
                    .await
                    .map_err(BillingError::from)?
            }
        };
        let price = match plan {
            api::Plan::Annual => &self.inner.prices.annual,
            api::Plan::Monthly | api::Plan::Unspecified => &self.inner.prices.monthly,
        };
        let base = &self.inner.public_base_url;
        let form = [
            ("mode", "subscription".to_owned()),
            ("customer", customer.clone()),
            ("client_reference_id", user_id.to_string()),
            ("line_items[0][price]", price.clone()),
            ("line_items[0][quantity]", "1".to_owned()),
            ("metadata[user_id]", user_id.to_string()),
            ("subscription_data[metadata][user_id]", user_id.to_string()),
            ("success_url", format!("{base}/billing/done")),
            ("cancel_url", format!("{base}/billing/canceled")),
        ];
        let bucket = now.unix_timestamp() / CHECKOUT_BUCKET_SECONDS;
        let key = format!("checkout:{user_id}:{customer}:{price}:{bucket}");
        let session = self
            .inner
            .stripe
            .post("checkout/sessions", &form, &key)
            .await;
        // Keep the customer link even when the session failed: the next try reuses it.
        tx.commit().await.map_err(BillingError::from)?;
        link(&session.map_err(BillingError::from)?)
    }

    async fn portal(&self, user_id: Uuid) -> Result<api::Link, ApiError> {
        let mut conn = self
            .inner
            .pool
            .acquire()
            .await
            .map_err(BillingError::from)?;
        let customer = store::customers::of_user(&mut conn, user_id)
            .await
            .map_err(BillingError::from)?
            .ok_or(ApiError::NotFound("no Stripe customer for this user"))?;
        let form = [
            ("customer", customer),
            (
                "return_url",
                format!("{}/billing/done", self.inner.public_base_url),
            ),
        ];
        let key = format!("portal:{}", Uuid::now_v7());
        let session = self
            .inner
            .stripe
            .post("billing_portal/sessions", &form, &key)
            .await
            .map_err(BillingError::from)?;
        link(&session)
    }
}

fn link(session: &serde_json::Value) -> Result<api::Link, ApiError> {
    let url = id_of(session, "url").ok_or(ApiError::Billing(BillingError::Stripe(
        crate::stripe::StripeError::Missing("url"),
    )))?;
    let expires_at = session
        .get("expires_at")
        .and_then(serde_json::Value::as_i64)
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok());
    Ok(api::Link {
        url,
        expires_at: to_timestamp_opt(expires_at),
    })
}

/// Why a request failed, as a gRPC status.
#[derive(Debug, thiserror::Error)]
enum ApiError {
    #[error("{0}")]
    NotFound(&'static str),
    #[error("a subscription is live or a checkout just completed; use the portal")]
    Live,
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::NotFound(what) => Status::not_found(what),
            ApiError::Live => Status::failed_precondition(error.to_string()),
            ApiError::Billing(error) => {
                tracing::error!(error = %platform::errors::ErrorChain(&error), "billing request failed");
                Status::unavailable("billing is unavailable, try again")
            }
        }
    }
}

fn user_id(raw: &str) -> Result<Uuid, Status> {
    raw.parse()
        .map_err(|_| Status::invalid_argument("user_id must be a UUID"))
}

fn reason_to_api(reason: Reason) -> api::Reason {
    match reason {
        Reason::Subscription => api::Reason::Subscription,
        Reason::Grace => api::Reason::Grace,
        Reason::WebhookPending => api::Reason::WebhookPending,
        Reason::GraceExpired => api::Reason::GraceExpired,
        Reason::SubscriptionEnded => api::Reason::SubscriptionEnded,
        Reason::Revoked => api::Reason::Revoked,
        Reason::NoSubscription => api::Reason::NoSubscription,
    }
}

#[tonic::async_trait]
impl Billing for BillingApi {
    #[tracing::instrument(skip_all, fields(user_id = request.get_ref().user_id))]
    async fn get_entitlement(
        &self,
        request: Request<api::GetEntitlementRequest>,
    ) -> Result<Response<api::Entitlement>, Status> {
        let user = user_id(&request.get_ref().user_id)?;
        let entitlement = self.entitlement(user).await.map_err(ApiError::from)?;
        Ok(Response::new(entitlement))
    }

    #[tracing::instrument(skip_all, fields(user_id = request.get_ref().user_id))]
    async fn create_checkout_link(
        &self,
        request: Request<api::CreateCheckoutLinkRequest>,
    ) -> Result<Response<api::Link>, Status> {
        let user = user_id(&request.get_ref().user_id)?;
        let plan = request.get_ref().plan();
        Ok(Response::new(self.checkout(user, plan).await?))
    }

    #[tracing::instrument(skip_all, fields(user_id = request.get_ref().user_id))]
    async fn create_portal_link(
        &self,
        request: Request<api::CreatePortalLinkRequest>,
    ) -> Result<Response<api::Link>, Status> {
        let user = user_id(&request.get_ref().user_id)?;
        Ok(Response::new(self.portal(user).await?))
    }
}
