//! The shared simulated clock over a real NATS JetStream: every instance follows one offset, and
//! a sleeper wakes when the clock jumps past its deadline.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration as StdDuration;

use platform::clock::{Clock, OffsetStore, SimulatedClock};
use time::{Duration, OffsetDateTime};

/// A bucket of its own per test, removed afterwards.
async fn store(name: &str) -> (async_nats::Client, OffsetStore) {
    let client = async_nats::connect(testkit::nats_url()).await.unwrap();
    let bucket = format!("josh_clock_test_{name}_{}", uuid::Uuid::new_v4().simple());
    let store = OffsetStore::open(client.clone(), &bucket).await.unwrap();
    (client, store)
}

#[tokio::test]
async fn two_clocks_see_one_advance() {
    let (client, store) = store("advance").await;
    let first = SimulatedClock::follow(store.clone()).await.unwrap();
    let second = SimulatedClock::follow(store.clone()).await.unwrap();
    assert_eq!(first.offset(), Duration::ZERO);
    let before = OffsetDateTime::now_utc();

    assert_eq!(
        store.advance(Duration::hours(3)).await.unwrap(),
        Duration::hours(3)
    );
    assert_eq!(
        store.advance(Duration::minutes(30)).await.unwrap(),
        Duration::minutes(210)
    );
    for clock in [&first, &second] {
        testkit::wait_until(
            "the clock follows the advance",
            StdDuration::from_secs(10),
            || async { clock.offset() == Duration::minutes(210) },
        )
        .await
        .unwrap();
        let now = clock.now();
        assert!(now >= before + Duration::minutes(210), "{now}");
        assert!(
            now < OffsetDateTime::now_utc() + Duration::minutes(211),
            "{now}"
        );
    }
    // A clock started later reads the same offset at once.
    let third = SimulatedClock::follow(store.clone()).await.unwrap();
    assert_eq!(third.offset(), Duration::minutes(210));
    store.delete_bucket(client).await.unwrap();
}

#[tokio::test]
async fn set_shows_the_instant_asked_for() {
    let (client, store) = store("set").await;
    let clock = SimulatedClock::follow(store.clone()).await.unwrap();
    let target = OffsetDateTime::now_utc() + Duration::days(40);
    store.set(target).await.unwrap();
    testkit::wait_until(
        "the clock follows the set",
        StdDuration::from_secs(10),
        || async { clock.offset() > Duration::days(39) },
    )
    .await
    .unwrap();
    let shown = clock.now();
    assert!(
        (shown - target).abs() < Duration::seconds(5),
        "{shown} vs {target}"
    );
    assert!((store.offset().await.unwrap() - Duration::days(40)).abs() < Duration::seconds(5));
    store.delete_bucket(client).await.unwrap();
}

#[tokio::test]
async fn a_sleeper_wakes_when_the_clock_jumps_past_its_deadline() {
    let (client, store) = store("sleep").await;
    let clock = SimulatedClock::follow(store.clone()).await.unwrap();
    let deadline = clock.now() + Duration::hours(2);
    let sleeper = {
        let clock = clock.clone();
        tokio::spawn(async move {
            clock.sleep_until(deadline).await;
            clock.now()
        })
    };
    // Not woken before the jump...
    tokio::task::yield_now().await;
    assert!(!sleeper.is_finished());
    store.advance(Duration::hours(2)).await.unwrap();
    // ...and woken by it, long before two real hours.
    let woke_at = tokio::time::timeout(StdDuration::from_secs(10), sleeper)
        .await
        .expect("the sleeper wakes on the jump")
        .unwrap();
    assert!(woke_at >= deadline, "{woke_at} < {deadline}");
    store.delete_bucket(client).await.unwrap();
}

#[tokio::test]
async fn concurrent_advances_all_count() {
    let (client, store) = store("concurrent").await;
    let moves = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.advance(Duration::minutes(1)).await.unwrap() })
    });
    for mover in moves.collect::<Vec<_>>() {
        mover.await.unwrap();
    }
    assert_eq!(store.offset().await.unwrap(), Duration::minutes(8));
    store.delete_bucket(client).await.unwrap();
}
