use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::SchemaError;

/// Every migration in `migrations/`, embedded at build time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// The schema version this build needs: the version of the newest embedded migration.
///
/// The newest migration also (re)defines `public.josh_schema_version()` to return this number,
/// so a database migrated with `psql` reports its version just like one migrated by `joshctl`.
pub fn required_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// What a `migrate` call changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    /// Versions applied by this call, oldest first. Empty when the database was up to date.
    pub applied: Vec<i64>,
    /// The schema version the database reports afterwards.
    pub version: Option<i64>,
}

/// Applies every pending migration. Safe to run concurrently (sqlx takes an advisory lock) and
/// repeatedly (applied migrations are skipped; an edited applied migration is an error).
///
/// # Errors
/// Fails when a migration fails (its transaction is rolled back) or the database is unreachable.
#[tracing::instrument(skip_all)]
pub async fn migrate(pool: &PgPool) -> Result<MigrationReport, SchemaError> {
    let before = applied_versions(pool).await?;
    MIGRATOR.run(pool).await?;
    let after = applied_versions(pool).await?;
    let applied: Vec<i64> = after.into_iter().filter(|v| !before.contains(v)).collect();
    let version = live_version(pool).await?;
    tracing::info!(applied = applied.len(), ?version, "migrations applied");
    Ok(MigrationReport { applied, version })
}

/// The version reported by `public.josh_schema_version()`, or `None` before the first migration.
///
/// # Errors
/// Fails when the database cannot be queried.
pub async fn live_version(pool: &PgPool) -> Result<Option<i64>, SchemaError> {
    let exists = sqlx::query_scalar!(
        r#"select to_regprocedure('public.josh_schema_version()') is not null as "exists!""#
    )
    .fetch_one(pool)
    .await?;
    if !exists {
        return Ok(None);
    }
    let version = sqlx::query_scalar!(r#"select public.josh_schema_version() as "version!""#)
        .fetch_one(pool)
        .await?;
    Ok(Some(version))
}

async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>, SchemaError> {
    let exists = sqlx::query_scalar!(
        r#"select to_regclass('public._sqlx_migrations') is not null as "exists!""#
    )
    .fetch_one(pool)
    .await?;
    if !exists {
        return Ok(Vec::new());
    }
    let versions = sqlx::query_scalar!(
        "select version from public._sqlx_migrations where success order by version"
    )
    .fetch_all(pool)
    .await?;
    Ok(versions)
}
