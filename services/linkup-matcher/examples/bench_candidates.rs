//! Candidate selection + scoring for one wave in a region of 100,000 users with realistic
//! profiles, measured as the matcher runs it (its own role, one transaction per pick).
//!
//! ```sh
//! cargo run --release -p linkup-matcher --example bench_candidates -- [users] [picks]
//! ```
//!
//! Seeds its own database `josh_bench_matcher` on `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`, a superuser), reused while it holds `users` people,
//! then prints p50/p95/p99/max per pick and the process's peak memory.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use linkup_matcher::brief::{Brief, TimeOption};
use linkup_matcher::pick;
use linkup_matcher::store::linkups::Linkup;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const DB: &str = "josh_bench_matcher";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let users: i64 = args.first().map_or(Ok(100_000), |a| a.parse())?;
    let picks: usize = args.get(1).map_or(Ok(300), |a| a.parse())?;
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let admin: PgConnectOptions = admin_url.parse()?;
    let admin_pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(admin.clone())
        .await?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(DB)
            .fetch_one(&admin_pool)
            .await?;
    if !exists {
        admin_pool
            .execute(sqlx::AssertSqlSafe(format!("create database {DB}")))
            .await?;
    }
    let su = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(admin.clone().database(DB))
        .await?;
    schema::migrate(&su).await?;
    let region = seed(&su, users).await?;
    let matcher = PgPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("set role josh_linkup_matcher")
                    .await
                    .map(|_| ())
            })
        })
        .connect_with(admin.database(DB))
        .await?;
    let initiators: Vec<Uuid> = sqlx::query_scalar(
        "select user_id from region_memberships where region_id = $1 order by random() limit $2",
    )
    .bind(region)
    .bind(i64::try_from(picks).unwrap_or(300))
    .fetch_all(&su)
    .await?;
    let now = OffsetDateTime::now_utc();
    let mut times = Vec::new();
    let mut invited = 0;
    for (n, initiator) in initiators.iter().enumerate() {
        let (linkup, brief) = linkup(*initiator, region, now, n);
        let mut tx = matcher.begin().await?;
        let started = Instant::now();
        let pick = pick::pick(&mut tx, &linkup, &brief, 6, &format!("bench:{n}"), now).await?;
        times.push(started.elapsed());
        invited += pick.invitees.len();
        tx.rollback().await?;
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "region of {users} users, {} picks of a 6-person wave ({invited} invitees chosen)",
        times.len()
    );
    println!(
        "p50 {:?}  p95 {:?}  p99 {:?}  max {:?}",
        at(0.5),
        at(0.95),
        at(0.99),
        at(1.0)
    );
    println!("peak memory (VmHWM): {}", peak_memory());
    Ok(())
}

/// A broadcasting coffee LinkUp for Saturday morning (not stored: the pick only reads it).
fn linkup(initiator: Uuid, region: Uuid, now: OffsetDateTime, n: usize) -> (Linkup, Brief) {
    let starts = now + Duration::days(2);
    let brief = Brief {
        activity_key: ["coffee", "walk", "brunch", "board_games"][n % 4].into(),
        activity_name: "Coffee".into(),
        category: "food_drink".into(),
        options: vec![TimeOption {
            label: "A".into(),
            window: "SAT_MORNING".into(),
            starts,
            ends: starts + Duration::hours(3),
        }],
        motives: [("connection".to_owned(), 0.7)].into(),
        location_hint: String::new(),
        timezone: "America/Los_Angeles".into(),
    };
    let linkup = Linkup {
        id: Uuid::new_v4(),
        initiator_user_id: initiator,
        region_id: region,
        state: "broadcasting".into(),
        brief: json!({}),
        acceptance_window_ends_at: Some(now + Duration::hours(24)),
        event_time: Some(starts),
        min_size: 2,
        max_size: 6,
        lock_version: 0,
        locked_at: None,
        correlation_id: None,
        wave_count: 0,
    };
    (linkup, brief)
}

/// Seeds one open region with `users` people unless it is there already; returns the region.
async fn seed(pool: &PgPool, users: i64) -> anyhow::Result<Uuid> {
    if let Some(region) = sqlx::query_scalar::<_, Uuid>(
        "select r.id from regions r where r.slug = 'bench' and (select count(*) from region_memberships m where m.region_id = r.id) = $1",
    )
    .bind(users)
    .fetch_optional(pool)
    .await?
    {
        return Ok(region);
    }
    println!("seeding {users} users (once)...");
    let started = Instant::now();
    sqlx::raw_sql(sqlx::AssertSqlSafe(seed_sql(users)))
        .execute(pool)
        .await?;
    println!("seeded in {:?}", started.elapsed());
    Ok(
        sqlx::query_scalar("select id from regions where slug = 'bench'")
            .fetch_one(pool)
            .await?,
    )
}

