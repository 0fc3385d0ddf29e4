/// Errors from applying or inspecting the schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A migration could not be applied (or an applied one was edited afterwards).
    #[error("applying migrations failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database could not be queried.
    #[error("reading the database catalog failed")]
    Database(#[from] sqlx::Error),
}
