//! `joshctl admin token create`, `user show` (its router part), `user delete`, `hold` and
//! `region open|close` against the router's admin API served in-process on port 0 over a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use admin_auth::testing;
use common::{Cli, stderr, stdout};
use testkit::TestDb;

const PHONE: &str = "+15555550401";

async fn setup() -> Cli {
    let db = TestDb::migrated().await.unwrap();
    sqlx::raw_sql(
        r#"insert into regions (slug, display_name, state, geometry) values
             ('oak', 'Oakland', 'waitlisted', '{}');
           insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state,
                              sms_consent, age_consent, terms_consent, privacy_consent, region_id)
             select '+15555550401', 'hash-401', 'Eve', 'Tester', '1990-05-17', 'verified',
                    true, true, true, true, id from regions where slug = 'oak';
           insert into region_memberships (user_id, region_id, status)
             select u.id, u.region_id, 'waitlisted' from users u;"#,
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let served = common::serve_router(&db).await;
    // Only the router runs here (tests/user_show.rs serves all five); the others are "down".
    let nowhere = "http://127.0.0.1:9";
    Cli::new(db)
        .with("ROUTER_ADMIN_URL", &served.url)
        .with("MATCHER_ADMIN_URL", nowhere)
        .with("BILLING_ADMIN_URL", nowhere)
        .with("INBOUND_ADMIN_URL", nowhere)
        .with("SENDER_ADMIN_URL", nowhere)
}

#[tokio::test]
async fn token_create_prints_a_token_once_and_stores_only_its_hash() {
    let cli = setup().await;
    let token = cli.token("ops@josh.example", "ops").await;
    assert!(token.len() >= 32, "{token}");
    let stored: Vec<String> = sqlx::query_scalar("select token_sha256 from admin_tokens")
        .fetch_all(&cli.db.pool)
        .await
        .unwrap();
    assert_eq!(stored, vec![admin_auth::token_sha256(&token)]);
    let again = cli.token("ops@josh.example", "ops").await;
    assert_ne!(
        again, token,
        "each call mints a fresh token for the same admin"
    );
    let admins: i64 = sqlx::query_scalar("select count(*) from admin_users")
        .fetch_one(&cli.db.pool)
        .await
        .unwrap();
    assert_eq!(admins, 1);
    let bad = cli
        .run(
            None,
            &[
                "admin",
                "token",
                "create",
                "--email",
                "x@josh.example",
                "--role",
                "root",
            ],
        )
        .await;
    assert!(!bad.status.success());
}

#[tokio::test]
async fn user_show_hold_and_region_open_talk_to_the_admin_api_with_clear_errors() {
    let cli = setup().await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let support = cli.token("support@josh.example", "support").await;

    let shown = cli
        .run(Some(&support), &["user", "show", PHONE, "--json"])
        .await;
    assert_eq!(shown.status.code(), Some(3), "partial: {}", stderr(&shown));
    let view: serde_json::Value = serde_json::from_str(&stdout(&shown)).unwrap();
    let view = &view["conversation-router"];
    assert_eq!(view["state"], "verified");
    assert_eq!(view["region"], "oak");
    assert_eq!(view["region_membership"], "waitlisted");
    let table = cli.run(Some(&support), &["user", "show", PHONE]).await;
    assert!(
        stdout(&table).contains("state      verified"),
        "{}",
        stdout(&table)
    );

    let missing = cli.run(None, &["user", "show", PHONE]).await;
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("JOSH_ADMIN_TOKEN is missing"),
        "{}",
        stderr(&missing)
    );
    let unknown = cli.run(Some("nope"), &["user", "show", PHONE]).await;
    assert!(
        stderr(&unknown).contains("not authenticated"),
        "{}",
        stderr(&unknown)
    );
    let nobody = cli.run(Some(&ops), &["user", "show", "+15555550499"]).await;
    assert!(stderr(&nobody).contains("not found"), "{}", stderr(&nobody));

    let hard = ["hold", PHONE, "--state", "hard", "--reason", "threats"];
    let raised = cli.run(Some(&support), &hard).await;
    assert!(
        stdout(&raised).contains("hold none -> hard_hold"),
        "{}",
        stderr(&raised)
    );
    let clear = ["hold", PHONE, "--state", "none", "--reason", "appeal"];
    let denied = cli.run(Some(&support), &clear).await;
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );
    assert_eq!(
        stderr(&denied).lines().count(),
        1,
        "one line: {}",
        stderr(&denied)
    );
    let cleared = cli.run(Some(&ops), &clear).await;
    assert!(
        stdout(&cleared).contains("hold hard_hold -> none"),
        "{}",
        stderr(&cleared)
    );

    let open = ["region", "open", "oak", "--reason", "launch"];
    let refused = cli.run(Some(&support), &open).await;
    assert!(
        stderr(&refused).contains("permission denied"),
        "{}",
        stderr(&refused)
    );
    let opened = cli.run(Some(&ops), &open).await;
    assert!(
        stdout(&opened).contains("1 waitlisted member(s) activated"),
        "{}",
        stderr(&opened)
    );

    let close = ["region", "close", "oak", "--reason", "storm"];
    let refused = cli.run(Some(&support), &close).await;
    assert!(
        stderr(&refused).contains("permission denied"),
        "{}",
        stderr(&refused)
    );
    let closed = cli.run(Some(&ops), &close).await;
    assert!(
        stdout(&closed).contains("region oak is closed (paused)"),
        "{}",
        stderr(&closed)
    );
    let again = cli
        .run(Some(&ops), &[&close[..], &["--json"]].concat())
        .await;
    let again: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(again["already_closed"], true);
    let nowhere = cli
        .run(Some(&ops), &["region", "close", "nyc", "--reason", "x"])
        .await;
    assert!(
        stderr(&nowhere).contains("not found"),
        "{}",
        stderr(&nowhere)
    );
    let resumed = cli.run(Some(&ops), &open).await;
    assert!(
        stdout(&resumed).contains("region oak is open (resumed); 0 waitlisted"),
        "{}",
        stderr(&resumed)
    );
    let audited: Vec<(String, Option<String>)> = sqlx::query_as(
        "select action, payload->>'outcome' from admin_audit_log order by created_at, id",
    )
    .fetch_all(&cli.db.pool)
    .await
    .unwrap();
    let denied = audited
        .iter()
        .filter(|(_, o)| o.as_deref() == Some("denied"));
    assert_eq!(
        (audited.len(), denied.count()),
        (11, 3),
        "2 views, 2 hold changes, 2 opens, 2 closes and the 3 refusals: {audited:?}"
    );
}

