//! JOSH's gRPC contracts, shared by the servers that implement them and the services that call
//! them. The `.proto` sources live in `proto/` at the workspace root (`proto/josh/billing/v1`);
//! `build.rs` compiles them with `protox` and tonic's prost generator (no system `protoc`).
//!
//! - [`billing::v1`]: billing's `Billing` service (entitlements, checkout and portal links), with
//!   [`billing::v1::billing_server`] for billing and [`billing::v1::billing_client`] for callers.
//! - [`admin::v1`]: the admin APIs called by joshctl: the conversation-router's `RouterAdmin`
//!   (user timeline, safety holds, region opening, deletion, export), outbound-sender's
//!   `SenderAdmin` (pause / resume senders, status, resend a job, messages view, export),
//!   inbound-sms's `InboundAdmin` (messages view, export), linkup-matcher's `MatcherAdmin`
//!   (show, list and cancel LinkUps, export) and billing's `BillingAdmin` (a person's
//!   membership, export); and `DeadLetters` (list, replay and discard a service's own dead
//!   letters), which every consuming service mounts.

/// billing's API.
pub mod billing {
    /// Package `josh.billing.v1`.
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        missing_docs,
        missing_debug_implementations,
        unreachable_pub,
        rustdoc::all
    )]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/josh.billing.v1.rs"));
    }
}

/// The admin APIs.
pub mod admin {
    /// Package `josh.admin.v1`.
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        missing_docs,
        missing_debug_implementations,
        unreachable_pub,
        rustdoc::all
    )]
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/josh.admin.v1.rs"));
    }
}
