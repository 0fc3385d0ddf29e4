//! `RouterAdmin.ExportUser`: support and engineering get the router's rows about a person (and no
//! one else's data, no secrets); ops and callers without a token are refused; every call is
//! audited; a deleted person's export shows what deletion keeps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use admin_auth::testing::{self, authed};
use common::Router;
use conversation_router::admin::RouterAdminApi;
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_client::RouterAdminClient;
use serde_json::Value;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

const ADA: &str = "+15555550361";
const BOB: &str = "+15555550362";

async fn serve(router: &Router) -> RouterAdminClient<Channel> {
    let api = RouterAdminApi::new(router.pool.clone(), router.ctx.clone());
    let served = testing::serve(Routes::new(api.into_server())).await;
    RouterAdminClient::new(served.channel)
}

fn export(user_id: &str, reason: &str) -> api::UserExportRequest {
    api::UserExportRequest {
        user_id: user_id.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Ada and Bob registered over SMS (Ada answered an interview question); Ada blocked Bob and reported him, Bob reported her (with
/// words of his own), she has a one-time code and a hold.
async fn world(router: &Router) -> (uuid::Uuid, uuid::Uuid) {
    router.register(ADA, "Ada", "94110").await;
    router.text(ADA, "coffee, walk, brunch").await;
    router.register(BOB, "Bob", "94110").await;
    let (ada, bob) = (router.user_id(ADA).await, router.user_id(BOB).await);
    sqlx::query("insert into user_blocks (blocker_user_id, blocked_user_id) values ($1, $2);")
        .bind(ada)
        .bind(bob)
        .execute(&router.db.pool)
        .await
        .unwrap();
    for (reporter, reported, details) in [
        (ada, bob, "{}"),
        (bob, ada, r#"{"words": "Bob wrote this"}"#),
    ] {
        sqlx::query(
            "insert into safety_reports (reporter_user_id, reported_user_id, report_type, details)
             values ($1, $2, 'no_show', $3::jsonb)",
        )
        .bind(reporter)
        .bind(reported)
        .bind(details)
        .execute(&router.db.pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "insert into otp_sessions (user_id, otp_hash, expires_at) values ($1, 'secret-otp-hash', now());
         ",
    )
    .bind(ada)
    .execute(&router.db.pool)
    .await
    .unwrap();
    (ada, bob)
}

fn rows<'a>(doc: &'a Value, table: &str) -> &'a Vec<Value> {
    doc[table]
        .as_array()
        .unwrap_or_else(|| panic!("{table} in {doc}"))
}

#[tokio::test]
async fn support_exports_the_persons_router_rows_without_secrets_or_other_peoples_data() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    let (ada, bob) = world(&router).await;
    let pool = &router.db.pool;
    let support = testing::token(pool, "support").await;

    let answer = client
        .export_user(authed(
            export(&ada.to_string(), "access request 3"),
            &support,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.service, "conversation-router");
    let text = answer.document_json;
    let doc: Value = serde_json::from_str(&text).unwrap();
    let user = &rows(&doc, "users")[0];
    assert_eq!(user["first_name"], "Ada");
    assert_eq!(user["phone_e164"], ADA);
    assert!(user.get("phone_hash").is_none());
    assert_eq!(rows(&doc, "region_memberships")[0]["region"], "sf");
    assert_eq!(rows(&doc, "profiles").len(), 1);
    assert!(!rows(&doc, "profile_events").is_empty());
    assert_eq!(rows(&doc, "conversation_sessions").len(), 1);
    assert_eq!(rows(&doc, "otp_sessions").len(), 1);
    assert_eq!(rows(&doc, "user_blocks").len(), 1);
    assert_eq!(rows(&doc, "safety_reports_filed").len(), 1);
    assert_eq!(rows(&doc, "safety_reports_about").len(), 1);
    for secret_or_other in [
        "secret-otp-hash",
        "otp_hash",
        "phone_hash",
        "Bob",
        BOB,
        &bob.to_string(),
    ] {
        assert!(
            !text.contains(secret_or_other),
            "{secret_or_other} in {text}"
        );
    }

    let ops = testing::token(pool, "ops").await;
    let denied = client
        .export_user(authed(export(&ada.to_string(), "x"), &ops))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = client.export_user(export(&ada.to_string(), "x")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client
        .export_user(authed(export(&ada.to_string(), " "), &support))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let engineering = testing::token(pool, "engineering").await;
    let nobody = client
        .export_user(authed(
            export(&uuid::Uuid::new_v4().to_string(), "x"),
            &engineering,
        ))
        .await;
    assert_eq!(nobody.unwrap_err().code(), Code::NotFound);

    let audit = testing::audit_rows(pool, "user.export").await;
    let outcomes: Vec<Option<&str>> = audit.iter().map(|r| r.outcome.as_deref()).collect();
    assert_eq!(outcomes, [None, Some("denied")], "{audit:?}");
    assert_eq!(audit[0].target_id, Some(ada));
    assert_eq!(audit[0].reason.as_deref(), Some("access request 3"));
    assert_eq!(audit[0].payload["service"], "conversation-router");
    assert_eq!(audit[0].payload["rows"]["users"], 1);
    assert_eq!(audit[1].payload["service"], "conversation-router");
}

#[tokio::test]
async fn a_deleted_persons_export_shows_what_deletion_keeps() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    let (ada, _) = world(&router).await;
    router.text(ADA, "STOP").await;
    let ops = testing::token(&router.db.pool, "ops").await;
    let delete = api::DeleteUserRequest {
        user: Some(api::delete_user_request::User::UserId(ada.to_string())),
        reason: "asked by email".to_owned(),
    };
    client.delete_user(authed(delete, &ops)).await.unwrap();

    let engineering = testing::token(&router.db.pool, "engineering").await;
    let answer = client
        .export_user(authed(
            export(&ada.to_string(), "erasure check"),
            &engineering,
        ))
        .await
        .unwrap()
        .into_inner();
    let doc: Value = serde_json::from_str(&answer.document_json).unwrap();
    let user = &rows(&doc, "users")[0];
    assert_eq!(user["state"], "deleted");
    assert_eq!(user["first_name"], "Deleted");
    assert!(!answer.document_json.contains(ADA), "{doc}");
    assert!(!answer.document_json.contains("\"Ada\""), "{doc}");
    for gone in [
        "conversation_sessions",
        "otp_sessions",
        "magic_links",
        "sms_registrations",
    ] {
        assert!(rows(&doc, gone).is_empty(), "{gone}: {doc}");
    }
    let opt_outs = rows(&doc, "phone_opt_outs");
    assert_eq!(opt_outs.len(), 1, "the opt-out record stays: {doc}");
    assert!(opt_outs[0]["opted_out_at"].is_string());
}
