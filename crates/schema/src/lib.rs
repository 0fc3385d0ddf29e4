//! JOSH's database schema as code.
//!
//! The SQL lives in `migrations/` at the repository root (plain files that `psql` can also apply in
//! name order). This crate embeds them, applies them, tells services which schema version they
//! need, and compares a live database with the expected shape recorded in `expected_schema.txt`.

mod error;
mod manifest;
mod migrate;
mod snapshot;

pub use error::SchemaError;
pub use manifest::{Drift, Manifest, expected};
pub use migrate::{MIGRATOR, MigrationReport, live_version, migrate, required_version};
pub use snapshot::snapshot;

/// Compares the live database with the expected schema, returning every difference.
///
/// # Errors
/// Fails when the catalog cannot be read.
pub async fn verify(pool: &sqlx::PgPool) -> Result<Drift, SchemaError> {
    let actual = snapshot(pool).await?;
    Ok(expected().diff(&actual))
}
