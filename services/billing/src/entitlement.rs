//! The rules, as pure functions: which subscription view is the newest truth, and what
//! entitlement a subscription gives at a given time (design.md "Billing", product-rules 7).
//!
//! Order does not matter: a snapshot replaces the stored one only if it is newer by
//! (subscription created, event time, status rank, source), a total order, so any permutation of
//! the same events, with duplicates, ends in the same row.

use time::{Duration, OffsetDateTime};

use crate::wire::{Snapshot, Status};

/// past_due keeps access this long (product-rules 7, decision).
pub const GRACE: Duration = Duration::days(7);
/// A completed checkout counts as entitled this long while subscription events arrive.
pub const CHECKOUT_WINDOW: Duration = Duration::minutes(15);

/// Billing's view of one user's subscription (a `subscriptions` row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subscription {
    /// `sub_...` of the newest subscription seen.
    pub stripe_subscription_id: Option<String>,
    /// Its customer.
    pub stripe_customer_id: Option<String>,
    /// When Stripe created it.
    pub created: Option<OffsetDateTime>,
    /// Its status (None before any subscription event).
    pub status: Option<Status>,
    /// The Stripe time of the applied snapshot.
    pub state_at: Option<OffsetDateTime>,
    /// The snapshot's source (`evt_...`), the last tie-breaker.
    pub source: Option<String>,
    /// End of the current period.
    pub current_period_end: Option<OffsetDateTime>,
    /// Cancels at the period end.
    pub cancel_at_period_end: bool,
    /// Set while past_due.
    pub grace_until: Option<OffsetDateTime>,
    /// A completed checkout's window.
    pub checkout_pending_until: Option<OffsetDateTime>,
    /// The newest refund or dispute.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Why an entitlement is what it is (`EntitlementReason`, stored in snake case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// trialing or active.
    Subscription,
    /// past_due within grace.
    Grace,
    /// A checkout completed moments ago.
    WebhookPending,
    /// past_due beyond grace.
    GraceExpired,
    /// canceled or unpaid.
    SubscriptionEnded,
    /// A refund or dispute.
    Revoked,
    /// Never subscribed.
    NoSubscription,
}

impl Reason {
    /// The stored label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscription => "subscription",
            Self::Grace => "grace",
            Self::WebhookPending => "webhook_pending",
            Self::GraceExpired => "grace_expired",
            Self::SubscriptionEnded => "subscription_ended",
            Self::Revoked => "revoked",
            Self::NoSubscription => "no_subscription",
        }
    }

    /// The label back (unknown labels read as no subscription).
    pub fn from_label(label: &str) -> Self {
        [
            Self::Subscription,
            Self::Grace,
            Self::WebhookPending,
            Self::GraceExpired,
            Self::SubscriptionEnded,
            Self::Revoked,
        ]
        .into_iter()
        .find(|r| r.as_str() == label)
        .unwrap_or(Self::NoSubscription)
    }

    /// The proto enum.
    pub fn to_proto(self) -> proto::v1::EntitlementReason {
        use proto::v1::EntitlementReason as P;
        match self {
            Self::Subscription => P::Subscription,
            Self::Grace => P::Grace,
            Self::WebhookPending => P::WebhookPending,
            Self::GraceExpired => P::GraceExpired,
            Self::SubscriptionEnded => P::SubscriptionEnded,
            Self::Revoked => P::Revoked,
            Self::NoSubscription => P::NoSubscription,
        }
    }
}

/// What a user may do: participate and initiate go together (one plan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entitlement {
    /// May take part (and initiate).
    pub eligible: bool,
    /// Why.
    pub reason: Reason,
    /// Eligibility ends then unless something changes (grace, checkout window).
    pub expires_at: Option<OffsetDateTime>,
}

impl Entitlement {
    /// Whether it grants access at `now` (an expired window no longer does).
    pub fn eligible_at(&self, now: OffsetDateTime) -> bool {
        self.eligible && self.expires_at.is_none_or(|e| e > now)
    }
}

