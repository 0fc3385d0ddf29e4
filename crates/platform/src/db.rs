//! Postgres failures every service treats alike.

/// Whether trying the same work again soon may succeed: the connection broke or could not be
/// had (Postgres restarting, a failover, a full pool), or Postgres gave up on the transaction
/// for a reason that is not about its content (a deadlock, a serialization failure, the server
/// shutting down). Errors about the statement or its data (a constraint, a type, a missing
/// row) fail the same way every time.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| transient_sqlstate(&code)),
        _ => false,
    }
}

/// SQLSTATEs of failures that say nothing about the work itself.
fn transient_sqlstate(code: &str) -> bool {
    // Class 08: connection exceptions.
    code.starts_with("08")
        // serialization_failure, deadlock_detected.
        || matches!(code, "40001" | "40P01")
        // admin_shutdown, crash_shutdown, cannot_connect_now (a server starting or stopping).
        || matches!(code, "57P01" | "57P02" | "57P03")
        // too_many_connections.
        || code == "53300"
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

    use super::*;

    /// The error Postgres gives for `raise exception` with SQLSTATE `code`.
    async fn raised(db: &testkit::TestDb, code: &str) -> sqlx::Error {
        let statement =
            format!("do $$ begin raise exception 'injected' using errcode = '{code}'; end $$");
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&db.pool)
            .await
            .expect_err("the statement raises")
    }

    #[tokio::test]
    async fn connection_and_concurrency_failures_are_transient_content_errors_are_not() {
        let db = testkit::TestDb::empty().await.unwrap();
        for code in [
            "08006", "08001", "40001", "40P01", "57P01", "57P03", "53300",
        ] {
            assert!(is_transient(&raised(&db, code).await), "{code}");
        }
        for code in ["23505", "22P02", "P0001", "42501"] {
            assert!(!is_transient(&raised(&db, code).await), "{code}");
        }
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset
        ))));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
    }
}
