//! What the checkout page and control endpoints do to subscriptions, and the events each action
//! fires, in the order Stripe sends them.

use serde_json::{Value, json};

use crate::Shared;
use crate::state::{Pending, price};

/// Why an action cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The object does not exist.
    #[error("no such object: {0}")]
    NotFound(String),
    /// The object is not in a state the action applies to.
    #[error("{0}")]
    Conflict(&'static str),
}

/// Pays an open checkout session: a subscription, its first paid invoice and charge.
///
/// # Errors
/// [`ActionError`] when the session is unknown or no longer open.
pub fn pay(shared: &Shared, session_id: &str) -> Result<Vec<Pending>, ActionError> {
    let mut session = shared
        .store
        .get(session_id)
        .ok_or_else(|| ActionError::NotFound(session_id.to_owned()))?;
    if session["status"] != "open" {
        return Err(ActionError::Conflict(
            "this checkout session is no longer open",
        ));
    }
    let now = shared.now();
    let sub_id = shared.store.id("sub");
    let period = session["period_seconds"].as_i64().unwrap_or(30 * 86_400);
    let item_price = price(
        session["price"].as_str().unwrap_or("price_josh_monthly"),
        now,
    );
    let subscription = json!({
        "id": sub_id, "object": "subscription", "customer": session["customer"], "created": now,
        "start_date": now, "status": "active", "cancel_at_period_end": false, "canceled_at": null,
        "ended_at": null, "currency": "usd", "livemode": false, "collection_method": "charge_automatically",
        "metadata": session["subscription_metadata"], "trial_end": null, "trial_start": null,
        "items": { "object": "list", "has_more": false, "data": [{
            "id": shared.store.id("si"), "object": "subscription_item", "created": now, "quantity": 1,
            "price": item_price, "subscription": sub_id,
            "current_period_start": now, "current_period_end": now + period
        }], "url": format!("/v1/subscription_items?subscription={sub_id}") },
        "latest_invoice": null
    });
    let (invoice, charge) = invoice(shared, &subscription, true);
    let mut subscription = subscription;
    subscription["latest_invoice"] = invoice["id"].clone();
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["subscription"] = json!(sub_id);
    session["invoice"] = invoice["id"].clone();
    for object in [&subscription, &invoice, &charge, &session] {
        shared.store.put(object.clone());
    }
    Ok(vec![
        ("customer.subscription.created", subscription, None),
        ("invoice.paid", invoice.clone(), None),
        ("invoice.payment_succeeded", invoice, None),
        ("checkout.session.completed", session, None),
    ])
}

/// Bills the next period now: paid (renewed, and recovered if past_due) unless the next invoice
/// was set to fail, in which case it fails and the subscription goes past_due.
///
/// # Errors
/// [`ActionError`] when the subscription is unknown or ended.
pub fn renew(shared: &Shared, sub_id: &str) -> Result<Vec<Pending>, ActionError> {
    let mut sub = live(shared, sub_id)?;
    let paid = !shared.store.take_failing(sub_id);
    let (invoice, charge) = invoice(shared, &sub, paid);
    let previous = json!({ "status": sub["status"], "latest_invoice": sub["latest_invoice"] });
    sub["latest_invoice"] = invoice["id"].clone();
    let mut events: Vec<Pending> = Vec::new();
    if paid {
        let now = shared.now();
        let item = &mut sub["items"]["data"][0];
        let period = crate::state::period_seconds(&item["price"]);
        item["current_period_start"] = json!(now);
        item["current_period_end"] = json!(now + period);
        sub["status"] = json!("active");
        events.push(("invoice.paid", invoice.clone(), None));
        events.push(("invoice.payment_succeeded", invoice.clone(), None));
    } else {
        sub["status"] = json!("past_due");
        events.push(("invoice.payment_failed", invoice.clone(), None));
    }
    events.push(("customer.subscription.updated", sub.clone(), Some(previous)));
    for object in [sub, invoice, charge] {
        shared.store.put(object);
    }
    Ok(events)
}

