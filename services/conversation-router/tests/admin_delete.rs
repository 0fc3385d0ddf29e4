//! `RouterAdmin.DeleteUser`: ops and engineering delete an account through the SMS DELETE path
//! without texting the person; support and callers without a token are refused; every outcome is
//! audited; opt-out records stay.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::admin::RouterAdminApi;
use proto::Payload;
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_client::RouterAdminClient;
use tonic::transport::Channel;
use tonic::{Code, Request};

async fn serve(router: &Router) -> RouterAdminClient<Channel> {
    let api = RouterAdminApi::new(router.pool.clone(), router.ctx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(api.into_server())
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    RouterAdminClient::new(channel)
}

async fn token(router: &Router, role: &str) -> String {
    let token = format!("tok-{role}-{}", uuid::Uuid::new_v4());
    sqlx::query(
        "with a as (insert into admin_users (email, role) values ($1, $2) returning id)
         insert into admin_tokens (admin_user_id, token_sha256) select id, $3 from a",
    )
    .bind(format!("{role}-{}@josh.example", uuid::Uuid::new_v4()))
    .bind(role)
    .bind(admin_auth::token_sha256(&token))
    .execute(&router.db.pool)
    .await
    .unwrap();
    token
}

fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
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

    let audit: Vec<(String, Option<String>, Option<uuid::Uuid>)> = sqlx::query_as(
        "select coalesce(payload->>'outcome', 'ok'), reason, target_id from admin_audit_log
          where action = 'user.delete' order by created_at, id",
    )
    .fetch_all(&router.db.pool)
    .await
    .unwrap();
    let outcomes: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(outcomes, ["denied", "ok", "ok"], "{audit:?}");
    assert_eq!(audit[1].1.as_deref(), Some("ticket 4711"));
    assert_eq!(audit[1].2, Some(id));
}
