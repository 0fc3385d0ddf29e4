//! A service's consumers hold its readiness from the moment they are asked for until their
//! durables exist, also when NATS is down at start.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bus::ServiceBus;
use common::{CONSUMER, DEADLINE, Harness, Recorder, event};
use platform::health::StartupGate;
use testkit::wait_until;

/// A service's bus (and its readiness gate) started while `h`'s NATS server is down.
async fn bus_with_nats_down(h: &mut Harness) -> (ServiceBus, StartupGate) {
    h.nats.kill().await.unwrap();
    let client = async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(h.nats.url())
        .await
        .unwrap();
    let gate = StartupGate::default();
    let bus = ServiceBus::new(client, h.consumer_pool.clone(), CONSUMER, 1, gate.clone());
    (bus, gate)
}

#[tokio::test]
async fn consumers_hold_readiness_until_their_durables_exist() {
    let mut h = Harness::new().await;
    let (bus, gate) = bus_with_nats_down(&mut h).await;
    let recorder = Recorder::default();

    let consume = bus.consume(h.spec(), recorder.clone(), h.shutdown.clone());
    // Held when asked for, before the task runs: a caller serving `/readyz` right after
    // spawning it cannot answer 200 too early.
    assert_eq!(gate.waiting_on(), [CONSUMER]);
    let task = tokio::spawn(consume);
    assert_eq!(gate.waiting_on(), [CONSUMER], "released with NATS down");

    h.nats.restart().await.unwrap();
    wait_until("the consumer to start", DEADLINE, || async {
        gate.waiting_on().is_empty()
    })
    .await
    .unwrap();
    let stream = h.js.get_stream(h.spec().stream()).await.unwrap();
    for (durable, _, _) in h.spec().durables() {
        let found = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>(&durable)
            .await;
        assert!(found.is_ok(), "durable {durable} missing once ready");
    }

    h.enqueue(&event("user-a", 1)).await;
    let relay = tokio::spawn(h.relay().run(h.shutdown.clone()));
    wait_until("the event handled", DEADLINE, || async {
        h.effects().await == 1
    })
    .await
    .unwrap();
    h.shutdown.cancel();
    task.await.unwrap();
    relay.await.unwrap();
}

#[tokio::test]
async fn a_consumer_stopped_before_it_started_ends_and_lets_go_of_readiness() {
    let mut h = Harness::new().await;
    let (bus, gate) = bus_with_nats_down(&mut h).await;
    let task = tokio::spawn(bus.consume(h.spec(), Recorder::default(), h.shutdown.clone()));

    h.shutdown.cancel();
    // Well under a JetStream request's timeout (5 s).
    tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("stopping waited for the absent server")
        .unwrap();
    // The hold goes with the task, which does not wait out a request to the absent server.
    assert!(gate.waiting_on().is_empty());
}
