//! Stripe duplicates events and guarantees no order. Property: any permutation, with duplicates,
//! of a subscription's event history ends in the same subscription and entitlement as in-order
//! delivery.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::sync::atomic::{AtomicU32, Ordering};

use common::{Billing, DAY, Sub, T0};
use proptest::prelude::*;
use serde_json::Value;
use uuid::Uuid;

/// One subscription's whole life: checkout, trial, activation, a failed renewal and its
/// recovery, cancel at period end, deletion (with the invoices in between).
fn history(sub: &Sub, tag: &str) -> Vec<Value> {
    let id = |n: usize| format!("evt_{tag}_{n}");
    let mut cancel_at_end = sub.event(&id(8), "updated", T0 + 50 * DAY, "active");
    cancel_at_end["data"]["object"]["cancel_at_period_end"] = Value::Bool(true);
    vec![
        sub.checkout(&id(0), T0),
        sub.event(&id(1), "created", T0 + 1, "trialing"),
        sub.invoice(&id(2), "paid", T0 + 2),
        sub.event(&id(3), "updated", T0 + 14 * DAY, "active"),
        sub.invoice(&id(4), "payment_failed", T0 + 44 * DAY),
        sub.event(&id(5), "updated", T0 + 44 * DAY + 1, "past_due"),
        sub.invoice(&id(6), "paid", T0 + 46 * DAY),
        sub.event(&id(7), "updated", T0 + 46 * DAY + 1, "active"),
        cancel_at_end,
        sub.event(&id(9), "deleted", T0 + 76 * DAY, "canceled"),
    ]
}

const LEN: usize = 10;

/// A prefix of the history (so every final state is reached), then its indices shuffled with
/// some delivered more than once.
fn deliveries() -> impl Strategy<Value = (usize, Vec<usize>)> {
    (1..=LEN).prop_flat_map(|prefix| {
        let dups = proptest::collection::vec(0..prefix, 0..prefix);
        dups.prop_flat_map(move |dups| {
            let mut order: Vec<usize> = (0..prefix).collect();
            order.extend(dups);
            Just(order).prop_shuffle().prop_map(move |o| (prefix, o))
        })
    })
}

type Outcome = (bool, String, Option<i64>, String, Option<i64>, bool);

async fn outcome(b: &Billing, user: Uuid) -> Outcome {
    let ent = b.entitlement(user).await.unwrap();
    let (state, grace, cancel): (String, Option<time::OffsetDateTime>, bool) = sqlx::query_as(
        "select state::text, grace_until, cancel_at_period_end from subscriptions where user_id = $1",
    )
    .bind(user)
    .fetch_one(&b.db.pool)
    .await
    .unwrap();
    (
        ent.eligible,
        ent.reason.as_str().to_owned(),
        ent.expires_at.map(|t| t.unix_timestamp()),
        state,
        grace.map(|t| t.unix_timestamp()),
        cancel,
    )
}

#[test]
fn any_order_with_duplicates_ends_like_in_order_delivery() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(Billing::new());
    let cases = AtomicU32::new(0);
    let config = ProptestConfig {
        cases: 40,
        ..ProptestConfig::default()
    };
    proptest!(config, |((prefix, order) in deliveries(), now_day in prop_oneof![Just(0i64), Just(45), Just(48), Just(60), Just(80)])| {
        let n = cases.fetch_add(1, Ordering::SeqCst);
        let (expected, actual) = rt.block_on(async {
            b.set_time(T0 + now_day * DAY);
            let (u1, u2) = (b.user(&format!("+1415600{n:04}")).await, b.user(&format!("+1415700{n:04}")).await);
            let in_order = Sub::new(u1, 1000 + 2 * n);
            for event in history(&in_order, &format!("ref{n}")).iter().take(prefix) {
                b.deliver(event).await;
            }
            let shuffled = Sub::new(u2, 1001 + 2 * n);
            let events = history(&shuffled, &format!("perm{n}"));
            for &i in &order {
                b.deliver(&events[i]).await;
            }
            (outcome(&b, u1).await, outcome(&b, u2).await)
        });
        prop_assert_eq!(expected, actual, "prefix {} order {:?}", prefix, order);
    });
}