fn seed_sql(users: i64) -> String {
    format!(
        r#"
truncate users, regions cascade;
insert into regions (slug, display_name, state, geometry, rules)
values ('bench', 'Bench City', 'open', '{{}}', '{{"timezone":"America/Los_Angeles"}}');
insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state, sms_consent, age_consent,
                   terms_consent, privacy_consent, region_id, opted_out_at)
select '+1555' || lpad(g::text, 7, '0'), 'bench-' || g, 'P' || g, 'Bench', date '1990-01-01' + (g % 9000),
       case when g % 50 = 0 then 'suspended'::user_state when g % 40 = 0 then 'interviewing'::user_state else 'active'::user_state end,
       true, true, true, true, (select id from regions where slug = 'bench'),
       case when g % 60 = 0 then now() end
from generate_series(1, {users}) g;
insert into region_memberships (user_id, region_id, status)
select id, region_id, 'active' from users;
insert into entitlements (user_id, eligible_to_participate, eligible_to_initiate)
select id, (hashtext(id::text) % 10) <> 0, true from users;
insert into profiles (user_id, state, fingerprint, activity_patterns, boundaries, preferences)
select u.id,
       case when hashtext(u.phone_hash) % 12 = 0 then 'partial'::profile_state else 'complete_mvp'::profile_state end,
       (select jsonb_object_agg(f, jsonb_build_object('range_value', round(random()::numeric, 2),
                                                     'confidence', round((0.3 + random() * 0.7)::numeric, 2)))
        from unnest(array['connection_depth','social_pace','novelty_seeking','structure','energy','humor',
                          'conversation_style','planning','outdoorsiness','group_size','reliability_pref','depth_of_talk']) f
        where u.id is not null),
       coalesce((select jsonb_agg(jsonb_build_object(
                   'activity_key', k,
                   'motive_weights', jsonb_build_object('connection', round(random()::numeric, 2),
                                                        'comfort', round(random()::numeric, 2),
                                                        'fun', round(random()::numeric, 2)),
                   'preferred_windows', coalesce((select jsonb_agg(w) from unnest(array['morning','day','evening','weekend']) w
                                                  where random() < 0.5 and k is not null), '[]'::jsonb),
                   'confidence', round((0.4 + random() * 0.6)::numeric, 2)))
                 from unnest(array['coffee','walk','hike','brunch','board_games','trivia','museum','yoga']) k
                 where random() < 0.3 and u.id is not null), '[]'::jsonb),
       case when hashtext(u.id::text) % 25 = 0 then '{{"no_thanks": ["drinks", "coffee"]}}'::jsonb else '{{}}'::jsonb end,
       case when hashtext(u.id::text) % 30 = 1 then '{{"invites_paused": true}}'::jsonb else '{{}}'::jsonb end
from users u;
insert into safety_holds (user_id, state)
select id, 'soft_hold' from users where hashtext(id::text) % 100 = 7;
insert into user_blocks (blocker_user_id, blocked_user_id)
select a.id, b.id from (select id, row_number() over (order by id) n from users) a
join (select id, row_number() over (order by id desc) n from users) b on a.n = b.n
where a.n % 20 = 0 and a.id <> b.id
on conflict do nothing;
-- Invite history: a fifth of the people hold an open invite, and many got some this week.
insert into linkups (initiator_user_id, region_id, state, brief, linkup_create_key, acceptance_window_ends_at)
select id, region_id, 'broadcasting', '{{}}', 'bench-history-' || id, now() + interval '1 day'
from users where hashtext(id::text) % 200 = 3;
insert into linkup_invites (linkup_id, invited_user_id, state, sent_at, idempotency_key)
select l.id, u.id, case when random() < 0.5 then 'pending'::invite_state else 'declined'::invite_state end,
       now() - (random() * interval '6 days'), 'bench-inv-' || l.id || '-' || u.id
from users u
join lateral (select id from linkups where state = 'broadcasting' and linkup_create_key like 'bench-history-%'
              and initiator_user_id <> u.id and u.id is not null order by random() limit 1) l on true
where hashtext(u.id::text) % 5 = 0
on conflict do nothing;
analyze;
"#
    )
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
