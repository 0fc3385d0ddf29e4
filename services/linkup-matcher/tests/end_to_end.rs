//! The running service over a real broker: a LinkUp request the router's outbox relays to
//! JetStream is consumed by the matcher, which sends the first wave; its timer worker sends the
//! second wave when the (manual) clock reaches +2 h; a reply over the bus locks the group; the
//! admin API on `GRPC_ADDR` shows it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use common::{Matcher, Spec};
use linkup_matcher::{Config, Service};
use platform::config::Env;
use proto::Payload;
use testkit::{NatsServer, wait_until};
use time::Duration;
use tokio_util::sync::CancellationToken;

async fn count(m: &Matcher, sql: &str) -> i64 {
    m.count(sql).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_and_replies_flow_through_the_bus_and_timers_fire() {
    let m = Matcher::new().await;
    let nats = NatsServer::start().await.unwrap();
    let initiator = m.person(Spec::default()).await;
    m.people(14).await;

    let env = Env::from_pairs(testkit::service::service_env(&m.db.url(), &nats.url()));
    let config = Config::from_env(&env).unwrap();
    let service = Service::build_with_clock(config, Arc::new(m.clock.clone()))
        .await
        .unwrap();
    let grpc = service.grpc_addr().unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));
    // The router's side: its outbox, relayed to JetStream.
    let client = async_nats::connect(nats.url()).await.unwrap();
    let relay = bus::Relay::new(
        m.db.pool.clone(),
        async_nats::jetstream::new(client),
        "conversation-router",
    );
    let relaying = tokio::spawn(relay.run(shutdown.clone()));

    let mut conn = m.db.pool.acquire().await.unwrap();
    bus::outbox::enqueue(&mut conn, &m.request(initiator, "SAT_MORNING", (2, 3)))
        .await
        .unwrap();
    let first_wave = "select count(*) from linkup_invites where wave_number = 1";
    wait_until(
        "wave 1 through the bus",
        StdDuration::from_secs(30),
        || async { count(&m, first_wave).await == 6 },
    )
    .await
    .unwrap();

    m.clock.advance(Duration::hours(2));
    let second_wave = "select count(*) from linkup_invites where wave_number = 2";
    wait_until(
        "wave 2 from the timer worker",
        StdDuration::from_secs(30),
        || async { count(&m, second_wave).await == 6 },
    )
    .await
    .unwrap();

    let linkup = m.count("select count(*) from linkups").await;
    assert_eq!(linkup, 1);
    let invites: Vec<uuid::Uuid> = sqlx::query_scalar(
        "select id from linkup_invites where wave_number = 1 order by id limit 2",
    )
    .fetch_all(&m.db.pool)
    .await
    .unwrap();
    for invite in invites {
        let reply = m.reply_envelope(invite, true);
        assert!(matches!(reply.payload, Some(Payload::InviteReplied(_))));
        bus::outbox::enqueue(&mut conn, &reply).await.unwrap();
    }
    wait_until("the lock", StdDuration::from_secs(30), || async {
        count(&m, "select count(*) from linkups where state = 'locked'").await == 1
    })
    .await
    .unwrap();
    assert_eq!(
        count(&m, "select count(*) from linkup_participants").await,
        3
    );
    // MatcherAdmin is served on GRPC_ADDR.
    let linkup: uuid::Uuid = sqlx::query_scalar("select id from linkups")
        .fetch_one(&m.db.pool)
        .await
        .unwrap();
    let token = admin_auth::testing::token(&m.db.pool, "support").await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
        .unwrap()
        .connect_lazy();
    let request = rpc::admin::v1::ShowLinkupRequest {
        linkup_id: linkup.to_string(),
    };
    let view = rpc::admin::v1::matcher_admin_client::MatcherAdminClient::new(channel)
        .show_linkup(admin_auth::testing::authed(request, &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((view.state.as_str(), view.members.len()), ("locked", 3));

    shutdown.cancel();
    running.await.unwrap().unwrap();
    relaying.await.unwrap();
}
