//! The router's questions to billing over gRPC (design.md: "the router asks billing for an
//! entitlement or a checkout link"): may this person start a LinkUp, and if not, the link to pay.
//! Calls are bounded by a timeout; the channel connects lazily and reconnects by itself.

use std::time::Duration;

use rpc::billing::v1 as api;
use rpc::billing::v1::billing_client::BillingClient;
use tonic::transport::{Channel, Endpoint};
use uuid::Uuid;

/// How long one call to billing may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Why billing could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// `BILLING_GRPC_URL` is not a valid endpoint.
    #[error("invalid billing endpoint")]
    Endpoint(#[source] tonic::transport::Error),
    /// The call failed or timed out.
    #[error("billing call failed")]
    Call(#[source] tonic::Status),
}

/// The billing endpoint at `url`, with the call timeouts.
///
/// # Errors
/// [`BillingError::Endpoint`] when `url` is not a valid endpoint.
pub fn endpoint(url: &str) -> Result<Endpoint, BillingError> {
    Ok(Endpoint::from_shared(url.to_owned())
        .map_err(BillingError::Endpoint)?
        .connect_timeout(CALL_TIMEOUT)
        .timeout(CALL_TIMEOUT))
}

/// A client of billing's `Billing` service.
#[derive(Debug, Clone)]
pub struct Billing {
    client: BillingClient<Channel>,
}

impl Billing {
    /// A client of the billing API at `endpoint`; connects on first use.
    pub fn connect_lazy(endpoint: &Endpoint) -> Self {
        Self::from_channel(endpoint.connect_lazy())
    }

    /// A client over an existing channel (tests).
    pub fn from_channel(channel: Channel) -> Self {
        Self {
            client: BillingClient::new(channel),
        }
    }

    /// Whether `user_id` may start LinkUps now.
    ///
    /// # Errors
    /// [`BillingError::Call`] when billing cannot answer.
    #[tracing::instrument(skip_all)]
    pub async fn may_initiate(&self, user_id: Uuid) -> Result<bool, BillingError> {
        let request = api::GetEntitlementRequest {
            user_id: user_id.to_string(),
        };
        let entitlement = self
            .client
            .clone()
            .get_entitlement(request)
            .await
            .map_err(BillingError::Call)?
            .into_inner();
        Ok(entitlement.eligible_to_initiate)
    }

    /// A checkout link for `user_id` (monthly plan).
    ///
    /// # Errors
    /// [`BillingError::Call`] when billing cannot answer (or the user already has a live
    /// subscription).
    #[tracing::instrument(skip_all)]
    pub async fn checkout_link(&self, user_id: Uuid) -> Result<String, BillingError> {
        let request = api::CreateCheckoutLinkRequest {
            user_id: user_id.to_string(),
            plan: api::Plan::Monthly.into(),
        };
        let link = self
            .client
            .clone()
            .create_checkout_link(request)
            .await
            .map_err(BillingError::Call)?
            .into_inner();
        Ok(link.url)
    }
}