/// The entitlement `sub` gives at `now`.
pub fn derive(sub: &Subscription, now: OffsetDateTime) -> Entitlement {
    let grant = |reason, expires_at| Entitlement {
        eligible: true,
        reason,
        expires_at,
    };
    let deny = |reason| Entitlement {
        eligible: false,
        reason,
        expires_at: None,
    };
    if is_revoked(sub) {
        return deny(Reason::Revoked);
    }
    match sub.status.unwrap_or(Status::None) {
        Status::Trialing | Status::Active => grant(Reason::Subscription, None),
        Status::PastDue => match sub.grace_until {
            Some(until) if until > now => grant(Reason::Grace, Some(until)),
            _ => deny(Reason::GraceExpired),
        },
        Status::Unpaid | Status::Canceled => deny(Reason::SubscriptionEnded),
        Status::None => match sub.checkout_pending_until {
            Some(until) if until > now => grant(Reason::WebhookPending, Some(until)),
            _ => deny(Reason::NoSubscription),
        },
    }
}

/// A refund or dispute counts unless a subscription created after it has started since.
fn is_revoked(sub: &Subscription) -> bool {
    match (sub.revoked_at, sub.created) {
        (Some(revoked), Some(created)) => revoked >= created,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// `sub` with `snap` applied if `snap` is newer; `None` when it changes nothing.
pub fn apply(sub: &Subscription, snap: &Snapshot) -> Option<Subscription> {
    let new_key = (
        Some(snap.created),
        Some(snap.at),
        rank(Some(snap.status)),
        Some(snap.source.as_str()),
    );
    let old_key = (
        sub.created,
        sub.state_at,
        rank(sub.status),
        sub.source.as_deref(),
    );
    if new_key <= old_key {
        return None;
    }
    let same = sub.stripe_subscription_id.as_deref() == Some(snap.id.as_str());
    let grace_until = match snap.status {
        // Grace runs from the first past_due view of this subscription's current run.
        Status::PastDue if same && sub.status == Some(Status::PastDue) => sub
            .grace_until
            .map(|g| g.min(snap.at + GRACE))
            .or(Some(snap.at + GRACE)),
        Status::PastDue => Some(snap.at + GRACE),
        _ => None,
    };
    Some(Subscription {
        stripe_subscription_id: Some(snap.id.clone()),
        stripe_customer_id: Some(snap.customer.clone()),
        created: Some(snap.created),
        status: Some(snap.status),
        state_at: Some(snap.at),
        source: Some(snap.source.clone()),
        current_period_end: snap.current_period_end,
        cancel_at_period_end: snap.cancel_at_period_end,
        grace_until,
        checkout_pending_until: sub.checkout_pending_until,
        revoked_at: sub.revoked_at,
    })
}

/// `sub` after a checkout completed at `at`.
pub fn checkout(sub: &Subscription, at: OffsetDateTime) -> Subscription {
    let until = at + CHECKOUT_WINDOW;
    Subscription {
        checkout_pending_until: Some(sub.checkout_pending_until.map_or(until, |u| u.max(until))),
        ..sub.clone()
    }
}

/// `sub` after a refund or dispute at `at`.
pub fn revoke(sub: &Subscription, at: OffsetDateTime) -> Subscription {
    Subscription {
        revoked_at: Some(sub.revoked_at.map_or(at, |r| r.max(at))),
        ..sub.clone()
    }
}

/// Ties at the same second go to the later stage of the lifecycle.
fn rank(status: Option<Status>) -> u8 {
    match status {
        None | Some(Status::None) => 0,
        Some(Status::Trialing) => 1,
        Some(Status::Active) => 2,
        Some(Status::PastDue) => 3,
        Some(Status::Unpaid) => 4,
        Some(Status::Canceled) => 5,
    }
}

/// Whether a new checkout must be refused: a subscription is live at Stripe (even if a refund
/// revoked access: a second one would bill twice; the portal handles it), or a checkout
/// completed moments ago and its subscription is on its way.
pub fn has_live_subscription(sub: &Subscription, now: OffsetDateTime) -> bool {
    let live = sub.status.is_some_and(Status::is_live);
    let pending = sub.status.is_none_or(|s| s == Status::None)
        && sub.checkout_pending_until.is_some_and(|u| u > now);
    live || pending
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T: OffsetDateTime = datetime!(2026-11-01 12:00 UTC);

    fn snap(id: &str, created: OffsetDateTime, at: OffsetDateTime, status: Status) -> Snapshot {
        Snapshot {
            id: id.to_owned(),
            customer: "cus_1".to_owned(),
            created,
            status,
            current_period_end: None,
            cancel_at_period_end: false,
            user_id: None,
            at,
            source: format!("evt_{}", at.unix_timestamp()),
        }
    }

    fn after(events: &[Snapshot]) -> Subscription {
        events.iter().fold(Subscription::default(), |sub, s| {
            apply(&sub, s).unwrap_or(sub)
        })
    }

    #[test]
    fn each_status_gives_its_entitlement() {
        let now = T + Duration::days(1);
        let of = |status| derive(&after(&[snap("sub_1", T, T, status)]), now);
        assert_eq!(of(Status::Trialing).reason, Reason::Subscription);
        assert_eq!(of(Status::Active).reason, Reason::Subscription);
        let grace = of(Status::PastDue);
        assert_eq!((grace.eligible, grace.reason), (true, Reason::Grace));
        assert_eq!(grace.expires_at, Some(T + GRACE));
        assert_eq!(
            derive(&after(&[snap("sub_1", T, T, Status::PastDue)]), T + GRACE).reason,
            Reason::GraceExpired
        );
        assert!(!of(Status::Canceled).eligible && !of(Status::Unpaid).eligible);
        assert_eq!(
            derive(&Subscription::default(), now).reason,
            Reason::NoSubscription
        );
    }

    #[test]
    fn a_checkout_entitles_for_its_window_only_while_no_subscription_is_known() {
        let sub = checkout(&Subscription::default(), T);
        assert_eq!(
            derive(&sub, T + Duration::minutes(14)).reason,
            Reason::WebhookPending
        );
        assert_eq!(
            derive(&sub, T + CHECKOUT_WINDOW).reason,
            Reason::NoSubscription
        );
        let canceled = apply(&sub, &snap("sub_1", T, T, Status::Canceled)).unwrap();
        assert_eq!(derive(&canceled, T).reason, Reason::SubscriptionEnded);
    }

    #[test]
    fn older_views_never_win_and_ties_go_to_the_later_stage() {
        let newest = after(&[
            snap("sub_1", T, T + Duration::days(2), Status::Canceled),
            snap("sub_1", T, T + Duration::days(1), Status::Active),
        ]);
        assert_eq!(newest.status, Some(Status::Canceled));
        let tie = after(&[
            snap("sub_1", T, T, Status::PastDue),
            snap("sub_1", T, T, Status::Active),
        ]);
        assert_eq!(tie.status, Some(Status::PastDue));
    }

    #[test]
    fn a_newer_subscription_supersedes_an_older_ones_late_events() {
        let old = snap("sub_old", T, T + Duration::days(40), Status::Canceled);
        let new = snap(
            "sub_new",
            T + Duration::days(10),
            T + Duration::days(10),
            Status::Active,
        );
        for order in [[old.clone(), new.clone()], [new.clone(), old.clone()]] {
            let sub = after(&order);
            assert_eq!(sub.stripe_subscription_id.as_deref(), Some("sub_new"));
            assert_eq!(
                derive(&sub, T + Duration::days(41)).reason,
                Reason::Subscription
            );
        }
    }

    #[test]
    fn a_revocation_holds_until_a_subscription_created_after_it() {
        let active = after(&[snap("sub_1", T, T, Status::Active)]);
        let revoked = revoke(&active, T + Duration::days(3));
        assert_eq!(
            derive(&revoked, T + Duration::days(4)).reason,
            Reason::Revoked
        );
        let still = apply(
            &revoked,
            &snap("sub_1", T, T + Duration::days(5), Status::Active),
        )
        .unwrap();
        assert_eq!(
            derive(&still, T + Duration::days(5)).reason,
            Reason::Revoked
        );
        assert!(
            has_live_subscription(&still, T),
            "no second checkout while Stripe bills one"
        );
        let later = T + Duration::days(6);
        let renewed = apply(&still, &snap("sub_2", later, later, Status::Active)).unwrap();
        assert_eq!(derive(&renewed, later).reason, Reason::Subscription);
    }

    #[test]
    fn grace_runs_from_the_first_past_due_view() {
        let sub = after(&[
            snap("sub_1", T, T, Status::PastDue),
            snap("sub_1", T, T + Duration::days(3), Status::PastDue),
        ]);
        assert_eq!(sub.grace_until, Some(T + GRACE));
    }
}
