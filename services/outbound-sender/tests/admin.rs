//! SenderAdmin served in-process on port 0 over the test world: pausing a sender (or all of them)
//! holds its jobs in order until an admin resumes it, Twilio's automatic pause is cleared the same
//! way, status shows pauses and the queue, and a failed job is resent once as a linked job. Every
//! action is refused for a role that may not use it and without a token, and leaves an audit row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use admin_auth::testing::{self, authed};
use common::{Cmd, FROM, World};
use outbound_sender::admin::SenderAdminApi;
use rpc::admin::v1 as api;
use rpc::admin::v1::sender_admin_client::SenderAdminClient;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

type Client = SenderAdminClient<Channel>;

async fn serve(world: &World) -> Client {
    let api = SenderAdminApi::new(world.engine("admin"));
    SenderAdminClient::new(testing::serve(Routes::new(api.into_server())).await.channel)
}

async fn token(world: &World, role: &str) -> String {
    testing::token(&world.db.pool, role).await
}

/// Audit rows of `action`: (outcome, reason).
async fn audits(world: &World, action: &str) -> Vec<(Option<String>, Option<String>)> {
    testing::audit_rows(&world.db.pool, action)
        .await
        .into_iter()
        .map(|row| (row.outcome, row.reason))
        .collect()
}

fn pause(sender: &str, reason: &str) -> api::PauseSenderRequest {
    api::PauseSenderRequest {
        sender: sender.to_owned(),
        reason: reason.to_owned(),
    }
}

