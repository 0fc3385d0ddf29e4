//! MatcherAdmin served in-process on port 0 over a real database: showing and listing LinkUps,
//! canceling one through the matcher's own cancel path (everyone told once, a second cancel
//! refused), and a person's export. Every action is refused for a role that may not use it and
//! without a token, and leaves an audit row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use admin_auth::testing::{self, authed};
use common::{Matcher, Spec};
use linkup_matcher::admin::MatcherAdminApi;
use proto::Payload;
use proto::v1::CancelReason;
use rpc::admin::v1 as api;
use rpc::admin::v1::matcher_admin_client::MatcherAdminClient;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;
use uuid::Uuid;

type Client = MatcherAdminClient<Channel>;

async fn serve(m: &Matcher) -> Client {
    let api = MatcherAdminApi::new(m.pool.clone(), m.ctx.clone());
    MatcherAdminClient::new(testing::serve(Routes::new(api.into_server())).await.channel)
}

fn show(id: Uuid) -> api::ShowLinkupRequest {
    api::ShowLinkupRequest {
        linkup_id: id.to_string(),
    }
}

fn list(user: Uuid) -> api::ListLinkupsRequest {
    api::ListLinkupsRequest {
        user_id: user.to_string(),
        limit: 0,
    }
}

fn cancel(id: Uuid, reason: &str) -> api::CancelLinkupRequest {
    api::CancelLinkupRequest {
        linkup_id: id.to_string(),
        reason: reason.to_owned(),
    }
}

/// Outcomes of the audit rows of `action`, a call that went ahead as `ok`.
async fn outcomes(m: &Matcher, action: &str) -> Vec<String> {
    testing::audit_rows(&m.db.pool, action)
        .await
        .into_iter()
        .map(|r| r.outcome.unwrap_or_else(|| "ok".to_owned()))
        .collect()
}

async fn canceled_texts(m: &Matcher, user: Uuid) -> usize {
    m.texts_to(user)
        .await
        .iter()
        .filter(|t| t.contains("is canceled"))
        .count()
}

