//! `RouterAdmin.DeleteUser`: ops and engineering delete an account through the SMS DELETE path
//! without texting the person; support and callers without a token are refused; every outcome is
//! audited; opt-out records stay.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use admin_auth::testing::{self, authed};
use common::Router;
use conversation_router::admin::RouterAdminApi;
use proto::Payload;
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_client::RouterAdminClient;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

async fn serve(router: &Router) -> RouterAdminClient<Channel> {
    let api = RouterAdminApi::new(router.pool.clone(), router.ctx.clone());
    RouterAdminClient::new(testing::serve(Routes::new(api.into_server())).await.channel)
}

/// A fresh token for an admin with `role`.
async fn token(router: &Router, role: &str) -> String {
    testing::token(&router.db.pool, role).await
}

fn delete(phone: &str, reason: &str) -> api::DeleteUserRequest {
    api::DeleteUserRequest {
        user: Some(api::delete_user_request::User::PhoneE164(phone.to_owned())),
        reason: reason.to_owned(),
    }
}

async fn state(router: &Router, id: uuid::Uuid) -> String {
    sqlx::query_scalar("select state::text from users where id = $1")
        .bind(id)
        .fetch_one(&router.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn delete_user_scrubs_like_sms_delete_for_operators_only_and_is_audited() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    let phone = "+15555550331";
    router.register(phone, "Ada", "94110").await;
    let id = router.user_id(phone).await;
    router.text(phone, "STOP").await;
    let texts_before = router.published("outbound.send_sms").await.len();
    let state_before = state(&router, id).await;

    let support = token(&router, "support").await;
    let denied = client
        .delete_user(authed(delete(phone, "asked"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let no_token = client.delete_user(delete(phone, "asked")).await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let ops = token(&router, "ops").await;
    let no_reason = client.delete_user(authed(delete(phone, "  "), &ops)).await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(
        state(&router, id).await,
        state_before,
        "refusals change nothing"
    );

    let done = client
        .delete_user(authed(delete(phone, "ticket 4711"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.user_id, id.to_string());
    assert!(!done.already_deleted);
    assert_eq!(state(&router, id).await, "deleted");
    let left: (i64, String) = sqlx::query_as(
        "select (select count(*) from users where phone_e164 = $1), first_name from users where id = $2",
    )
    .bind(phone)
    .bind(id)
    .fetch_one(&router.db.pool)
    .await
    .unwrap();
    assert_eq!(left, (0, "Deleted".to_owned()), "number and name scrubbed");
    let facts = router.published("identity.user_deleted").await;
    let [Payload::UserDeleted(fact)] = facts.as_slice() else {
        panic!("one identity.user_deleted: {facts:?}")
    };
    assert_eq!(fact.user_id, id.to_string());
    assert_eq!(fact.source(), proto::v1::DeletionSource::Admin);
    assert!(!fact.deleted_by_admin_id.is_empty());
    assert!(!fact.phone_hash.is_empty());
    assert_eq!(
        router.published("outbound.send_sms").await.len(),
        texts_before,
        "the person is not texted"
    );
    let opt_outs: i64 =
        sqlx::query_scalar("select count(*) from phone_opt_outs where phone_hash = $1")
            .bind(&fact.phone_hash)
            .fetch_one(&router.db.pool)
            .await
            .unwrap();
    assert_eq!(opt_outs, 1, "the opt-out record stays");

    // By id, a second time: nothing changes, nothing is published.
    let again = api::DeleteUserRequest {
        user: Some(api::delete_user_request::User::UserId(id.to_string())),
        reason: "duplicate ticket".to_owned(),
    };
    let again = client
        .delete_user(authed(again, &ops))
        .await
        .unwrap()
        .into_inner();
    assert!(again.already_deleted);
    assert_eq!(router.published("identity.user_deleted").await.len(), 1);

    let audit = testing::audit_rows(&router.db.pool, "user.delete").await;
    let outcomes: Vec<&str> = audit
        .iter()
        .map(|a| a.outcome.as_deref().unwrap_or("ok"))
        .collect();
    assert_eq!(outcomes, ["denied", "ok", "ok"], "{audit:?}");
    assert_eq!(audit[1].reason.as_deref(), Some("ticket 4711"));
    assert_eq!(audit[1].target_id, Some(id));
}