fn resume(sender: &str, reason: &str) -> api::ResumeSenderRequest {
    api::ResumeSenderRequest {
        sender: sender.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Waits until a worker has looked at the queue while `FROM` is paused, after the call: the
/// paused gauge is cleared here and set again by the next worker pass.
async fn a_worker_saw_the_pause() {
    let metrics = platform::metrics::prometheus();
    metrics::gauge!(outbound_sender::PAUSED_GAUGE, "sender" => FROM).set(0.0);
    let line = format!("{}{{sender=\"{FROM}\"}} 1", outbound_sender::PAUSED_GAUGE);
    testkit::wait_until(
        "a worker pass while paused",
        Duration::from_secs(10),
        || {
            let rendered = metrics.render();
            let seen = rendered.contains(&line);
            async move { seen }
        },
    )
    .await
    .unwrap();
}

async fn paused_jobs_wait_in_order_until_resumed(world: &mut World, sender: &str, tag: &str) {
    let mut client = serve(world).await;
    let ops = token(world, "ops").await;
    let paused = client
        .pause_sender(authed(pause(sender, "carrier complaint"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert!(paused.newly_paused);
    world.run("a");
    let keys = [format!("{tag}-1"), format!("{tag}-2")];
    for (key, to) in keys.iter().zip(["+15551230101", "+15551230102"]) {
        world.command(Cmd::new(key, to, "Hello")).await;
        world
            .wait_job(key, "the job to be queued", |j| j.status == "pending")
            .await;
    }
    a_worker_saw_the_pause().await;
    assert_eq!(world.sim.create_count(), 0, "nothing goes out while paused");
    let resumed = client
        .resume_sender(authed(resume(sender, "cleared"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert!(resumed.was_paused);
    for key in &keys {
        world
            .wait_job(key, "the job to be sent", |j| j.status == "sent")
            .await;
    }
    let order: Vec<String> = world.sim.messages().into_iter().map(|m| m.to).collect();
    assert_eq!(order, ["+15551230101", "+15551230102"], "in their order");
    assert_eq!(
        audits(world, "sender.pause").await,
        [(None, Some("carrier complaint".into()))]
    );
    assert_eq!(
        audits(world, "sender.resume").await,
        [(None, Some("cleared".into()))]
    );
}

#[tokio::test]
async fn a_paused_sender_holds_its_jobs_in_order_until_an_admin_resumes_it() {
    let mut world = World::start().await;
    paused_jobs_wait_in_order_until_resumed(&mut world, FROM, "one").await;
}

#[tokio::test]
async fn the_kill_switch_holds_every_sender() {
    let mut world = World::start().await;
    paused_jobs_wait_in_order_until_resumed(&mut world, "*", "all").await;
}

#[tokio::test]
async fn pausing_is_refused_for_support_without_a_token_and_for_a_bad_sender() {
    let world = World::start().await;
    let mut client = serve(&world).await;
    let (support, ops) = (token(&world, "support").await, token(&world, "ops").await);
    let denied = client
        .pause_sender(authed(pause(FROM, "x"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let denied = client
        .resume_sender(authed(resume(FROM, "x"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = client.pause_sender(pause(FROM, "x")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let anonymous = client.resume_sender(resume(FROM, "x")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    for (sender, reason) in [("5551230000", "x"), ("MGnothex", "x"), (FROM, " ")] {
        let bad = client
            .pause_sender(authed(pause(sender, reason), &ops))
            .await;
        assert_eq!(bad.unwrap_err().code(), Code::InvalidArgument, "{sender:?}");
    }
    let paused: i64 = sqlx::query_scalar("select count(*) from sms_sender_pauses")
        .fetch_one(&world.db.pool)
        .await
        .unwrap();
    assert_eq!(paused, 0, "refusals pause nothing");
    assert_eq!(
        audits(&world, "sender.pause").await,
        [(Some("denied".into()), None)]
    );
    assert_eq!(
        audits(&world, "sender.resume").await,
        [(Some("denied".into()), None)]
    );
}

#[tokio::test]
async fn twilios_automatic_pause_shows_in_status_and_an_admin_clears_it() {
    let mut world = World::start().await;
    let mut client = serve(&world).await;
    let (support, ops) = (token(&world, "support").await, token(&world, "ops").await);
    world.sim.fail_next_creates(1, 400, Some(30007));
    world.run("a");
    world
        .command(Cmd::new("auto-1", "+15551230201", "Hello"))
        .await;
    let status = testkit::wait_until("the automatic pause", Duration::from_secs(10), || {
        let mut client = client.clone();
        let support = support.clone();
        async move {
            let status = client
                .sender_status(authed(api::SenderStatusRequest {}, &support))
                .await
                .unwrap()
                .into_inner();
            status.paused.iter().any(|p| p.error_code == 30007)
        }
    })
    .await;
    status.unwrap();
    let status = client
        .sender_status(authed(api::SenderStatusRequest {}, &support))
        .await
        .unwrap()
        .into_inner();
    let pause = &status.paused[0];
    assert_eq!(
        (pause.sender.as_str(), pause.reason.as_str()),
        (FROM, "carrier_filtered")
    );
    assert!(pause.paused_by.is_empty(), "nobody: Twilio paused it");
    let pending = status.queue.iter().find(|q| q.status == "pending").unwrap();
    assert_eq!(pending.jobs, 1);
    assert_eq!(status.due, 1);

    let anonymous = client.sender_status(api::SenderStatusRequest {}).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    client
        .resume_sender(authed(resume(FROM, "campaign re-registered"), &ops))
        .await
        .unwrap();
    world
        .wait_job("auto-1", "the held job to be sent", |j| j.status == "sent")
        .await;
    let resumed_by: Option<String> = sqlx::query_scalar(
        "select a.email::text from sms_sender_pauses p join admin_users a on a.id = p.resumed_by_admin",
    )
    .fetch_one(&world.db.pool)
    .await
    .unwrap();
    assert_eq!(resumed_by.as_deref(), Some("ops@josh.example"));
    let before = audits(&world, "sender.status").await.len();
    client
        .sender_status(authed(api::SenderStatusRequest {}, &support))
        .await
        .unwrap();
    assert_eq!(
        audits(&world, "sender.status").await.len(),
        before + 1,
        "each view is audited"
    );
}

/// A job that failed for good, with a body sealed like intake seals it.
async fn failed_job(world: &World, key: &str, status: &str, delivery: Option<&str>) -> uuid::Uuid {
    let body = world
        .keyring
        .encrypt_str("Your code is 123456", key.as_bytes())
        .unwrap();
    sqlx::query_scalar(
        "insert into sms_outbound_jobs (to_e164, phone_hash, key_version, body_iv, body_ciphertext,
                                        body_tag, purpose, status, delivery_status, segments,
                                        idempotency_key, attempts)
         values ('+15551230301', $1, $2, $3, $4, $5, 'reply', $6, $7, 1, $8, 6) returning id",
    )
    .bind(world.pepper.hash("+15551230301"))
    .bind(body.key_version)
    .bind(body.nonce.as_slice())
    .bind(body.ciphertext.as_slice())
    .bind(body.tag.as_slice())
    .bind(status)
    .bind(delivery)
    .bind(key)
    .fetch_one(&world.db.pool)
    .await
    .unwrap()
}

fn resend(job: uuid::Uuid, reason: &str) -> api::ResendJobRequest {
    api::ResendJobRequest {
        job_id: job.to_string(),
        reason: reason.to_owned(),
    }
}

#[tokio::test]
async fn a_failed_job_is_resent_once_as_a_linked_job() {
    let mut world = World::start().await;
    let mut client = serve(&world).await;
    let (support, ops) = (token(&world, "support").await, token(&world, "ops").await);
    let failed = failed_job(&world, "resend-1", "failed", None).await;
    let delivered = failed_job(&world, "resend-2", "sent", Some("delivered")).await;
    let undelivered = failed_job(&world, "resend-3", "sent", Some("undelivered")).await;
    world.run("a");

    let denied = client
        .resend_job(authed(resend(failed, "retry"), &support))
        .await;
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    let anonymous = client.resend_job(resend(failed, "retry")).await;
    assert_eq!(anonymous.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client.resend_job(authed(resend(failed, ""), &ops)).await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let sent = client
        .resend_job(authed(resend(delivered, "again"), &ops))
        .await;
    assert_eq!(sent.unwrap_err().code(), Code::FailedPrecondition);
    let unknown = client
        .resend_job(authed(resend(uuid::Uuid::new_v4(), "x"), &ops))
        .await;
    assert_eq!(unknown.unwrap_err().code(), Code::NotFound);

    let again = client
        .resend_job(authed(resend(failed, "carrier outage over"), &ops))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.resent_from, failed.to_string());
    let key = format!("admin-resend:{failed}");
    let job = world
        .wait_job(&key, "the resend to be sent", |j| j.status == "sent")
        .await;
    assert_eq!(job.id.to_string(), again.job_id);
    let link: Option<uuid::Uuid> =
        sqlx::query_scalar("select resent_from from sms_outbound_jobs where id = $1")
            .bind(job.id)
            .fetch_one(&world.db.pool)
            .await
            .unwrap();
    assert_eq!(link, Some(failed));
    assert_eq!(world.sim.messages()[0].body, "Your code is 123456");
    let twice = client
        .resend_job(authed(resend(failed, "again"), &ops))
        .await;
    assert_eq!(twice.unwrap_err().code(), Code::AlreadyExists);
    client
        .resend_job(authed(resend(undelivered, "undelivered"), &ops))
        .await
        .unwrap();

    let rows = audits(&world, "job.resend").await;
    assert_eq!(
        rows,
        [
            (Some("denied".into()), None),
            (None, Some("carrier outage over".into())),
            (None, Some("undelivered".into())),
        ]
    );
}