/// Makes the subscription's next invoice fail, and bills it now.
///
/// # Errors
/// [`ActionError`] when the subscription is unknown or ended.
pub fn fail_next_invoice(shared: &Shared, sub_id: &str) -> Result<Vec<Pending>, ActionError> {
    live(shared, sub_id)?;
    shared.store.fail_next_invoice(sub_id);
    renew(shared, sub_id)
}

/// Cancels the subscription now.
///
/// # Errors
/// [`ActionError`] when the subscription is unknown or already ended.
pub fn cancel(shared: &Shared, sub_id: &str) -> Result<Vec<Pending>, ActionError> {
    let mut sub = live(shared, sub_id)?;
    let now = shared.now();
    sub["status"] = json!("canceled");
    sub["canceled_at"] = json!(now);
    sub["ended_at"] = json!(now);
    shared.store.put(sub.clone());
    Ok(vec![("customer.subscription.deleted", sub, None)])
}

/// Refunds a charge in full (`charge.refunded`) or disputes it (`charge.dispute.created`).
///
/// # Errors
/// [`ActionError::NotFound`] for an unknown charge.
pub fn refund_or_dispute(
    shared: &Shared,
    charge_id: &str,
    dispute: bool,
) -> Result<Vec<Pending>, ActionError> {
    let mut charge = shared
        .store
        .get(charge_id)
        .ok_or_else(|| ActionError::NotFound(charge_id.to_owned()))?;
    if dispute {
        let object = json!({
            "id": shared.store.id("dp"), "object": "dispute", "amount": charge["amount"],
            "charge": charge_id, "currency": "usd", "created": shared.now(), "livemode": false,
            "reason": "fraudulent", "status": "needs_response", "payment_intent": null
        });
        shared.store.put(object.clone());
        return Ok(vec![("charge.dispute.created", object, None)]);
    }
    charge["refunded"] = json!(true);
    charge["amount_refunded"] = charge["amount"].clone();
    shared.store.put(charge.clone());
    Ok(vec![("charge.refunded", charge, None)])
}

fn live(shared: &Shared, sub_id: &str) -> Result<Value, ActionError> {
    let sub = shared
        .store
        .get(sub_id)
        .ok_or_else(|| ActionError::NotFound(sub_id.to_owned()))?;
    if sub["status"] == "canceled" {
        return Err(ActionError::Conflict("this subscription has ended"));
    }
    Ok(sub)
}

/// An invoice of `sub`'s price, paid (with its charge) or open (with a failed charge).
fn invoice(shared: &Shared, sub: &Value, paid: bool) -> (Value, Value) {
    let now = shared.now();
    let amount = sub
        .pointer("/items/data/0/price/unit_amount")
        .cloned()
        .unwrap_or(json!(3999));
    let (invoice_id, charge_id) = (shared.store.id("in"), shared.store.id("ch"));
    let invoice = json!({
        "id": invoice_id, "object": "invoice", "customer": sub["customer"], "created": now,
        "status": if paid { "paid" } else { "open" }, "currency": "usd", "livemode": false,
        "amount_due": amount, "amount_paid": if paid { amount.clone() } else { json!(0) },
        "amount_remaining": if paid { json!(0) } else { amount.clone() },
        "attempt_count": 1, "billing_reason": "subscription_cycle",
        "parent": { "type": "subscription_details", "quote_details": null,
                    "subscription_details": { "subscription": sub["id"], "metadata": sub["metadata"] } }
    });
    let charge = json!({
        "id": charge_id, "object": "charge", "amount": amount, "amount_refunded": 0,
        "currency": "usd", "customer": sub["customer"], "created": now, "livemode": false,
        "paid": paid, "refunded": false, "status": if paid { "succeeded" } else { "failed" }
    });
    (invoice, charge)
}
