//! Accepting send commands: quiet hours, the single opt-out confirmation, and bodies that stay
//! encrypted at rest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::{Cmd, World};
use proto::Payload;
use proto::v1::{SmsPurpose, SuppressionReason};
use time::macros::datetime;

#[tokio::test]
async fn quiet_hours_hold_a_non_urgent_text_until_eight_and_let_an_urgent_one_through() {
    let mut world = World::start().await;
    world.clock.set(datetime!(2026-11-24 03:30 UTC)); // 22:30 in New York
    world.run("a");
    world
        .command(
            Cmd::new("late-1", "+15551230201", "Reminder: trivia tomorrow")
                .purpose(SmsPurpose::Reminder),
        )
        .await;
    world
        .command(Cmd::new("late-2", "+15551230202", "Your code is 123456").purpose(SmsPurpose::Otp))
        .await;
    world
        .wait_job("late-2", "the code to go out now", |j| j.status == "sent")
        .await;
    let held = world.wait_job("late-1", "the reminder job", |_| true).await;
    assert_eq!(held.status, "pending");
    assert_eq!(
        held.run_at,
        datetime!(2026-11-24 13:00 UTC),
        "08:00 in New York"
    );
    world
        .wait_idle_poll(0, "a look for due jobs in quiet hours")
        .await;
    assert_eq!(world.job("late-1").await.unwrap().status, "pending");
    assert!(
        world.sim.messages().iter().all(|m| m.to != "+15551230201"),
        "nothing reached Twilio during quiet hours"
    );
    world.clock.set(datetime!(2026-11-24 13:00 UTC));
    let sent = world
        .wait_job("late-1", "the reminder at 08:00", |j| j.status == "sent")
        .await;
    assert!(sent.sent_at.unwrap() >= datetime!(2026-11-24 13:00 UTC));
}

#[tokio::test]
async fn an_opted_out_user_gets_exactly_one_confirmation_and_nothing_else() {
    let mut world = World::start().await;
    let user = world
        .user(
            "+15551230203",
            Some(common::NOON_NY - time::Duration::minutes(1)),
        )
        .await;
    world.run("a");
    let to = "+15551230203";
    let confirm = |key| {
        Cmd::new(
            key,
            to,
            "You're unsubscribed from JOSH. Reply START to rejoin.",
        )
        .purpose(SmsPurpose::OptOutConfirmation)
        .user(user)
    };
    world.command(confirm("confirm-1")).await;
    world
        .wait_job("confirm-1", "the confirmation to be sent", |j| {
            j.status == "sent"
        })
        .await;
    world.command(confirm("confirm-2")).await;
    world
        .wait_job("confirm-2", "a second confirmation to be suppressed", |j| {
            j.status == "suppressed"
        })
        .await;
    world
        .command(
            Cmd::new("after-1", to, "New LinkUp near you!")
                .purpose(SmsPurpose::Invite)
                .user(user),
        )
        .await;
    world
        .wait_job("after-1", "an invite to be suppressed", |j| {
            j.status == "suppressed"
        })
        .await;
    assert_eq!(world.sim.create_count(), 1);
    let suppressed = world.events("sms.suppressed").await;
    assert_eq!(suppressed.len(), 2);
    assert!(suppressed.iter().all(|p| matches!(p, Payload::SmsSuppressed(e) if e.reason == SuppressionReason::UserOptOut as i32)));
}

#[tokio::test]
async fn no_plaintext_body_is_stored_or_published() {
    const MARKER: &str = "PLAINTEXT-MARKER-q7Zx";
    let mut world = World::start().await;
    world.run("a");
    let body = format!("Hi! {MARKER} coffee at 10?");
    world
        .command(Cmd::new("plain-1", "+15551230204", &body))
        .await;
    let job = world
        .wait_job("plain-1", "the job to be sent", |j| j.status == "sent")
        .await;
    let sid = job.twilio_message_sid.unwrap();
    assert!(
        world.sim.message(&sid).unwrap().body.contains(MARKER),
        "the marker went out"
    );
    let hex_marker = hex(MARKER.as_bytes());
    for table in ["sms_outbound_jobs", "sms_messages", "event_outbox"] {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select t::text from {table} t"
        )))
        .fetch_all(&world.db.pool)
        .await
        .unwrap();
        assert!(!rows.is_empty(), "{table} has rows");
        for row in rows {
            assert!(
                !row.contains(MARKER) && !row.contains(&hex_marker),
                "plaintext in {table}"
            );
        }
    }
    // The stored body opens only with the SID it is bound to.
    let (version, iv, ct, tag): (i32, Vec<u8>, Vec<u8>, Vec<u8>) = sqlx::query_as(
        "select key_version, body_iv, body_ciphertext, body_tag from sms_messages where twilio_message_sid = $1",
    )
    .bind(&sid)
    .fetch_one(&world.db.pool)
    .await
    .unwrap();
    let opened = world
        .keyring
        .decrypt_parts(version, &iv, &ct, &tag, sid.as_bytes())
        .unwrap();
    assert_eq!(opened.expose_secret_bytes(), body.as_bytes());
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

trait ExposeBytes {
    fn expose_secret_bytes(&self) -> &[u8];
}

impl ExposeBytes for secrecy::SecretSlice<u8> {
    fn expose_secret_bytes(&self) -> &[u8] {
        use secrecy::ExposeSecret as _;
        self.expose_secret()
    }
}