#[tokio::test]
async fn token_list_shows_no_secret_and_a_revoked_token_is_refused_at_once() {
    let cli = setup().await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let support = cli.token("support@josh.example", "support").await;
    let used = cli.run(Some(&ops), &["user", "show", PHONE]).await;
    // 3: the router answered; the other services do not run here.
    assert_eq!(used.status.code(), Some(3), "{}", stderr(&used));

    let listed = cli.run(None, &["admin", "token", "list", "--json"]).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(!text.contains(&ops) && !text.contains(&support), "{text}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    let by_email = |email: &str| {
        rows.iter()
            .find(|r| r["email"] == email)
            .cloned()
            .unwrap_or_else(|| panic!("{email} not listed: {text}"))
    };
    let (ops_row, support_row) = (
        by_email("ops@josh.example"),
        by_email("support@josh.example"),
    );
    assert_eq!(ops_row["role"], "ops");
    assert!(ops_row["last_used_at"].is_string(), "{ops_row}");
    assert!(support_row["last_used_at"].is_null(), "{support_row}");
    assert!(ops_row["revoked_at"].is_null());
    let table = cli.run(None, &["admin", "token", "list"]).await;
    assert!(
        stdout(&table).contains("LAST USED") && stdout(&table).contains("support@josh.example"),
        "{}",
        stdout(&table)
    );

    let id = ops_row["id"].as_str().unwrap();
    let no_reason = cli
        .run(None, &["admin", "token", "revoke", id, "--reason", " "])
        .await;
    assert!(!no_reason.status.success());
    let revoked = cli
        .run(
            None,
            &["admin", "token", "revoke", id, "--reason", "laptop lost"],
        )
        .await;
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let refused = cli.run(Some(&ops), &["user", "show", PHONE]).await;
    assert!(
        stderr(&refused).contains("not authenticated"),
        "{}",
        stderr(&refused)
    );
    let still = cli.run(Some(&support), &["user", "show", PHONE]).await;
    assert_eq!(still.status.code(), Some(3), "other tokens keep working");
    let unknown = cli
        .run(
            None,
            &[
                "admin",
                "token",
                "revoke",
                &uuid::Uuid::new_v4().to_string(),
                "--reason",
                "x",
            ],
        )
        .await;
    assert!(
        stderr(&unknown).contains("no token"),
        "{}",
        stderr(&unknown)
    );

    let audit: (Option<uuid::Uuid>, String, Option<uuid::Uuid>) = sqlx::query_as(
        "select admin_user_id, reason, target_id from admin_audit_log
          where action = 'admin.token_revoke'",
    )
    .fetch_one(&cli.db.pool)
    .await
    .unwrap();
    assert_eq!(audit.0, None, "joshctl on the database is no API admin");
    assert_eq!(audit.1, "laptop lost");
    assert_eq!(audit.2.map(|u| u.to_string()).as_deref(), Some(id));
}

#[tokio::test]
async fn user_delete_needs_ops_and_a_reason_and_scrubs_the_account() {
    let cli = setup().await;
    let support = cli.token("sam@josh.example", "support").await;
    let ops = cli.token("olu@josh.example", "ops").await;
    let delete = ["user", "delete", PHONE, "--reason", "ticket 4711"];

    let unauthenticated = cli.run(None, &delete).await;
    assert!(!unauthenticated.status.success());
    let refused = cli.run(Some(&support), &delete).await;
    assert!(
        stderr(&refused).contains("permission denied"),
        "{}",
        stderr(&refused)
    );
    let no_reason = cli.run(Some(&ops), &["user", "delete", PHONE]).await;
    assert!(!no_reason.status.success(), "--reason is required");
    let kept: i64 = sqlx::query_scalar("select count(*) from users where phone_e164 = $1")
        .bind(PHONE)
        .fetch_one(&cli.db.pool)
        .await
        .unwrap();
    assert_eq!(kept, 1, "refusals change nothing");

    let deleted = cli.run(Some(&ops), &delete).await;
    assert!(
        stdout(&deleted).contains(": deleted;"),
        "{}",
        stderr(&deleted)
    );
    let row: (String, String, i64) = sqlx::query_as(
        "select state::text, first_name, (select count(*) from users where phone_e164 = $1)
           from users where phone_hash like 'deleted:%'",
    )
    .bind(PHONE)
    .fetch_one(&cli.db.pool)
    .await
    .unwrap();
    assert_eq!(row, ("deleted".to_owned(), "Deleted".to_owned(), 0));
    let audited: Vec<(Option<String>, Option<String>)> =
        testing::audit_rows(&cli.db.pool, "user.delete")
            .await
            .into_iter()
            .map(|row| (row.outcome, row.reason))
            .collect();
    assert_eq!(
        audited,
        vec![
            (Some("denied".to_owned()), None),
            (None, Some("ticket 4711".to_owned()))
        ]
    );
}
