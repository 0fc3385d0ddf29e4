//! The simulator's memory: Stripe objects by id, idempotent answers by key, and the lifecycle
//! changes the checkout page and control endpoints make (each returning the events to send).

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

/// One plan's prices (product-rules 7: $39.99 a month, $399 a year), in test mode.
pub const PRICES: [(&str, i64, &str); 2] = [
    ("price_josh_monthly", 3999, "month"),
    ("price_josh_annual", 39_900, "year"),
];

/// An event to send: its type, object and `previous_attributes`.
pub type Pending = (&'static str, Value, Option<Value>);

#[derive(Debug, Default)]
struct Objects {
    by_id: HashMap<String, Value>,
    order: Vec<String>,
    idempotent: HashMap<String, Value>,
    counter: u64,
    /// Seconds since the epoch when this simulator started, in every id: ids never repeat
    /// across restarts, since billing keeps the events (by id) of earlier runs in its database.
    epoch: u64,
    failing_next_invoice: HashMap<String, bool>,
}

/// Every object, in memory.
#[derive(Debug)]
pub struct Store {
    inner: Mutex<Objects>,
}

impl Default for Store {
    fn default() -> Self {
        let epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            inner: Mutex::new(Objects {
                epoch,
                ..Objects::default()
            }),
        }
    }
}

impl Objects {
    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_sim{}{:08}", self.epoch, self.counter)
    }
}

impl Store {
    fn lock(&self) -> std::sync::MutexGuard<'_, Objects> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A fresh id with Stripe's prefix.
    pub fn id(&self, prefix: &str) -> String {
        self.lock().next_id(prefix)
    }

    /// An object by id.
    pub fn get(&self, id: &str) -> Option<Value> {
        self.lock().by_id.get(id).cloned()
    }

    /// Stores (or replaces) an object under its `id`.
    pub fn put(&self, object: Value) {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        let mut o = self.lock();
        if o.by_id.insert(id.clone(), object).is_none() {
            o.order.push(id);
        }
    }

    /// Every object of kind `object` (e.g. "customer"), oldest first.
    pub fn all(&self, object: &str) -> Vec<Value> {
        let o = self.lock();
        o.order
            .iter()
            .filter_map(|id| o.by_id.get(id))
            .filter(|v| v["object"] == object)
            .cloned()
            .collect()
    }

    /// Runs `create` once per idempotency key: a repeated key gets the first answer. Holding the
    /// lock across `create` makes racing requests with one key see one object.
    pub fn once(
        &self,
        key: Option<&str>,
        create: impl FnOnce(&mut dyn FnMut(&str) -> String) -> Value,
    ) -> Value {
        let mut o = self.lock();
        if let Some(found) = key.and_then(|k| o.idempotent.get(k)) {
            return found.clone();
        }
        let mut next = |prefix: &str| o.next_id(prefix);
        let object = create(&mut next);
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        if o.by_id.insert(id.clone(), object.clone()).is_none() {
            o.order.push(id);
        }
        if let Some(k) = key {
            o.idempotent.insert(k.to_owned(), object.clone());
        }
        object
    }

    /// Whether the subscription's next invoice is set to fail, clearing the flag.
    pub fn take_failing(&self, subscription: &str) -> bool {
        self.lock()
            .failing_next_invoice
            .remove(subscription)
            .unwrap_or(false)
    }

    /// Makes the subscription's next invoice fail.
    pub fn fail_next_invoice(&self, subscription: &str) {
        self.lock()
            .failing_next_invoice
            .insert(subscription.to_owned(), true);
    }
}

/// The price object of `price_id` (unknown ids are priced like the monthly plan).
pub fn price(price_id: &str, created: i64) -> Value {
    let (amount, interval) = PRICES
        .iter()
        .find(|(id, _, _)| *id == price_id)
        .map_or((3999, "month"), |(_, a, i)| (*a, *i));
    json!({
        "id": price_id, "object": "price", "active": true, "currency": "usd", "created": created,
        "livemode": false, "product": "prod_josh_membership", "type": "recurring",
        "unit_amount": amount, "unit_amount_decimal": amount.to_string(),
        "recurring": { "interval": interval, "interval_count": 1, "usage_type": "licensed", "meter": null, "trial_period_days": null }
    })
}

/// How long one period of `price` lasts, in seconds.
pub fn period_seconds(price: &Value) -> i64 {
    if price.pointer("/recurring/interval") == Some(&json!("year")) {
        365 * 86_400
    } else {
        30 * 86_400
    }
}
