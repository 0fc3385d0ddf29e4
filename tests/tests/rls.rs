//! Row-level security as the schema document describes it: users see and change only their own
//! rows, a LinkUp is visible to its initiator, participants and invitees only, and `anon` sees
//! nothing at all.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};
use system_tests as fx;
use testkit::TestDb;
use uuid::Uuid;

/// A transaction acting as Supabase's `authenticated` role for `user` (or as `anon` for None).
async fn acting_as(pool: &PgPool, user: Option<Uuid>) -> Transaction<'static, Postgres> {
    let mut tx = pool.begin().await.unwrap();
    let role = if user.is_some() {
        "authenticated"
    } else {
        "anon"
    };
    sqlx::query(AssertSqlSafe(format!("set local role {role}")))
        .execute(&mut *tx)
        .await
        .unwrap();
    let claims = user.map(|u| serde_json::json!({ "sub": u, "role": role }).to_string());
    sqlx::query("select set_config('request.jwt.claims', coalesce($1, ''), true)")
        .bind(claims)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

async fn visible_ids(tx: &mut Transaction<'static, Postgres>, sql: &'static str) -> Vec<Uuid> {
    sqlx::query_scalar(sql).fetch_all(&mut **tx).await.unwrap()
}

#[tokio::test]
async fn a_user_sees_and_updates_only_their_own_profile() {
    let db = TestDb::migrated().await.unwrap();
    let (a, b) = (
        fx::user(&db.pool).await.unwrap(),
        fx::user(&db.pool).await.unwrap(),
    );
    fx::profile(&db.pool, a).await.unwrap();
    fx::profile(&db.pool, b).await.unwrap();

    let mut tx = acting_as(&db.pool, Some(a)).await;
    assert_eq!(
        visible_ids(&mut tx, "select user_id from profiles").await,
        [a]
    );
    assert_eq!(visible_ids(&mut tx, "select id from users").await, [a]);
    let own = sqlx::query("update profiles set preferences = '{\"x\": 1}' where user_id = $1")
        .bind(a)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(own.rows_affected(), 1);
    let other = sqlx::query("update profiles set preferences = '{\"x\": 1}' where user_id = $1")
        .bind(b)
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(other.rows_affected(), 0, "A changed B's profile");
    // Re-pointing one's own profile at someone else is refused by the policy's check.
    let hijack = sqlx::query("update profiles set user_id = $1 where user_id = $2")
        .bind(b)
        .bind(a)
        .execute(&mut *tx)
        .await;
    assert_eq!(fx::sql_state(hijack).as_deref(), Some("42501"));
    tx.rollback().await.unwrap();

    let b_prefs: serde_json::Value =
        sqlx::query_scalar("select preferences from profiles where user_id = $1")
            .bind(b)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(b_prefs, serde_json::json!({}));
}

