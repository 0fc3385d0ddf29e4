//! Stripe's event envelope and the few fields billing reads from each object, parsed from the
//! stored raw JSON (API version 2026-07-29: `current_period_end` lives on the subscription's
//! items; an invoice's subscription is `parent.subscription_details.subscription`).

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

/// The envelope of every Stripe event.
#[derive(Debug, Clone, Deserialize)]
pub struct Event {
    /// `evt_...`
    pub id: String,
    /// e.g. `customer.subscription.updated`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When Stripe created the event (unix seconds): the time of the state it carries.
    pub created: i64,
    /// `data`.
    pub data: EventData,
}

/// `data` of an event.
#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    /// The object as it was when the event happened.
    pub object: Value,
}

/// A Stripe subscription's status, as billing stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// No paid subscription yet (`incomplete` too: the first payment has not succeeded).
    None,
    /// `trialing`.
    Trialing,
    /// `active`.
    Active,
    /// `past_due`: a renewal payment failed; retries are running.
    PastDue,
    /// `unpaid` (and `paused`: no payment is being collected).
    Unpaid,
    /// `canceled` or `incomplete_expired`.
    Canceled,
}

impl Status {
    /// Stripe's status string to ours.
    pub fn from_stripe(status: &str) -> Option<Self> {
        Some(match status {
            "incomplete" => Self::None,
            "trialing" => Self::Trialing,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "unpaid" | "paused" => Self::Unpaid,
            "canceled" | "incomplete_expired" => Self::Canceled,
            _ => return None,
        })
    }

    /// The `public.subscription_state` label.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Unpaid => "unpaid",
            Self::Canceled => "canceled",
        }
    }

    /// The label back to a status (`none` for anything unknown).
    pub fn from_db(label: &str) -> Self {
        match label {
            "trialing" => Self::Trialing,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "unpaid" => Self::Unpaid,
            "canceled" => Self::Canceled,
            _ => Self::None,
        }
    }

    /// Whether the subscription is still billing (not ended).
    pub fn is_live(self) -> bool {
        matches!(self, Self::Trialing | Self::Active | Self::PastDue)
    }
}

/// A subscription as one event (or one API read) saw it at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// `sub_...`
    pub id: String,
    /// `cus_...`
    pub customer: String,
    /// The subscription's own `created`: a newer subscription supersedes an older one.
    pub created: OffsetDateTime,
    /// Its status.
    pub status: Status,
    /// The end of the current period (first item), if any.
    pub current_period_end: Option<OffsetDateTime>,
    /// Cancels at the period end.
    pub cancel_at_period_end: bool,
    /// `metadata.user_id`, set when billing created the checkout.
    pub user_id: Option<Uuid>,
    /// When this view was true (the event's `created`, or now for an API read).
    pub at: OffsetDateTime,
    /// What it came from (`evt_...`, or `reconcile:...`).
    pub source: String,
}

/// What an event means to billing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// `checkout.session.completed`.
    Checkout {
        /// `cs_...`
        session: String,
        /// `cus_...`
        customer: String,
        /// `client_reference_id`: our user id.
        user_id: Option<Uuid>,
    },
    /// `customer.subscription.*`.
    Subscription(Snapshot),
    /// `invoice.*`: the subscription events carry the state change; with re-fetching on, the
    /// invoice's subscription is read back from Stripe.
    Invoice {
        /// `cus_...`
        customer: String,
        /// `parent.subscription_details.subscription`, if a subscription's invoice.
        subscription: Option<String>,
    },
    /// `charge.refunded`: revokes at once.
    Refund {
        /// `cus_...`
        customer: Option<String>,
    },
    /// `charge.dispute.created`: revokes at once; the charge names the customer.
    Dispute {
        /// `ch_...`
        charge: String,
    },
    /// `customer.deleted`.
    CustomerDeleted {
        /// `cus_...`
        customer: String,
    },
    /// Any other type: stored and acknowledged.
    Ignored,
}

/// Why an event could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("{kind} event lacks {field}")]
pub struct WireError {
    kind: String,
    field: &'static str,
}

impl Event {
    /// Parses a raw webhook body.
    ///
    /// # Errors
    /// serde's error when it is not an event envelope.
    pub fn parse(raw: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(raw)
    }

    /// The event's time.
    pub fn at(&self) -> OffsetDateTime {
        unix(self.created).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// What the event means.
    ///
    /// # Errors
    /// [`WireError`] naming a missing field of a type billing handles.
    pub fn fact(&self) -> Result<Fact, WireError> {
        let o = &self.data.object;
        let need = |field: &'static str| WireError {
            kind: self.kind.clone(),
            field,
        };
        Ok(match self.kind.as_str() {
            "checkout.session.completed" => Fact::Checkout {
                session: string(o, "id").ok_or_else(|| need("id"))?,
                customer: string(o, "customer").ok_or_else(|| need("customer"))?,
                user_id: string(o, "client_reference_id").and_then(|s| s.parse().ok()),
            },
            "customer.subscription.created"
            | "customer.subscription.updated"
            | "customer.subscription.deleted" => {
                Fact::Subscription(snapshot(o, self.at(), &self.id).map_err(&need)?)
            }
            "invoice.paid" | "invoice.payment_succeeded" | "invoice.payment_failed" => {
                Fact::Invoice {
                    customer: string(o, "customer").ok_or_else(|| need("customer"))?,
                    subscription: o
                        .pointer("/parent/subscription_details")
                        .and_then(|d| string(d, "subscription")),
                }
            }
            "charge.refunded" => Fact::Refund {
                customer: string(o, "customer"),
            },
            "charge.dispute.created" => Fact::Dispute {
                charge: string(o, "charge").ok_or_else(|| need("charge"))?,
            },
            "customer.deleted" => Fact::CustomerDeleted {
                customer: string(o, "id").ok_or_else(|| need("id"))?,
            },
            _ => Fact::Ignored,
        })
    }
}

/// A subscription object (from an event or the API) seen at `at`.
///
/// # Errors
/// The name of the first missing field.
pub fn snapshot(o: &Value, at: OffsetDateTime, source: &str) -> Result<Snapshot, &'static str> {
    let status = string(o, "status")
        .and_then(|s| Status::from_stripe(&s))
        .ok_or("status")?;
    let period_end = o
        .pointer("/items/data/0/current_period_end")
        .or_else(|| o.get("current_period_end"))
        .and_then(Value::as_i64)
        .and_then(unix);
    Ok(Snapshot {
        id: string(o, "id").ok_or("id")?,
        customer: string(o, "customer").ok_or("customer")?,
        created: o
            .get("created")
            .and_then(Value::as_i64)
            .and_then(unix)
            .ok_or("created")?,
        status,
        current_period_end: period_end,
        cancel_at_period_end: o
            .get("cancel_at_period_end")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        user_id: o
            .pointer("/metadata/user_id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
        at,
        source: source.to_owned(),
    })
}

/// A string field, or the `id` of an expanded object in its place.
fn string(o: &Value, field: &str) -> Option<String> {
    match o.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Object(inner) => inner.get("id")?.as_str().map(str::to_owned),
        _ => None,
    }
}

fn unix(seconds: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(seconds).ok()
}
