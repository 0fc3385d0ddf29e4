//! The outbox and its relay against real Postgres and a real nats-server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bus::subjects::EVENTS_STREAM;
use common::{DEADLINE, Harness, event};
use testkit::wait_until;

#[tokio::test]
async fn an_event_is_published_once_even_when_the_mark_is_lost() {
    let h = Harness::new().await;
    h.enqueue(&event("user-a", 1)).await;
    let relay = h.relay();
    assert_eq!(relay.publish_batch().await.unwrap().published, 1);
    // The relay died after JetStream acked but before the mark committed.
    sqlx::query("update event_outbox set published_at = null")
        .execute(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(
        relay.publish_batch().await.unwrap().published,
        1,
        "the row is sent again"
    );
    assert_eq!(
        h.stream_messages(EVENTS_STREAM).await,
        1,
        "JetStream dropped the duplicate"
    );
    assert_eq!(h.unpublished().await, 0);
}

#[tokio::test]
async fn a_rolled_back_transaction_publishes_nothing() {
    let h = Harness::new().await;
    let mut tx = h.producer_pool.begin().await.unwrap();
    bus::outbox::enqueue(&mut tx, &event("user-a", 1))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(h.relay().publish_batch().await.unwrap().published, 0);
    assert_eq!(h.stream_messages(EVENTS_STREAM).await, 0);
}

#[tokio::test]
async fn enqueueing_the_same_idempotency_key_twice_stores_one_row() {
    let h = Harness::new().await;
    let first = event("user-a", 1);
    let retry = common::event("user-a", 1); // same key, new event id
    let mut tx = h.producer_pool.begin().await.unwrap();
    assert!(bus::outbox::enqueue(&mut tx, &first).await.unwrap());
    assert!(!bus::outbox::enqueue(&mut tx, &retry).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(h.unpublished().await, 1);
}

#[tokio::test]
async fn a_producer_cannot_enqueue_as_another_service() {
    let h = Harness::new().await;
    let mut forged = event("user-a", 1);
    forged.producer = "billing".to_owned();
    let mut tx = h.producer_pool.begin().await.unwrap();
    let result = bus::outbox::enqueue(&mut tx, &forged).await;
    assert!(
        matches!(result, Err(bus::BusError::Database(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn malformed_envelopes_are_refused_before_storage() {
    let h = Harness::new().await;
    let mut tx = h.producer_pool.begin().await.unwrap();
    for broken in [
        proto::Envelope {
            partition_key: String::new(),
            ..event("u", 1)
        },
        proto::Envelope {
            idempotency_key: String::new(),
            ..event("u", 1)
        },
        proto::Envelope {
            event_id: "not-a-uuid".to_owned(),
            ..event("u", 1)
        },
        proto::Envelope {
            payload: None,
            ..event("u", 1)
        },
    ] {
        let result = bus::outbox::enqueue(&mut tx, &broken).await;
        assert!(
            matches!(result, Err(bus::BusError::InvalidEnvelope(_))),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn two_relays_publish_every_row_once_and_in_order() {
    let h = Harness::new().await;
    for seq in 0..300 {
        h.enqueue(&event("user-a", seq)).await;
    }
    let (a, b) = (h.relay().with_batch_size(7), h.relay().with_batch_size(11));
    let ta = tokio::spawn(a.run(h.shutdown.clone()));
    let tb = tokio::spawn(b.run(h.shutdown.clone()));
    wait_until("the outbox to drain", DEADLINE, || async {
        h.unpublished().await == 0
    })
    .await
    .unwrap();
    h.shutdown.cancel();
    ta.await.unwrap();
    tb.await.unwrap();

    assert_eq!(h.stream_messages(EVENTS_STREAM).await, 300);
    let stream = h.js.get_stream(EVENTS_STREAM).await.unwrap();
    for seq in 1..=300_u64 {
        let raw = stream.get_raw_message(seq).await.unwrap();
        let envelope = proto::decode_envelope(&raw.payload).unwrap();
        assert_eq!(
            envelope.idempotency_key,
            format!("user-a:{}", seq - 1),
            "stream order"
        );
    }
}

#[tokio::test]
async fn the_relay_survives_nats_restarting_mid_stream() {
    let mut h = Harness::new().await;
    let relay = h.relay();
    let task = tokio::spawn(relay.run(h.shutdown.clone()));
    for seq in 0..100 {
        h.enqueue(&event("user-a", seq)).await;
    }
    wait_until("the first half to publish", DEADLINE, || async {
        h.unpublished().await == 0
    })
    .await
    .unwrap();

    h.nats.kill().await.unwrap();
    for seq in 100..200 {
        h.enqueue(&event("user-a", seq)).await;
    }
    h.nats.restart().await.unwrap();
    wait_until("the second half to publish", DEADLINE, || async {
        h.unpublished().await == 0
    })
    .await
    .unwrap();
    h.shutdown.cancel();
    task.await.unwrap();

    assert_eq!(
        h.stream_messages(EVENTS_STREAM).await,
        200,
        "nothing lost, nothing doubled"
    );
    let stream = h.js.get_stream(EVENTS_STREAM).await.unwrap();
    let last = stream.get_raw_message(200).await.unwrap();
    assert_eq!(
        proto::decode_envelope(&last.payload)
            .unwrap()
            .idempotency_key,
        "user-a:199"
    );
}

#[tokio::test]
async fn pruning_removes_only_old_published_rows() {
    let h = Harness::new().await;
    h.enqueue(&event("user-a", 1)).await;
    h.enqueue(&event("user-a", 2)).await;
    h.relay().publish_batch().await.unwrap();
    h.enqueue(&event("user-a", 3)).await;
    sqlx::query("update event_outbox set published_at = now() - interval '8 days' where idempotency_key = 'user-a:1'")
        .execute(&h.db.pool)
        .await
        .unwrap();
    assert_eq!(h.relay().prune().await.unwrap(), 1);
    let left: Vec<String> =
        sqlx::query_scalar("select idempotency_key from event_outbox order by id")
            .fetch_all(&h.db.pool)
            .await
            .unwrap();
    assert_eq!(left, ["user-a:2", "user-a:3"]);
}

#[tokio::test]
async fn a_committed_row_wakes_its_own_producers_relay() {
    let h = Harness::new().await;
    // Polls once an hour: only the row's notification can make it publish within the deadline.
    let relay = bus::Relay::new(h.producer_pool.clone(), h.js.clone(), common::PRODUCER)
        .with_poll_interval(std::time::Duration::from_secs(3600));
    let task = tokio::spawn(relay.run(h.shutdown.clone()));
    h.enqueue(&event("user-a", 1)).await;
    wait_until("the first row published", DEADLINE, || async {
        h.unpublished().await == 0
    })
    .await
    .unwrap();
    // The relay is listening now (it listens before its first batch).
    h.enqueue(&event("user-a", 2)).await;
    wait_until("the second row published", DEADLINE, || async {
        h.unpublished().await == 0
    })
    .await
    .unwrap();
    assert_eq!(h.stream_messages(EVENTS_STREAM).await, 2);
    h.shutdown.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn each_producer_has_its_own_outbox_channel() {
    let h = Harness::new().await;
    let mut channels = common::Channels::listen(&h).await;
    h.enqueue(&event("user-a", 1)).await;
    let mut tx = h.db.pool.begin().await.unwrap();
    let other = proto::Envelope {
        producer: common::CONSUMER.to_owned(),
        ..event("user-b", 1)
    };
    assert!(bus::outbox::enqueue(&mut tx, &other).await.unwrap());
    tx.commit().await.unwrap();

    // Delivered in commit order, each on its producer's channel only.
    assert_eq!(
        channels.next_two().await,
        [channels.ours.clone(), channels.theirs.clone()]
    );
    assert_ne!(channels.ours, channels.theirs);
}

#[tokio::test]
async fn enqueue_many_stores_each_key_once_and_says_which_rows_were_new() {
    let h = Harness::new().await;
    h.enqueue(&event("user-a", 1)).await;
    let rows: Vec<bus::outbox::OutboxRow> = [
        event("user-a", 1), // stored before
        event("user-a", 2),
        event("user-b", 1),
        event("user-a", 2), // earlier in this call
    ]
    .iter()
    .map(|e| bus::outbox::OutboxRow::prepare(e).unwrap())
    .collect();

    let mut tx = h.producer_pool.begin().await.unwrap();
    let new = bus::outbox::enqueue_many(
        &mut tx,
        &rows.iter().collect::<Vec<_>>(),
        bus::Notify::AtCommit,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(new, [false, true, true, false]);
    assert_eq!(h.unpublished().await, 3);
    let mut tx = h.producer_pool.begin().await.unwrap();
    assert!(
        bus::outbox::enqueue_many(&mut tx, &[], bus::Notify::AtCommit)
            .await
            .unwrap()
            .is_empty()
    );
}
