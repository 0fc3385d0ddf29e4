//! The router's admin gRPC API, served in-process on port 0 over a real database: each RPC works,
//! is refused for a role that may not use it and without a token, and leaves an audit row.

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

type Client = RouterAdminClient<Channel>;

async fn serve(router: &Router) -> Client {
    let api = RouterAdminApi::new(router.pool.clone(), router.ctx.clone());
    RouterAdminClient::new(testing::serve(Routes::new(api.into_server())).await.channel)
}

/// A fresh token for an admin with `role`.
async fn token(router: &Router, role: &str) -> String {
    testing::token(&router.db.pool, role).await
}

async fn audits(router: &Router, action: &str) -> usize {
    testing::audit_rows(&router.db.pool, action).await.len()
}

fn by_phone(phone: &str) -> api::UserTimelineRequest {
    api::UserTimelineRequest {
        user: Some(api::user_timeline_request::User::PhoneE164(
            phone.to_owned(),
        )),
    }
}

fn hold(phone: &str, state: api::HoldState, reason: &str) -> api::SetHoldRequest {
    api::SetHoldRequest {
        user: Some(api::set_hold_request::User::PhoneE164(phone.to_owned())),
        state: state.into(),
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn user_timeline_shows_state_and_is_audited_and_needs_a_live_token() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    router.register("+15555550301", "Ada", "94110").await;
    let support = token(&router, "support").await;

    let view = client
        .user_timeline(authed(by_phone("+15555550301"), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        view.user_id,
        router.user_id("+15555550301").await.to_string()
    );
    assert_eq!(view.state, "interviewing");
    assert_eq!(view.region, "sf");
    assert_eq!(view.region_membership, "active");
    assert_eq!(view.session_mode, "interviewing");
    assert_eq!(view.hold_state, "none");
    assert!(
        view.timeline
            .iter()
            .any(|e| e.source == "domain_events" && e.event_type == "registered"),
        "timeline: {:?}",
        view.timeline
    );
    assert_eq!(audits(&router, "user.timeline").await, 1);

    let missing = client.user_timeline(by_phone("+15555550301")).await;
    assert_eq!(missing.unwrap_err().code(), Code::Unauthenticated);
    let unknown = client
        .user_timeline(authed(by_phone("+15555550301"), "not-a-token"))
        .await;
    assert_eq!(unknown.unwrap_err().code(), Code::Unauthenticated);
    sqlx::query("update admin_tokens set revoked_at = now()")
        .execute(&router.db.pool)
        .await
        .unwrap();
    let revoked = client
        .user_timeline(authed(by_phone("+15555550301"), &support))
        .await;
    assert_eq!(revoked.unwrap_err().code(), Code::Unauthenticated);
    let ops = token(&router, "ops").await;
    let nobody = client
        .user_timeline(authed(by_phone("+15555550399"), &ops))
        .await;
    assert_eq!(nobody.unwrap_err().code(), Code::NotFound);
    assert_eq!(
        audits(&router, "user.timeline").await,
        1,
        "refusals change nothing"
    );
}

#[tokio::test]
async fn set_hold_raises_and_clears_by_role_and_is_audited() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    router.register("+15555550302", "Bo", "94110").await;
    let (support, ops) = (token(&router, "support").await, token(&router, "ops").await);

    let raised = client
        .set_hold(authed(
            hold("+15555550302", api::HoldState::Hard, "threats"),
            &support,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (raised.previous_state.as_str(), raised.state.as_str()),
        ("none", "hard_hold")
    );
    let changes = router.published("safety.hold_changed").await;
    let Some(Payload::SafetyHoldChanged(fact)) = changes.last() else {
        panic!("no hold change published: {changes:?}")
    };
    assert_eq!(fact.reason, proto::v1::HoldReason::Admin as i32);
    assert!(!fact.admin_user_id.is_empty());

    let denied = client
        .set_hold(authed(
            hold("+15555550302", api::HoldState::None, "appeal"),
            &support,
        ))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let no_token = client
        .set_hold(hold("+15555550302", api::HoldState::None, "appeal"))
        .await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client
        .set_hold(authed(
            hold("+15555550302", api::HoldState::None, " "),
            &ops,
        ))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let view = client
        .user_timeline(authed(by_phone("+15555550302"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        view.hold_state, "hard_hold",
        "the refused clear changed nothing"
    );

    let cleared = client
        .set_hold(authed(
            hold("+15555550302", api::HoldState::None, "appeal upheld"),
            &ops,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (cleared.previous_state.as_str(), cleared.state.as_str()),
        ("hard_hold", "none")
    );
    assert_eq!(router.published("safety.hold_changed").await.len(), 2);
    let reasons: Vec<String> = sqlx::query_scalar(
        "select reason from admin_audit_log where action = 'safety.set_hold'
           and payload->>'outcome' is null order by created_at, id",
    )
    .fetch_all(&router.db.pool)
    .await
    .unwrap();
    assert_eq!(reasons.len(), 2);
    assert!(reasons.contains(&"threats".to_owned()));
    assert!(reasons.contains(&"appeal upheld".to_owned()));
    let refused: Vec<(String, String, String)> = sqlx::query_as(
        "select reason, payload->>'role', payload->>'previous' from admin_audit_log
          where action = 'safety.set_hold' and payload->>'outcome' = 'denied'",
    )
    .fetch_all(&router.db.pool)
    .await
    .unwrap();
    assert_eq!(
        refused,
        vec![(
            "appeal".to_owned(),
            "support".to_owned(),
            "hard_hold".to_owned()
        )],
        "the refused clear is audited, with the admin and their role"
    );
}

#[tokio::test]
async fn open_region_activates_the_waitlist_and_texts_each_member_once() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    for (phone, name) in [("+15555550311", "Cy"), ("+15555550312", "Di")] {
        router.register(phone, name, "94606").await;
        let state = router
            .scalar_text(&format!("select status from region_memberships m join users u on u.id = m.user_id where u.phone_e164 = '{phone}'"))
            .await;
        assert_eq!(state.as_deref(), Some("waitlisted"));
    }
    router.new_replies().await;
    let open = |reason: &str| api::OpenRegionRequest {
        slug: "oak".to_owned(),
        reason: reason.to_owned(),
    };

    let support = token(&router, "support").await;
    let denied = client.open_region(authed(open("launch"), &support)).await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let refused = testing::audit_rows(&router.db.pool, "region.open").await;
    assert_eq!(refused.len(), 1, "the refusal is audited: {refused:?}");
    assert!(refused[0].admin_user_id.is_some());
    assert_eq!(refused[0].outcome.as_deref(), Some("denied"));
    let no_token = client.open_region(open("launch")).await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    assert!(router.new_replies().await.is_empty());

    let ops = token(&router, "ops").await;
    let opened = client
        .open_region(authed(open("launch"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(opened.activated, 2);
    let region_state = router
        .scalar_text("select state::text from regions where slug = 'oak'")
        .await;
    assert_eq!(region_state.as_deref(), Some("open"));
    let sent = router.new_replies().await;
    for (phone, name) in [("+15555550311", "Cy"), ("+15555550312", "Di")] {
        let texts: Vec<&str> = sent
            .iter()
            .filter(|s| s.command.to_e164 == phone)
            .map(|s| s.text.as_str())
            .collect();
        let expected = conversation_router::interview::opening(name);
        let expected: Vec<&str> = expected.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, expected, "{phone} got the onboarding opening once");
        let state = router
            .scalar_text(&format!(
                "select u.state::text || '/' || m.status || '/' || s.state_token from users u
                 join region_memberships m on m.user_id = u.id
                 join conversation_sessions s on s.user_id = u.id where u.phone_e164 = '{phone}'"
            ))
            .await;
        let want = format!(
            "interviewing/active/{}",
            conversation_router::interview::FIRST_STEP
        );
        assert_eq!(state.as_deref(), Some(want.as_str()));
    }
    assert_eq!(router.published("identity.region_opened").await.len(), 1);

    let again = client
        .open_region(authed(open("rerun"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.activated, 0);
    assert!(
        router.new_replies().await.is_empty(),
        "a rerun texts nobody"
    );
    assert_eq!(router.published("identity.region_opened").await.len(), 1);
    assert_eq!(
        audits(&router, "region.open").await,
        3,
        "two opens and the refusal"
    );
}
