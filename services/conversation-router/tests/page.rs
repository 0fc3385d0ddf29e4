//! The magic-link LinkUp page: minted on the lock, one-time, readable, never a phone number.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use proto::v1::LinkupLocked;
use time::Duration;
use time::macros::datetime;

const ANN: &str = "+15555550181";
const BEN: &str = "+15555550182";

async fn locked_linkup(r: &Router) -> (uuid::Uuid, Vec<uuid::Uuid>) {
    r.onboard(ANN, "Ann").await;
    r.onboard(BEN, "Ben").await;
    let linkup = r.linkup(ANN, "coffee", "SAT_MORNING").await;
    let ids = vec![r.user_id(ANN).await, r.user_id(BEN).await];
    sqlx::query(
        "update linkups set state = 'locked', event_time = $2, venue = '{\"area\": \"the Mission\"}' where id = $1",
    )
    .bind(linkup)
    .bind(datetime!(2026-11-28 17:00 UTC))
    .execute(&r.db.pool)
    .await
    .unwrap();
    for (id, role) in [(ids[0], "initiator"), (ids[1], "participant")] {
        sqlx::query(
            "insert into linkup_participants (linkup_id, user_id, role) values ($1, $2, $3)",
        )
        .bind(linkup)
        .bind(id)
        .bind(role)
        .execute(&r.db.pool)
        .await
        .unwrap();
    }
    (linkup, ids)
}

fn lock_fact(linkup: uuid::Uuid, ids: &[uuid::Uuid]) -> LinkupLocked {
    LinkupLocked {
        linkup_id: linkup.to_string(),
        participant_user_ids: ids.iter().map(ToString::to_string).collect(),
        event_time: Some(proto::timestamp::to_timestamp(
            datetime!(2026-11-28 17:00 UTC),
        )),
        ..LinkupLocked::default()
    }
}

#[tokio::test]
async fn each_participant_gets_a_one_time_page_link() {
    let r = Router::new().await;
    let (linkup, ids) = locked_linkup(&r).await;
    let sent = r.react(lock_fact(linkup, &ids)).await;
    assert_eq!(sent.len(), 2);
    let url = sent[0].text.rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("https://josh.example/l/"), "{url}");
    let token = url.rsplit('/').next().unwrap();
    let stored: Vec<String> = sqlx::query_scalar("select token_hash from magic_links")
        .fetch_all(&r.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|h| h != token), "only hashes are stored");

    let base = r.serve().await;
    let page = reqwest::get(format!("{base}/l/{token}")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    for expected in [
        "Coffee",
        "Sat, Nov 28, 9:00 AM",
        "the Mission",
        "<li>Ann</li>",
        "<li>Ben</li>",
        "public place",
        "width=device-width",
    ] {
        assert!(html.contains(expected), "{expected:?} missing from {html}");
    }
    assert!(!html.contains("+1555"), "never a phone number");
    let again = reqwest::get(format!("{base}/l/{token}")).await.unwrap();
    assert_eq!(again.status().as_u16(), 410, "one-time");
    let unknown = reqwest::get(format!("{base}/l/nope")).await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    // A redelivered lock mints nothing new.
    assert!(r.react(lock_fact(linkup, &ids)).await.is_empty());
}

#[tokio::test]
async fn an_expired_link_is_gone() {
    let r = Router::new().await;
    let (linkup, ids) = locked_linkup(&r).await;
    let sent = r.react(lock_fact(linkup, &ids)).await;
    let token = sent[1].text.rsplit('/').next().unwrap().to_owned();
    r.clock.advance(Duration::days(8)); // past the event day
    let base = r.serve().await;
    let page = reqwest::get(format!("{base}/l/{token}")).await.unwrap();
    assert_eq!(page.status().as_u16(), 410);
}

#[tokio::test]
async fn the_consent_links_lead_somewhere() {
    let r = Router::new().await;
    let base = r.serve().await;
    for path in ["terms", "privacy"] {
        let page = reqwest::get(format!("{base}/{path}")).await.unwrap();
        assert_eq!(page.status().as_u16(), 200, "{path}");
        assert!(page.text().await.unwrap().contains("DELETE"), "{path}");
    }
}
