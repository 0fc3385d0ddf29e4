//! The whole router as `main` runs it, over a private NATS: two quick texts from one phone are
//! consumed from JetStream and answered in order, the replies leave through the outbox, and the
//! admin gRPC server serves the router's dead letters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use conversation_router::{Config, Service, copy, replies};
use platform::config::Env;
use prost::Message;
use proto::v1::SmsReceived;
use proto::{Envelope, Payload};
use rpc::admin::v1::ListDeadLettersRequest;
use rpc::admin::v1::dead_letters_client::DeadLettersClient;
use testkit::{NatsServer, TestDb, wait_until};
use tokio_util::sync::CancellationToken;

const PHONE: &str = "+15555550222";

#[tokio::test]
async fn two_quick_texts_from_one_phone_are_answered_in_order() {
    let db = TestDb::migrated().await.unwrap();
    let nats = NatsServer::start().await.unwrap();
    let database_url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3Djosh_conversation_router",
        db.postgres_addr().unwrap(),
        db.name
    );
    let mut env = testkit::service::service_env(&database_url, &nats.url());
    env.retain(|(n, _)| n != "HTTP_ADDR" && n != "GRPC_ADDR");
    env.push(("HTTP_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
    env.push(("GRPC_ADDR".to_owned(), "127.0.0.1:0".to_owned()));
    let keys = env
        .iter()
        .find(|(n, _)| n == "JOSH_ENCRYPTION_KEYS")
        .unwrap()
        .1
        .clone();
    let active = env
        .iter()
        .find(|(n, _)| n == "JOSH_ACTIVE_KEY_VERSION")
        .unwrap()
        .1
        .clone();
    let keyring = crypto::Keyring::from_config(&keys, &active).unwrap();
    let config = Config::from_env(&Env::from_pairs(env)).unwrap();
    let service = Service::build(config).await.unwrap();
    let grpc = service.grpc_addr().unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));

    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    for (n, text) in ["hi", "Ada"].into_iter().enumerate() {
        let sid = format!("SM{n:032}");
        let sms = SmsReceived {
            message_sid: sid.clone(),
            from_e164: PHONE.to_owned(),
            to_e164: "+15005550006".to_owned(),
            phone_hash: "hash-222".to_owned(),
            body: Some(replies::seal(&keyring, text, &sid).unwrap()),
            ..SmsReceived::default()
        };
        let envelope = Envelope {
            event_id: uuid::Uuid::now_v7().to_string(),
            producer: "inbound-sms".to_owned(),
            correlation_id: uuid::Uuid::new_v4().to_string(),
            idempotency_key: format!("sms.received:{sid}"),
            partition_key: "hash-222".to_owned(),
            occurred_at: Some(proto::timestamp::to_timestamp(
                time::OffsetDateTime::now_utc(),
            )),
            ..Envelope::for_payload(sms)
        };
        let subject = bus::subjects::subject_of(&envelope).unwrap();
        let payload = envelope.encode_to_vec();
        // The stream exists once the service has started its bus.
        wait_until(
            "the text to be accepted by JetStream",
            Duration::from_secs(30),
            || {
                let (js, subject, payload) = (js.clone(), subject.clone(), payload.clone());
                async move {
                    match js.publish(subject, payload.into()).await {
                        Ok(ack) => ack.await.is_ok(),
                        Err(_) => false,
                    }
                }
            },
        )
        .await
        .unwrap();
    }

    let texts = || async {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "select payload from event_outbox where event_type = 'outbound.send_sms' order by id",
        )
        .fetch_all(&db.pool)
        .await
        .unwrap();
        rows.iter()
            .map(|(p,)| {
                let envelope = proto::decode_envelope(p).unwrap();
                let Some(Payload::SendSms(cmd)) = envelope.payload else {
                    panic!()
                };
                replies::open(
                    &keyring,
                    cmd.body.as_ref().unwrap(),
                    &envelope.idempotency_key,
                )
                .unwrap()
            })
            .collect::<Vec<_>>()
    };
    wait_until("both replies", Duration::from_secs(30), || async {
        texts().await.len() == 2
    })
    .await
    .unwrap();
    assert_eq!(
        texts().await,
        [
            copy::REGISTER_WELCOME.to_owned(),
            copy::ask_last_name("Ada")
        ]
    );
    wait_until("the relay to publish them", Duration::from_secs(30), || async {
        let unsent: i64 = sqlx::query_scalar(
            "select count(*) from event_outbox where producer = 'conversation-router' and published_at is null",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap();
        unsent == 0
    })
    .await
    .unwrap();

    // The admin gRPC server serves this service's own dead letters too.
    let ops = admin_auth::testing::token(&db.pool, "ops").await;
    let mut dead_letters = DeadLettersClient::connect(format!("http://{grpc}"))
        .await
        .unwrap();
    let request = admin_auth::testing::authed(ListDeadLettersRequest::default(), &ops);
    let listed = dead_letters
        .list_dead_letters(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.service, "conversation-router");
    assert!(listed.dead_letters.is_empty(), "{listed:?}");
    shutdown.cancel();
    running.await.unwrap().unwrap();
}
