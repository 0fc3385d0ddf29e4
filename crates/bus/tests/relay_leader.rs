//! A running relay keeps its producer's lock on a connection of its own: other replicas stay
//! out while it runs, it carries on after that connection is cut, and it lets go when it stops.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bus::subjects::EVENTS_STREAM;
use common::{DEADLINE, Harness, event};
use testkit::wait_until;
use tokio_util::sync::CancellationToken;

/// The backends of this test's database holding an advisory lock.
async fn lock_holders(h: &Harness) -> Vec<i32> {
    sqlx::query_scalar(
        "select pid from pg_locks
          where locktype = 'advisory' and granted
            and database = (select oid from pg_database where datname = current_database())",
    )
    .fetch_all(&h.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_running_relay_keeps_its_producer_survives_a_cut_connection_and_lets_go_when_it_stops() {
    let h = Harness::new().await;
    let stop = CancellationToken::new();
    let running = tokio::spawn(h.relay().run(stop.clone()));
    h.enqueue(&event("user-a", 1)).await;
    wait_until("the first row published", DEADLINE, || async {
        h.unpublished().await == 0
    })
    .await
    .unwrap();

    // Between its batches it still holds the lock: a batch from anywhere else is turned away.
    let elsewhere = h.relay();
    assert!(elsewhere.publish_batch().await.unwrap().busy);
    let holders = lock_holders(&h).await;
    assert_eq!(holders.len(), 1, "one connection holds the producer's lock");

    // Its connection is cut (a failover, an admin's pg_terminate_backend): the lock goes with
    // it, and the relay connects again, takes the lock again and publishes what comes next.
    sqlx::query("select pg_terminate_backend($1)")
        .bind(holders[0])
        .execute(&h.db.pool)
        .await
        .unwrap();
    h.enqueue(&event("user-a", 2)).await;
    wait_until(
        "the second row published by the relay",
        DEADLINE,
        || async { h.unpublished().await == 0 },
    )
    .await
    .unwrap();
    let holders_now = lock_holders(&h).await;
    assert_eq!(holders_now.len(), 1);
    assert_ne!(holders_now, holders, "a new connection holds it");
    assert!(elsewhere.publish_batch().await.unwrap().busy);

    // Stopped, it lets go (its connection closes): another replica can publish.
    stop.cancel();
    running.await.unwrap();
    h.enqueue(&event("user-a", 3)).await;
    wait_until("another replica to publish", DEADLINE, || async {
        elsewhere.publish_batch().await.unwrap().published == 1
    })
    .await
    .unwrap();
    assert_eq!(h.unpublished().await, 0);
    assert_eq!(h.stream_messages(EVENTS_STREAM).await, 3);
}