#[tokio::test]
async fn show_and_list_describe_a_linkup_for_any_role_and_are_audited() {
    let m = Matcher::new().await;
    let (linkup, group) = m.locked(3).await;
    let mut client = serve(&m).await;
    let support = testing::token(&m.db.pool, "support").await;

    let view = client
        .show_linkup(authed(show(linkup), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(view.state, "locked");
    assert_eq!(view.initiator_user_id, group[0].to_string());
    assert_eq!(view.initiator_first_name, "Ana");
    let brief = view.brief.unwrap();
    assert_eq!(brief.region, "sf");
    assert_eq!(brief.windows, ["SAT_MORNING"]);
    assert!(!brief.activity.is_empty());
    let members: Vec<(String, &str)> = view
        .members
        .iter()
        .map(|p| (p.user_id.clone(), p.role.as_str()))
        .collect();
    assert_eq!(members.len(), 3, "{members:?}");
    assert_eq!(members[0], (group[0].to_string(), "initiator"));
    assert_eq!(view.invites.len(), m.invites(linkup).await.len());
    let accepted = view
        .invites
        .iter()
        .filter(|i| i.state == "accepted")
        .count();
    assert_eq!(accepted, 2, "{:?}", view.invites);
    assert!(view.invites.iter().all(|i| i.sent_at.is_some()));
    assert_eq!(view.waves.first().map(|w| w.wave), Some(1));
    assert!(view.locked_at.is_some() && view.event_time.is_some());

    let theirs = client
        .list_linkups(authed(list(group[1]), &support))
        .await
        .unwrap()
        .into_inner();
    let [one] = theirs.linkups.as_slice() else {
        panic!("one LinkUp: {theirs:?}")
    };
    assert_eq!(
        (
            one.linkup_id.as_str(),
            one.relation.as_str(),
            one.status.as_str()
        ),
        (linkup.to_string().as_str(), "participant", "confirmed")
    );
    let started = client
        .list_linkups(authed(list(group[0]), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.linkups[0].relation, "initiator");

    let anonymous = client.show_linkup(show(linkup)).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let anonymous = client.list_linkups(list(group[0])).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let unknown = client
        .show_linkup(authed(show(Uuid::new_v4()), &support))
        .await;
    assert_eq!(unknown.unwrap_err().code(), Code::NotFound);
    let malformed = api::ShowLinkupRequest {
        linkup_id: "nope".to_owned(),
    };
    let malformed = client.show_linkup(authed(malformed, &support)).await;
    assert_eq!(malformed.unwrap_err().code(), Code::InvalidArgument);

    assert_eq!(outcomes(&m, "linkup.show").await, ["ok"]);
    assert_eq!(outcomes(&m, "linkup.list").await, ["ok", "ok"]);
    let shown = testing::audit_rows(&m.db.pool, "linkup.show").await;
    assert_eq!(shown[0].target_id, Some(linkup));
}

#[tokio::test]
async fn operators_cancel_a_locked_linkup_once_and_everyone_is_told_once() {
    let m = Matcher::new().await;
    let (linkup, group) = m.locked(3).await;
    let mut client = serve(&m).await;
    let support = testing::token(&m.db.pool, "support").await;
    let ops = testing::token(&m.db.pool, "ops").await;

    let denied = client
        .cancel_linkup(authed(cancel(linkup, "venue closed"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = client.cancel_linkup(cancel(linkup, "venue closed")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client
        .cancel_linkup(authed(cancel(linkup, " "), &ops))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(m.state(linkup).await, "locked", "refusals change nothing");

    let done = client
        .cancel_linkup(authed(cancel(linkup, "venue closed"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((done.previous_state.as_str(), done.told), ("locked", 3));
    assert_eq!(m.state(linkup).await, "canceled");
    for user in &group {
        assert_eq!(canceled_texts(&m, *user).await, 1, "{user} told once");
    }
    let events = m.events("linkup.canceled").await;
    let [Payload::LinkupCanceled(fact)] = events.as_slice() else {
        panic!("one linkup.canceled: {events:?}")
    };
    assert_eq!(fact.reason(), CancelReason::Admin);
    assert!(fact.was_locked);
    assert_eq!(
        fact.reason_text, "admin",
        "the admin's words stay in the audit log"
    );
    assert_eq!(fact.affected_user_ids.len(), 3);

    let again = client
        .cancel_linkup(authed(cancel(linkup, "double click"), &ops))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::FailedPrecondition);
    for user in &group {
        assert_eq!(canceled_texts(&m, *user).await, 1, "no second text");
    }
    assert_eq!(m.events("linkup.canceled").await.len(), 1);

    assert_eq!(
        outcomes(&m, "linkup.cancel").await,
        ["denied", "ok", "refused"]
    );
    let rows = testing::audit_rows(&m.db.pool, "linkup.cancel").await;
    assert_eq!(rows[1].reason.as_deref(), Some("venue closed"));
    assert_eq!(rows[1].target_id, Some(linkup));
}

#[tokio::test]
async fn canceling_while_broadcasting_tells_the_initiator_and_those_who_said_yes() {
    let m = Matcher::new().await;
    let initiator = m.person(Spec::default()).await;
    m.people(6).await;
    let linkup = m
        .create(&m.request(initiator, "SAT_MORNING", (3, 6)))
        .await
        .unwrap();
    let invites = m.invites(linkup).await;
    m.reply(invites[0].0, true).await;
    let mut client = serve(&m).await;
    let engineering = testing::token(&m.db.pool, "engineering").await;

    let done = client
        .cancel_linkup(authed(cancel(linkup, "test LinkUp"), &engineering))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (done.previous_state.as_str(), done.told),
        ("broadcasting", 2)
    );
    assert_eq!(canceled_texts(&m, initiator).await, 1);
    assert_eq!(canceled_texts(&m, invites[0].1).await, 1);
    assert_eq!(
        canceled_texts(&m, invites[1].1).await,
        0,
        "undecided invitees are not texted, as when the initiator cancels"
    );
    let open = m
        .count(&format!(
            "select count(*) from linkup_invites where linkup_id = '{linkup}'
              and state in ('pending', 'accepted')"
        ))
        .await;
    assert_eq!(open, 0, "every open invite closed");
}

#[tokio::test]
async fn export_gives_support_and_engineering_a_persons_rows_and_refuses_ops() {
    let m = Matcher::new().await;
    let (linkup, group) = m.locked(3).await;
    let mut client = serve(&m).await;
    let export = |user: Uuid, reason: &str| api::UserExportRequest {
        user_id: user.to_string(),
        reason: reason.to_owned(),
    };
    let ops = testing::token(&m.db.pool, "ops").await;
    let support = testing::token(&m.db.pool, "support").await;

    let denied = client
        .export_user(authed(export(group[1], "ticket 9"), &ops))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = client.export_user(export(group[1], "ticket 9")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client
        .export_user(authed(export(group[1], ""), &support))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);

    let done = client
        .export_user(authed(export(group[1], "ticket 9"), &support))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.service, "linkup-matcher");
    let doc: serde_json::Value = serde_json::from_str(&done.document_json).unwrap();
    let linkup_id = linkup.to_string();
    assert_eq!(doc["linkup_invites"][0]["linkup_id"], linkup_id.as_str());
    assert_eq!(doc["linkup_invites"][0]["state"], "accepted");
    assert_eq!(doc["linkup_participants"][0]["role"], "participant");
    assert_eq!(doc["linkups"], serde_json::json!([]), "they started none");
    let initiator: serde_json::Value = serde_json::from_str(
        &client
            .export_user(authed(export(group[0], "ticket 10"), &support))
            .await
            .unwrap()
            .into_inner()
            .document_json,
    )
    .unwrap();
    assert_eq!(initiator["linkups"][0]["id"], linkup_id.as_str());

    assert_eq!(outcomes(&m, "user.export").await, ["denied", "ok", "ok"]);
    let rows = testing::audit_rows(&m.db.pool, "user.export").await;
    assert_eq!(rows[1].target_id, Some(group[1]));
    assert_eq!(rows[1].reason.as_deref(), Some("ticket 9"));
}