#[tokio::test]
async fn a_linkup_is_visible_to_its_initiator_participants_and_invitees_only() {
    let db = TestDb::migrated().await.unwrap();
    let p = &db.pool;
    let region = fx::region(p).await.unwrap();
    let [initiator, invitee, member, stranger] = [
        fx::user(p).await.unwrap(),
        fx::user(p).await.unwrap(),
        fx::user(p).await.unwrap(),
        fx::user(p).await.unwrap(),
    ];
    let linkup = fx::linkup(p, initiator, region).await.unwrap();
    let other_linkup = fx::linkup(p, stranger, region).await.unwrap();
    fx::invite(p, linkup, invitee).await.unwrap();
    fx::participant(p, linkup, initiator, "initiator")
        .await
        .unwrap();
    fx::participant(p, linkup, member, "participant")
        .await
        .unwrap();

    for (who, name) in [
        (initiator, "initiator"),
        (invitee, "invitee"),
        (member, "participant"),
    ] {
        let mut tx = acting_as(p, Some(who)).await;
        assert_eq!(
            visible_ids(&mut tx, "select id from linkups").await,
            [linkup],
            "{name}"
        );
        tx.rollback().await.unwrap();
    }
    let mut tx = acting_as(p, Some(stranger)).await;
    assert_eq!(
        visible_ids(&mut tx, "select id from linkups").await,
        [other_linkup]
    );
    let seen = visible_ids(&mut tx, "select user_id from linkup_participants").await;
    assert!(seen.is_empty(), "a stranger saw participants {seen:?}");
    tx.rollback().await.unwrap();

    let mut tx = acting_as(p, Some(member)).await;
    let mut seen = visible_ids(&mut tx, "select user_id from linkup_participants").await;
    seen.sort();
    let mut expected = vec![initiator, member];
    expected.sort();
    assert_eq!(seen, expected, "a member sees the LinkUp's participants");
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn contact_choices_are_private_and_exchanges_visible_to_the_pair_only() {
    let db = TestDb::migrated().await.unwrap();
    let p = &db.pool;
    let region = fx::region(p).await.unwrap();
    let [a, b, c] = [
        fx::user(p).await.unwrap(),
        fx::user(p).await.unwrap(),
        fx::user(p).await.unwrap(),
    ];
    let linkup = fx::linkup(p, a, region).await.unwrap();
    for (u, role) in [(a, "initiator"), (b, "participant"), (c, "participant")] {
        fx::participant(p, linkup, u, role).await.unwrap();
    }
    for (chooser, target) in [(a, b), (b, a), (c, a)] {
        sqlx::query(
            "insert into contact_exchange_choices (linkup_id, chooser_user_id, target_user_id, choice)
             values ($1, $2, $3, true)",
        )
        .bind(linkup)
        .bind(chooser)
        .bind(target)
        .execute(p)
        .await
        .unwrap();
    }
    let (lo, hi) = if a.to_string() < b.to_string() {
        (a, b)
    } else {
        (b, a)
    };
    sqlx::query(
        "insert into contact_exchanges (linkup_id, user_a_id, user_b_id) values ($1, $2, $3)",
    )
    .bind(linkup)
    .bind(lo)
    .bind(hi)
    .execute(p)
    .await
    .unwrap();

    let mut tx = acting_as(p, Some(a)).await;
    let choosers = visible_ids(
        &mut tx,
        "select chooser_user_id from contact_exchange_choices",
    )
    .await;
    assert_eq!(choosers, [a], "A must not see who chose A");
    assert_eq!(
        visible_ids(&mut tx, "select linkup_id from contact_exchanges").await,
        [linkup]
    );
    tx.rollback().await.unwrap();

    let mut tx = acting_as(p, Some(c)).await;
    assert!(
        visible_ids(&mut tx, "select linkup_id from contact_exchanges")
            .await
            .is_empty()
    );
    // C may record a choice about an attendee of C's LinkUp, as C only.
    let ok = sqlx::query(
        "insert into contact_exchange_choices (linkup_id, chooser_user_id, target_user_id, choice)
         values ($1, $2, $3, false)",
    )
    .bind(linkup)
    .bind(c)
    .bind(b)
    .execute(&mut *tx)
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    let forged = sqlx::query(
        "insert into contact_exchange_choices (linkup_id, chooser_user_id, target_user_id, choice)
         values ($1, $2, $3, true)",
    )
    .bind(linkup)
    .bind(b)
    .bind(c)
    .execute(&mut *tx)
    .await;
    assert_eq!(
        fx::sql_state(forged).as_deref(),
        Some("42501"),
        "C chose on B's behalf"
    );
    tx.rollback().await.unwrap();
}

#[tokio::test]
async fn anon_sees_nothing_in_any_table() {
    let db = TestDb::migrated().await.unwrap();
    let p = &db.pool;
    // Put rows everywhere a client might look.
    let region = fx::region(p).await.unwrap();
    let a = fx::user(p).await.unwrap();
    fx::profile(p, a).await.unwrap();
    let linkup = fx::linkup(p, a, region).await.unwrap();
    fx::participant(p, linkup, a, "initiator").await.unwrap();

    let tables: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_class
         where relnamespace = 'public'::regnamespace and relkind = 'r' order by 1",
    )
    .fetch_all(p)
    .await
    .unwrap();
    assert!(
        tables.len() >= 30,
        "expected the whole schema, got {tables:?}"
    );
    for table in tables {
        let mut tx = acting_as(p, None).await;
        let count = sqlx::query_scalar::<_, i64>(AssertSqlSafe(format!(
            "select count(*) from public.\"{table}\""
        )))
        .fetch_one(&mut *tx)
        .await;
        match count {
            Ok(n) => assert_eq!(n, 0, "anon sees {n} rows of {table}"),
            Err(e) => assert_eq!(
                fx::sql_state(Err::<(), _>(e)).as_deref(),
                Some("42501"),
                "anon reading {table}"
            ),
        }
        tx.rollback().await.unwrap();
    }
}

#[tokio::test]
async fn every_table_has_row_level_security_enabled() {
    let db = TestDb::migrated().await.unwrap();
    let without: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_class
         where relnamespace = 'public'::regnamespace and relkind = 'r' and not relrowsecurity
           and relname <> '_sqlx_migrations'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert!(without.is_empty(), "tables without RLS: {without:?}");
}
