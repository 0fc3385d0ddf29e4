//! The `Billing` gRPC service (proto/josh/billing/v1/billing.proto): entitlements now, checkout
//! and portal links. One Stripe customer per user and no second checkout while a subscription
//! is live, even under parallel requests: a request holds the user's `subscriptions` row lock
//! while it talks to Stripe, reuses the user's open checkout session (at most one is open), and
//! asks Stripe with idempotency keys derived from the user, so a retry after a lost answer
//! creates nothing new.

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
        let customer = self.ensure_customer(&mut tx, user_id).await?;
        let price = match plan {
            api::Plan::Annual => &self.inner.prices.annual,
            api::Plan::Monthly | api::Plan::Unspecified => &self.inner.prices.monthly,
        };
        let previous = store::subscriptions::checkout_session(&mut tx, user_id)
            .await
            .map_err(BillingError::from)?;
        if let Some(previous) = &previous
            && let Some(open) = self.reusable_session(previous, price).await?
        {
            tx.commit().await.map_err(BillingError::from)?;
            return link(&open);
        }
        let session = self
            .create_session(user_id, &customer, price, previous.as_deref())
            .await;
        if let Ok(id) = session.as_ref().map(|s| id_of(s, "id").unwrap_or_default()) {
            store::subscriptions::set_checkout_session(&mut tx, user_id, &id)
                .await
                .map_err(BillingError::from)?;
        }
        // Keep the customer link even when the session failed: the next try reuses it.
        tx.commit().await.map_err(BillingError::from)?;
        link(&session.map_err(BillingError::from)?)
    }

    /// The user's Stripe customer, created (once per user: the caller holds the user's row lock,
    /// and Stripe's idempotency key covers a retry after a lost answer) if missing.
    async fn ensure_customer(
        &self,
        tx: &mut sqlx::PgConnection,
        user_id: Uuid,
    ) -> Result<String, BillingError> {
        if let Some(customer) = store::customers::of_user(tx, user_id).await? {
            return Ok(customer);
        }
        let form = [("metadata[user_id]", user_id.to_string())];
        let key = format!("customer:{user_id}");
        let created = self.inner.stripe.post("customers", &form, &key).await?;
        let id = id_of(&created, "id").ok_or(crate::stripe::StripeError::Missing("id"))?;
        Ok(store::customers::link(tx, user_id, &id).await?)
    }

    /// The previous session if it is still open for `price` (expired first if open for another
    /// price); `ApiError::Live` if it completed and its subscription is live.
    async fn reusable_session(
        &self,
        previous: &str,
        price: &str,
    ) -> Result<Option<serde_json::Value>, ApiError> {
        let stripe = &self.inner.stripe;
        let path = format!("checkout/sessions/{previous}");
        let session = stripe
            .get(&format!("{path}?expand[]=line_items"))
            .await
            .map_err(BillingError::from)?;
        let status = session.get("status").and_then(serde_json::Value::as_str);
        let same_price = session
            .pointer("/line_items/data/0/price/id")
            .and_then(serde_json::Value::as_str)
            == Some(price);
        match status {
            Some("open") if same_price => Ok(Some(session)),
            Some("open") => {
                let key = format!("expire:{previous}");
                stripe
                    .post(&format!("{path}/expire"), &[], &key)
                    .await
                    .map_err(BillingError::from)?;
                Ok(None)
            }
            Some("complete") => {
                let Some(sub) = id_of(&session, "subscription") else {
                    return Ok(None);
                };
                let sub = stripe
                    .get(&format!("subscriptions/{sub}"))
                    .await
                    .map_err(BillingError::from)?;
                let status = sub.get("status").and_then(serde_json::Value::as_str);
                let live = status
                    .and_then(crate::wire::Status::from_stripe)
                    .is_some_and(crate::wire::Status::is_live);
                if live { Err(ApiError::Live) } else { Ok(None) }
            }
            _ => Ok(None),
        }
    }

    /// A new subscription checkout for `price`; the idempotency key names the session it
    /// replaces, so a retry after a lost answer gets the same session.
    async fn create_session(
        &self,
        user_id: Uuid,
        customer: &str,
        price: &str,
        previous: Option<&str>,
    ) -> Result<serde_json::Value, crate::stripe::StripeError> {
        let base = &self.inner.public_base_url;
        let user = user_id.to_string();
        let form = [
            ("mode", "subscription".to_owned()),
            ("customer", customer.to_owned()),
            ("client_reference_id", user.clone()),
            ("line_items[0][price]", price.to_owned()),
            ("line_items[0][quantity]", "1".to_owned()),
            ("metadata[user_id]", user.clone()),
            ("subscription_data[metadata][user_id]", user),
            ("success_url", format!("{base}/billing/done")),
            ("cancel_url", format!("{base}/billing/canceled")),
        ];
        let key = format!("checkout:{user_id}:{}", previous.unwrap_or("first"));
        self.inner
            .stripe
            .post("checkout/sessions", &form, &key)
            .await
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
