//! Contention: 50 concurrent YES replies to a max_size 6 LinkUp give exactly six people
//! (initiator + 5), the other 45 hear it filled, and duplicate replies and lock attempts change
//! nothing — repeated over many LinkUps.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::{Matcher, Spec};
use serde_json::json;
use time::Duration;
use uuid::Uuid;

const RUNS: usize = 100;
const INVITEES: usize = 50;

/// A broadcasting max-6 LinkUp with a pending invite for each of `users`.
async fn linkup_with_invites(
    m: &Matcher,
    initiator: Uuid,
    users: &[Uuid],
    run: usize,
) -> (Uuid, Vec<Uuid>) {
    let now = m.clock_now();
    let starts = now + Duration::days(2);
    let brief = json!({"activity_key": "coffee", "activity_name": "Coffee", "category": "food_drink",
                       "timezone": "America/Los_Angeles", "location_hint": "",
                       "options": [{"label": "A", "window": "SAT_MORNING", "starts": starts.unix_timestamp(),
                                    "ends": (starts + Duration::hours(3)).unix_timestamp()}]});
    let linkup: Uuid = sqlx::query_scalar(
        "insert into linkups (initiator_user_id, region_id, state, brief, min_size, max_size, linkup_create_key,
                              acceptance_window_ends_at, event_time, wave_count)
         values ($1, $2, 'broadcasting', $3, 2, 6, $4, $5, $6, 3) returning id",
    )
    .bind(initiator)
    .bind(m.region)
    .bind(&brief)
    .bind(format!("contention-{run}"))
    .bind(now + Duration::hours(24))
    .bind(starts)
    .fetch_one(&m.db.pool)
    .await
    .unwrap();
    let invites: Vec<Uuid> = sqlx::query_scalar(
        "insert into linkup_invites (linkup_id, invited_user_id, state, sent_at, expires_at, idempotency_key)
         select $1, u, 'pending', $2, $3, 'contention:' || $1 || ':' || u from unnest($4::uuid[]) as u
         returning id",
    )
    .bind(linkup)
    .bind(now)
    .bind(now + Duration::hours(24))
    .bind(users)
    .fetch_all(&m.db.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into linkup_timers (linkup_id, kind, due_at) values ($1, 'window_end', $2)",
    )
    .bind(linkup)
    .bind(now + Duration::hours(24))
    .execute(&m.db.pool)
    .await
    .unwrap();
    (linkup, invites)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_yeses_fill_six_places_exactly_every_time() {
    let m = Arc::new(Matcher::new().await);
    let initiator = m.person(Spec::default()).await;
    let users = m.people(INVITEES).await;
    for run in 0..RUNS {
        let (linkup, invites) = linkup_with_invites(&m, initiator, &users, run).await;
        let envelopes: Vec<_> = invites.iter().map(|i| m.reply_envelope(*i, true)).collect();
        let mut tasks = Vec::new();
        for envelope in envelopes.clone() {
            let m = m.clone();
            tasks.push(tokio::spawn(
                async move { m.deliver_reply(&envelope).await },
            ));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(m.state(linkup).await, "locked", "run {run}");
        let participants = m.participants(linkup).await;
        assert_eq!(participants.len(), 6, "run {run}: initiator + 5");
        assert!(participants.contains(&initiator));
        let accepted = m.count(&format!("select count(*) from linkup_invites where linkup_id = '{linkup}' and state = 'accepted'")).await;
        assert_eq!(accepted, 5, "run {run}");
        let filled = m
            .count(&format!(
                "select count(*) from event_outbox o join linkup_invites i on o.idempotency_key = 'late-reply-sms:' || i.linkup_id || ':' || i.invited_user_id
                 where i.linkup_id = '{linkup}'"
            ))
            .await;
        assert_eq!(filled, 45, "run {run}: the other 45 told it filled");
        let locks = m.count(&format!("select count(*) from domain_events where entity_id = '{linkup}' and event_type = 'linkup.locked'")).await;
        assert_eq!(locks, 1, "run {run}");

        // Duplicates: the same events again, fresh YES events, and a second lock attempt.
        for envelope in envelopes.iter().take(10) {
            m.deliver_reply(envelope).await;
        }
        for invite in invites.iter().take(10) {
            m.reply(*invite, true).await;
        }
        let outbox_before = m.count("select count(*) from event_outbox").await;
        sqlx::query(
            "update linkup_timers set due_at = $2 where linkup_id = $1 and kind = 'window_end'",
        )
        .bind(linkup)
        .bind(m.clock_now())
        .execute(&m.db.pool)
        .await
        .unwrap();
        m.tick().await;
        assert_eq!(m.participants(linkup).await, participants, "run {run}");
        assert_eq!(
            m.count("select count(*) from event_outbox").await,
            outbox_before,
            "run {run}: nothing new"
        );
        let version = m
            .count(&format!(
                "select lock_version::bigint from linkups where id = '{linkup}'"
            ))
            .await;
        assert_eq!(version, 1, "run {run}");
    }
    assert_eq!(m.events("linkup.locked").await.len(), RUNS);
}
