//! InboundAdmin over texts stored by the real webhook: the messages view shows metadata to every
//! role and decrypted bodies only to support and engineering with a reason (ops asking is refused
//! and audited); the export holds the person's texts and events and nobody else's, and after a
//! deletion only what deletion keeps; every call needs a token and leaves an audit row; the
//! service serves the API on `GRPC_ADDR` and stops it on shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use admin_auth::testing::{self, authed};
use common::*;
use inbound_sms::Service;
use inbound_sms::admin::InboundAdminApi;
use rpc::admin::v1 as api;
use rpc::admin::v1::inbound_admin_client::InboundAdminClient;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

const ADA: &str = "+14155550181";
const BOB: &str = "+14155550182";

type Client = InboundAdminClient<Channel>;

/// Ada's texts: one before she registered, one after, one whose body retention purged; and
/// one text of Bob's. Returns the app, a client of the admin API and Ada's SIDs, oldest first.
async fn world() -> (App, Client, [String; 3]) {
    let app = App::start().await;
    let sids = [sid("SM"), sid("SM"), sid("SM")];
    let text = |sid: &str, from: &str, body: &str| app.post_signed(SMS, sms_body(sid, from, body));
    assert_empty_twiml(text(&sids[0], ADA, "hi").await).await;
    app.add_user(ADA).await;
    app.add_user(BOB).await;
    assert_empty_twiml(text(&sids[1], ADA, "I'm free Saturday").await).await;
    assert_empty_twiml(text(&sids[2], ADA, "see you there").await).await;
    assert_empty_twiml(text(&sid("SM"), BOB, "Bob's own secret").await).await;
    sqlx::query(
        "update sms_messages set body_ciphertext = null, body_iv = null, body_tag = null
          where twilio_message_sid = $1",
    )
    .bind(&sids[2])
    .execute(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(app.counts().await.sms_messages, 4);
    let api = InboundAdminApi::new(app.pool.clone(), app.config.keyring.clone());
    let served = testing::serve(Routes::new(api.into_server())).await;
    (app, InboundAdminClient::new(served.channel), sids)
}

fn list(user: &str, bodies: bool, reason: &str) -> api::ListMessagesRequest {
    use api::list_messages_request::User;
    let user = if user.starts_with('+') {
        User::PhoneE164(user.to_owned())
    } else {
        User::UserId(user.to_owned())
    };
    api::ListMessagesRequest {
        user: Some(user),
        limit: 0,
        include_bodies: bodies,
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn the_view_shows_metadata_to_any_role_and_bodies_only_to_support_and_engineering() {
    let (app, mut client, sids) = world().await;
    let pool = &app.db.pool;
    let ops = testing::token(pool, "ops").await;
    let support = testing::token(pool, "support").await;
    let engineering = testing::token(pool, "engineering").await;

    let view = client
        .list_messages(authed(list(ADA, false, ""), &ops))
        .await
        .unwrap()
        .into_inner();
    let shown: Vec<&str> = view
        .messages
        .iter()
        .map(|m| m.message_sid.as_str())
        .collect();
    assert_eq!(shown, [&sids[2], &sids[1], &sids[0]], "Ada's, newest first");
    assert!(!view.bodies_included && !view.truncated);
    assert!(view.messages.iter().all(|m| m.body.is_none()));
    assert!(view.messages.iter().all(|m| m.direction == "in"));
    assert_eq!(view.messages[0].josh_number, JOSH_NUMBER);
    assert!(view.messages[0].body_purged && !view.messages[1].body_purged);

    let mut two = list(ADA, false, "");
    two.limit = 2;
    let cut = client
        .list_messages(authed(two, &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cut.messages.len(), 2);
    assert!(cut.truncated);

    let denied = client
        .list_messages(authed(list(ADA, true, "curious"), &ops))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let no_reason = client
        .list_messages(authed(list(ADA, true, " "), &support))
        .await
        .unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    let anonymous = client.list_messages(list(ADA, false, "")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let nobody = client
        .list_messages(authed(list("+14155550199", false, ""), &ops))
        .await;
    assert_eq!(nobody.unwrap_err().code(), Code::NotFound);

    let read = client
        .list_messages(authed(list(ADA, true, "ticket 7"), &support))
        .await
        .unwrap()
        .into_inner();
    assert!(read.bodies_included);
    let bodies: Vec<Option<&str>> = read.messages.iter().map(|m| m.body.as_deref()).collect();
    assert_eq!(bodies, [None, Some("I'm free Saturday"), Some("hi")]);
    let ada = read.user_id.clone();
    let by_id = client
        .list_messages(authed(list(&ada, true, "ticket 8"), &engineering))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.messages.len(), 3);
    assert!(
        !format!("{by_id:?}").contains("Bob's own secret"),
        "never another person's text"
    );

    let audit = testing::audit_rows(pool, "messages.inbound").await;
    let summary: Vec<_> = audit
        .iter()
        .map(|r| {
            (
                r.outcome.as_deref(),
                r.payload["bodies"].as_bool(),
                r.payload["rows"].as_u64(),
                r.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (None, Some(false), Some(3), None),
            (None, Some(false), Some(2), None),
            (Some("denied"), Some(true), None, None),
            (None, Some(true), Some(3), Some("ticket 7")),
            (None, Some(true), Some(3), Some("ticket 8")),
        ]
    );
    assert_eq!(audit[3].payload["bodies_shown"], 2);
    assert_eq!(audit[3].target_id.map(|id| id.to_string()), Some(ada));
}

fn export(user_id: &str, reason: &str) -> api::UserExportRequest {
    api::UserExportRequest {
        user_id: user_id.to_owned(),
        reason: reason.to_owned(),
    }
}

async fn user_id(app: &App, phone: &str) -> uuid::Uuid {
    sqlx::query_scalar("select id from users where phone_e164 = $1")
        .bind(phone)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_export_holds_the_persons_texts_for_support_and_engineering_only() {
    let (app, mut client, sids) = world().await;
    let pool = &app.db.pool;
    let ada = user_id(&app, ADA).await.to_string();
    let support = testing::token(pool, "support").await;
    let ops = testing::token(pool, "ops").await;

    let answer = client
        .export_user(authed(export(&ada, "access request 12"), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.service, "inbound-sms");
    let doc: serde_json::Value = serde_json::from_str(&answer.document_json).unwrap();
    let texts = doc["sms_messages"].as_array().unwrap();
    let sids_bodies: Vec<(&str, Option<&str>)> = texts
        .iter()
        .map(|t| {
            (
                t["twilio_message_sid"].as_str().unwrap(),
                t["body"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        sids_bodies,
        [
            (sids[0].as_str(), Some("hi")),
            (sids[1].as_str(), Some("I'm free Saturday")),
            (sids[2].as_str(), None),
        ]
    );
    assert_eq!(texts[1]["from_e164"], ADA);
    assert!(texts[1].get("body_ciphertext").is_none());
    assert_eq!(doc["message_events"].as_array().unwrap().len(), 2);
    assert!(!answer.document_json.contains("Bob's own secret"));
    assert!(!answer.document_json.contains(BOB));

    let denied = client
        .export_user(authed(export(&ada, "x"), &ops))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let anonymous = client.export_user(export(&ada, "x")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client.export_user(authed(export(&ada, ""), &support)).await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);

    let audit = testing::audit_rows(pool, "user.export").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0].outcome, None);
    assert_eq!(audit[0].reason.as_deref(), Some("access request 12"));
    assert_eq!(audit[0].target_id.map(|id| id.to_string()), Some(ada));
    assert_eq!(audit[0].payload["service"], "inbound-sms");
    assert_eq!(audit[0].payload["rows"]["sms_messages"], 3);
    assert_eq!(audit[1].outcome.as_deref(), Some("denied"));
    assert_eq!(audit[1].payload["service"], "inbound-sms");
}

#[tokio::test]
async fn a_deleted_persons_export_shows_only_what_deletion_keeps() {
    let (app, mut client, sids) = world().await;
    let ada = user_id(&app, ADA).await;
    let mut tx = app.pool.begin().await.unwrap();
    let numbers = inbound_sms::store::inbound_numbers_of(&mut tx, ada)
        .await
        .unwrap();
    inbound_sms::store::scrub_inbound(&mut tx, ada, &numbers)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    sqlx::query(
        "update users set deleted_at = now(), state = 'deleted', phone_e164 = '+99900000000181',
                phone_hash = 'deleted:' || id::text where id = $1",
    )
    .bind(ada)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let support = testing::token(&app.db.pool, "support").await;
    let answer = client
        .export_user(authed(export(&ada.to_string(), "erasure check"), &support))
        .await
        .unwrap()
        .into_inner();
    let doc: serde_json::Value = serde_json::from_str(&answer.document_json).unwrap();
    // The text sent before she registered has neither her id nor (now) her number: it is no
    // longer hers. The others keep their metadata and lose body and number.
    let texts = doc["sms_messages"].as_array().unwrap();
    assert_eq!(texts.len(), 2, "the metadata stays: {doc}");
    for (text, sid) in texts.iter().zip(&sids[1..]) {
        assert_eq!(text["twilio_message_sid"], sid.as_str());
        assert_eq!(text["from_e164"], "deleted");
        assert_eq!(text["body"], serde_json::Value::Null);
    }
    for gone in [ADA, "\"hi\"", "I'm free Saturday"] {
        assert!(!answer.document_json.contains(gone), "{gone} in {doc}");
    }
}

#[tokio::test]
async fn the_service_serves_the_admin_api_on_grpc_addr_until_shutdown() {
    let db = testkit::TestDb::migrated().await.unwrap();
    let url = format!(
        "postgres://postgres@{}/{}?options=-c%20role%3Djosh_inbound_sms",
        db.postgres_addr().unwrap(),
        db.name
    );
    let config = config(&url, &testkit::nats_url(), "https://josh.example.com");
    let service = Service::build(config).await.unwrap();
    let addr = service.grpc_addr().unwrap();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(service.run_until_stopped(shutdown.clone()));
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let mut client = InboundAdminClient::new(channel);
    let anonymous = client.list_messages(list(ADA, false, "")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let support = testing::token(&db.pool, "support").await;
    let nobody = client
        .list_messages(authed(list(ADA, false, ""), &support))
        .await;
    assert_eq!(nobody.unwrap_err().code(), Code::NotFound);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("the service stops")
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the admin port is closed after shutdown"
    );
}
