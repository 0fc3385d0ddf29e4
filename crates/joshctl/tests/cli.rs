//! `joshctl migrate` and `joshctl verify-schema` against a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::process::Output;

use testkit::TestDb;

async fn joshctl(db: &TestDb, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_joshctl"))
        .args(args)
        .env_clear()
        .env("DATABASE_URL", db.url())
        .output()
        .await
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn migrate_twice_is_a_no_op_and_verify_passes() {
    let db = TestDb::empty().await.unwrap();
    let first = joshctl(&db, &["migrate"]).await;
    assert!(first.status.success(), "{first:?}");
    let count = schema::MIGRATOR.iter().count();
    assert!(
        stdout(&first).contains(&format!("applied {count} migration(s)")),
        "{}",
        stdout(&first)
    );

    let second = joshctl(&db, &["migrate"]).await;
    assert!(second.status.success());
    assert_eq!(
        stdout(&second).trim(),
        format!(
            "schema up to date at version {}",
            schema::required_version()
        )
    );

    let verify = joshctl(&db, &["verify-schema"]).await;
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(stdout(&verify).starts_with("schema matches"));
}

#[tokio::test]
async fn verify_schema_fails_naming_what_was_dropped() {
    let db = TestDb::migrated().await.unwrap();
    sqlx::query("drop table linkup_outcomes")
        .execute(&db.pool)
        .await
        .unwrap();
    let verify = joshctl(&db, &["verify-schema"]).await;
    assert_eq!(verify.status.code(), Some(1));
    let out = stdout(&verify);
    assert!(
        out.contains("missing:    table public.linkup_outcomes rls=on"),
        "{out}"
    );
    assert!(out.contains("schema drift:"), "{out}");
}

#[tokio::test]
async fn verify_schema_on_an_unmigrated_database_reports_the_version() {
    let db = TestDb::empty().await.unwrap();
    let verify = joshctl(&db, &["verify-schema"]).await;
    assert_eq!(verify.status.code(), Some(1));
    assert!(
        stdout(&verify).contains("database reports none"),
        "{}",
        stdout(&verify)
    );
}

#[tokio::test]
async fn a_missing_database_url_is_a_clear_error() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_joshctl"))
        .arg("migrate")
        .env_clear()
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("DATABASE_URL is missing"));
}

#[tokio::test]
async fn snapshot_of_a_fresh_database_is_the_committed_expectation() {
    let db = TestDb::migrated().await.unwrap();
    let out = joshctl(&db, &["schema-snapshot"]).await;
    assert!(out.status.success());
    let snapshot = schema::Manifest::parse(&stdout(&out));
    assert_eq!(
        snapshot,
        schema::expected(),
        "refresh crates/schema/expected_schema.txt"
    );
}
