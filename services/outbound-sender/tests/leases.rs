//! A job leased to a worker that does not know it (its claim committed, but the answer was lost
//! when Postgres went away) is handed back after the worker's failed step, not left to its lease.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use common::{Cmd, World};

/// Claims of the job keyed `claim-fails` fail (as a connection cut mid-claim would) while
/// `test_switch.fail` is on; each failure is counted in a sequence, which rollbacks leave alone.
const FAIL_CLAIMS: &str = "
    create sequence test_claim_failures;
    create table test_switch (fail boolean not null);
    insert into test_switch values (true);
    create function test_fail_claim() returns trigger
      language plpgsql security definer as $$
    begin
      if new.idempotency_key = 'claim-fails' and new.lease_owner is not null
         and (select fail from test_switch) then
        perform nextval('test_claim_failures');
        raise exception 'injected' using errcode = '08006';
      end if;
      return new;
    end $$;
    create trigger test_fail_claim before update on sms_outbound_jobs
      for each row execute function test_fail_claim();";

async fn failures(world: &World) -> i64 {
    sqlx::query_scalar(
        "select case when is_called then last_value else 0 end from test_claim_failures",
    )
    .fetch_one(&world.db.pool)
    .await
    .unwrap()
}

async fn failures_above(world: &World, n: i64) {
    testkit::wait_until("a failed claim", Duration::from_secs(15), || async {
        failures(world).await > n
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_job_leased_to_a_worker_that_never_saw_it_is_handed_back_after_its_failed_step() {
    let mut world = World::start().await;
    sqlx::raw_sql(FAIL_CLAIMS)
        .execute(&world.db.pool)
        .await
        .unwrap();
    world.run("a");
    // The oldest due job: the worker's claims keep failing on it while the switch is on.
    world
        .command(Cmd::new("claim-fails", "+15551230011", "First"))
        .await;
    failures_above(&world, 0).await;
    // A job whose claim by this very worker committed, its answer lost: leased to "a/0" for
    // longer than the test runs (the test clock stands still), its send marked started.
    world
        .command(Cmd::new("lost-claim", "+15551230012", "Second"))
        .await;
    world.wait_job("lost-claim", "the job", |_| true).await;
    sqlx::query(
        "update sms_outbound_jobs
            set lease_owner = 'a/0', lease_until = now() + interval '1 hour', send_started_at = now()
          where idempotency_key = 'lost-claim'",
    )
    .execute(&world.db.pool)
    .await
    .unwrap();
    // A step that fails after the lease was taken: the hand-back before the next claim sees it.
    let seen = failures(&world).await;
    failures_above(&world, seen).await;
    sqlx::query("update test_switch set fail = false")
        .execute(&world.db.pool)
        .await
        .unwrap();
    let lost = world
        .wait_job("lost-claim", "the handed-back job to be sent", |j| {
            j.status == "sent"
        })
        .await;
    world
        .wait_job("claim-fails", "the other job to be sent", |j| {
            j.status == "sent"
        })
        .await;
    world.assert_sent_once("+15551230012", &lost);
}
