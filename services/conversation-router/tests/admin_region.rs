//! Closing (pausing) and reopening a region through the router's admin API: ops and engineering
//! only, a reason, an audit row; a member of a paused region asking for a LinkUp hears the paused
//! text (from the router's own check and for the matcher's refusal); reopening resumes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use admin_auth::testing::{self, authed};
use common::Router;
use conversation_router::admin::RouterAdminApi;
use conversation_router::copy;
use proto::v1::{LinkupRequestRefused, RefusalReason};
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_client::RouterAdminClient;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

const ANN: &str = "+15555550321";

async fn serve(router: &Router) -> RouterAdminClient<Channel> {
    let api = RouterAdminApi::new(router.pool.clone(), router.ctx.clone());
    RouterAdminClient::new(testing::serve(Routes::new(api.into_server())).await.channel)
}

fn close(slug: &str, reason: &str) -> api::CloseRegionRequest {
    api::CloseRegionRequest {
        slug: slug.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `rules.paused` of sf: "true", or "unset".
async fn paused(router: &Router) -> String {
    router
        .scalar_text("select coalesce(rules->>'paused', 'unset') from regions where slug = 'sf'")
        .await
        .unwrap()
}

#[tokio::test]
async fn close_region_is_for_operators_with_a_reason_and_is_audited() {
    let router = Router::new().await;
    let mut client = serve(&router).await;

    let support = testing::token(&router.db.pool, "support").await;
    let denied = client
        .close_region(authed(close("sf", "storm"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let refused = testing::audit_rows(&router.db.pool, "region.close").await;
    assert_eq!(refused.len(), 1, "the refusal is audited: {refused:?}");
    assert_eq!(refused[0].outcome.as_deref(), Some("denied"));
    let no_token = client.close_region(close("sf", "storm")).await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let ops = testing::token(&router.db.pool, "ops").await;
    let no_reason = client.close_region(authed(close("sf", " "), &ops)).await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let unknown = client
        .close_region(authed(close("nyc", "storm"), &ops))
        .await;
    assert_eq!(unknown.unwrap_err().code(), Code::NotFound);
    assert_eq!(paused(&router).await, "unset", "nothing changed yet");

    let closed = client
        .close_region(authed(close("sf", "storm"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert!(!closed.already_closed);
    assert_eq!(closed.state, "open");
    assert_eq!(paused(&router).await, "true");
    let engineering = testing::token(&router.db.pool, "engineering").await;
    let again = client
        .close_region(authed(close("sf", "still stormy"), &engineering))
        .await
        .unwrap()
        .into_inner();
    assert!(
        again.already_closed,
        "closing a closed region changes nothing"
    );
    let waitlisted = client
        .close_region(authed(close("oak", "not yet"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert!(
        waitlisted.already_closed,
        "a region not open is closed already"
    );

    let rows = testing::audit_rows(&router.db.pool, "region.close").await;
    assert_eq!(rows.len(), 4, "three closes and the refusal: {rows:?}");
    let pauses = router
        .scalar_text("select count(*)::text from domain_events where event_type = 'region.paused'")
        .await;
    assert_eq!(pauses.as_deref(), Some("1"), "one pause recorded");
    assert!(
        router.new_replies().await.is_empty(),
        "closing texts nobody"
    );
}

#[tokio::test]
async fn a_paused_region_answers_linkup_requests_with_the_paused_text_until_it_reopens() {
    let router = Router::new().await;
    let mut client = serve(&router).await;
    let ops = testing::token(&router.db.pool, "ops").await;
    router.onboard(ANN, "Ann").await;
    client
        .close_region(authed(close("sf", "storm"), &ops))
        .await
        .unwrap();

    assert_eq!(
        router.text(ANN, "coffee sat morning").await,
        [copy::linkup_region_paused("San Francisco")]
    );
    assert!(
        router.published("linkup.requested").await.is_empty(),
        "nothing reaches the matcher"
    );
    let ann = router.user_id(ANN).await;
    let refusal = LinkupRequestRefused {
        request_key: "key-region".to_owned(),
        initiator_user_id: ann.to_string(),
        reason: RefusalReason::Region.into(),
        ..LinkupRequestRefused::default()
    };
    let sent = router.react(refusal).await;
    assert_eq!(
        sent[0].text,
        copy::linkup_region_paused("San Francisco"),
        "the matcher's region refusal (a request already on its way) gets the paused words too"
    );

    let reopened = client
        .open_region(authed(
            api::OpenRegionRequest {
                slug: "sf".to_owned(),
                reason: "storm over".to_owned(),
            },
            &ops,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(reopened.resumed);
    assert_eq!(reopened.activated, 0);
    assert_eq!(paused(&router).await, "unset");
    assert_eq!(
        router.published("identity.region_opened").await.len(),
        0,
        "resuming an open region is not an opening"
    );
    let audit = testing::audit_rows(&router.db.pool, "region.open").await;
    assert_eq!(audit.len(), 1);
    let replies = router.text(ANN, "coffee sat morning").await;
    assert!(replies[0].starts_with("On it!"), "{replies:?}");
    assert_eq!(router.published("linkup.requested").await.len(), 1);
}
