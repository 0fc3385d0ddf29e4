//! Migrations apply to an empty database, re-apply as a no-op, also apply as plain SQL in file
//! name order (as `psql` would), and `verify` catches drift.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::PathBuf;

use testkit::TestDb;

fn migration_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_again_as_a_no_op() {
    let db = TestDb::empty().await.unwrap();
    let first = schema::migrate(&db.pool).await.unwrap();
    let all: Vec<i64> = schema::MIGRATOR.iter().map(|m| m.version).collect();
    assert_eq!(first.applied, all);
    assert_eq!(first.version, Some(schema::required_version()));

    let second = schema::migrate(&db.pool).await.unwrap();
    assert!(
        second.applied.is_empty(),
        "second run applied {:?}",
        second.applied
    );
    assert!(schema::verify(&db.pool).await.unwrap().is_empty());
}

#[tokio::test]
async fn migration_files_are_named_by_timestamp_and_description() {
    for file in migration_files() {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let (stamp, rest) = name.split_once('_').unwrap();
        assert_eq!(stamp.len(), 14, "{name}: expected YYYYMMDDHHMMSS_");
        assert!(stamp.chars().all(|c| c.is_ascii_digit()), "{name}");
        assert!(rest.ends_with(".sql") && rest.len() > 4, "{name}");
    }
}

#[tokio::test]
async fn the_newest_migration_reports_its_own_version() {
    let newest = migration_files()
        .last()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()[..14]
        .parse::<i64>()
        .unwrap();
    assert_eq!(schema::required_version(), newest);
    let db = TestDb::migrated().await.unwrap();
    assert_eq!(schema::live_version(&db.pool).await.unwrap(), Some(newest));
}

#[tokio::test]
async fn plain_sql_in_file_order_gives_the_same_schema_and_can_be_re_applied() {
    let db = TestDb::empty().await.unwrap();
    for round in 0..2 {
        for file in migration_files() {
            let sql = std::fs::read_to_string(&file).unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&db.pool)
                .await
                .unwrap_or_else(|e| panic!("round {round}: {}: {e}", file.display()));
        }
    }
    let drift = schema::verify(&db.pool).await.unwrap();
    assert!(drift.is_empty(), "plain-SQL schema differs:\n{drift}");
    assert_eq!(
        schema::live_version(&db.pool).await.unwrap(),
        Some(schema::required_version())
    );
}

#[tokio::test]
async fn verify_names_a_dropped_table_and_a_dropped_index() {
    let db = TestDb::migrated().await.unwrap();
    assert!(schema::verify(&db.pool).await.unwrap().is_empty());

    sqlx::query("drop index users_region_idx")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("drop table user_strikes")
        .execute(&db.pool)
        .await
        .unwrap();
    let drift = schema::verify(&db.pool).await.unwrap();

    let missing = drift.missing.join("\n");
    assert!(
        missing.contains("index public.users_region_idx:"),
        "{drift}"
    );
    assert!(
        missing.contains("table public.user_strikes rls=on"),
        "{drift}"
    );
    assert!(drift.unexpected.is_empty(), "{drift}");
}

#[tokio::test]
async fn verify_names_an_unexpected_index_and_a_disabled_rls_flag() {
    let db = TestDb::migrated().await.unwrap();
    sqlx::query("create index surprise_idx on users (first_name)")
        .execute(&db.pool)
        .await
        .unwrap();
    sqlx::query("alter table profiles disable row level security")
        .execute(&db.pool)
        .await
        .unwrap();
    let drift = schema::verify(&db.pool).await.unwrap();
    assert!(
        drift
            .unexpected
            .iter()
            .any(|l| l.starts_with("index public.surprise_idx:")),
        "{drift}"
    );
    assert!(
        drift
            .unexpected
            .contains(&"table public.profiles rls=off".to_owned()),
        "{drift}"
    );
    assert!(
        drift
            .missing
            .contains(&"table public.profiles rls=on".to_owned()),
        "{drift}"
    );
}
