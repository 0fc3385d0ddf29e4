//! `joshctl safety list|review` against the router's admin API served in-process on port 0 over
//! a real database: the queue as a table and JSON without the reporter, a review that upholds
//! (a strike) or dismisses, and clear errors for a second review, a role that may not review and
//! a missing token.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use common::{Cli, stderr, stdout};
use testkit::TestDb;

const REPORTER: &str = "+15555550481";
const REPORTED: &str = "+15555550482";

/// Two people and a no-show report of one by the other; the report's id.
async fn setup() -> (Cli, String) {
    let db = TestDb::migrated().await.unwrap();
    sqlx::raw_sql(
        r#"insert into users (phone_e164, phone_hash, first_name, last_name, birthday, state,
                              sms_consent, age_consent, terms_consent, privacy_consent)
             values ('+15555550481', 'hash-481', 'Rae', 'Tester', '1990-05-17', 'active',
                     true, true, true, true),
                    ('+15555550482', 'hash-482', 'Sol', 'Tester', '1991-05-17', 'active',
                     true, true, true, true);
           insert into safety_reports (reporter_user_id, reported_user_id, report_type)
             select a.id, b.id, 'no_show_or_late_cancel' from users a, users b
              where a.phone_e164 = '+15555550481' and b.phone_e164 = '+15555550482';
           insert into safety_incidents (user_id, reporter_phone_hash, incident_type, severity, details)
             select reported_user_id, 'hash-481', 'user_report', 2,
                    jsonb_build_object('report_id', id) from safety_reports;"#,
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let report: String = sqlx::query_scalar("select id::text from safety_reports")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    let served = common::serve_router(&db).await;
    (Cli::new(db).with("ROUTER_ADMIN_URL", &served.url), report)
}

async fn id_of(cli: &Cli, phone: &str) -> String {
    sqlx::query_scalar("select id::text from users where phone_e164 = $1")
        .bind(phone)
        .fetch_one(&cli.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn safety_list_shows_the_queue_without_the_reporter() {
    let (cli, report) = setup().await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let (reporter, reported) = (id_of(&cli, REPORTER).await, id_of(&cli, REPORTED).await);

    let table = cli.run(Some(&ops), &["safety", "list"]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    let out = stdout(&table);
    assert!(out.starts_with("KIND"), "{out}");
    assert!(out.contains(&report) && out.contains(&reported), "{out}");
    assert!(
        out.contains("no_show_or_late_cancel") && out.contains("1 case(s)"),
        "{out}"
    );
    let json = cli
        .run(
            Some(&ops),
            &["safety", "list", "--user", REPORTED, "--json"],
        )
        .await;
    let cases: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases}");
    assert_eq!(cases[0]["kind"], "report");
    assert_eq!(cases[0]["user_id"], reported.as_str());
    for shown in [out, stdout(&json)] {
        assert!(
            !shown.contains(&reporter) && !shown.contains(REPORTER) && !shown.contains("hash-481")
        );
    }
    let about_reporter = cli
        .run(Some(&ops), &["safety", "list", "--user", REPORTER])
        .await;
    assert_eq!(stdout(&about_reporter), "no safety cases\n");
    let bad = cli
        .run(Some(&ops), &["safety", "list", "--status", "closed"])
        .await;
    assert!(stderr(&bad).contains("invalid request"), "{}", stderr(&bad));
    let missing = cli.run(None, &["safety", "list"]).await;
    assert!(
        stderr(&missing).contains("JOSH_ADMIN_TOKEN is missing"),
        "{}",
        stderr(&missing)
    );
}

#[tokio::test]
async fn safety_review_upholds_once_and_refuses_clearly() {
    let (cli, report) = setup().await;
    let ops = cli.token("ops@josh.example", "ops").await;
    let support = cli.token("support@josh.example", "support").await;
    let uphold = [
        "safety",
        "review",
        report.as_str(),
        "--uphold",
        "--reason",
        "venue confirmed",
    ];

    let denied = cli.run(Some(&ops), &uphold).await;
    assert!(!denied.status.success());
    assert!(
        stderr(&denied).contains("permission denied"),
        "{}",
        stderr(&denied)
    );
    let neither = cli
        .run(
            Some(&support),
            &["safety", "review", report.as_str(), "--reason", "x"],
        )
        .await;
    assert!(
        !neither.status.success(),
        "--uphold or --dismiss is required"
    );

    let upheld = cli.run(Some(&support), &uphold).await;
    assert!(upheld.status.success(), "{}", stderr(&upheld));
    assert!(
        stdout(&upheld).contains("upheld: a strike for user")
            && stdout(&upheld).contains("(1 active in 90 days); hold: none"),
        "{}",
        stdout(&upheld)
    );
    let strikes: i64 = sqlx::query_scalar("select count(*) from user_strikes")
        .fetch_one(&cli.db.pool)
        .await
        .unwrap();
    assert_eq!(strikes, 1);

    let dismiss = [
        "safety",
        "review",
        report.as_str(),
        "--dismiss",
        "--reason",
        "again",
        "--json",
    ];
    let again = cli.run(Some(&support), &dismiss).await;
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("refused: report")
            && stderr(&again).contains("already resolved (upheld)"),
        "{}",
        stderr(&again)
    );
    let left = cli.run(Some(&support), &["safety", "list", "--json"]).await;
    assert_eq!(stdout(&left).trim(), "[]", "the queue is empty");
    let resolved = cli
        .run(
            Some(&support),
            &["safety", "list", "--status", "resolved", "--json"],
        )
        .await;
    let cases: serde_json::Value = serde_json::from_str(&stdout(&resolved)).unwrap();
    assert_eq!(cases[0]["status"], "resolved");
}
