use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Executor, PgConnection, PgPool};

/// Test databases older than this are dropped by later test runs.
// A whole test run leaves hundreds of databases (about 10 MB each): keep them long enough to
// inspect a failure, not so long that a busy afternoon fills the disk.
const STALE_AFTER_SECS: u64 = 30 * 60;
/// Serialises template creation across concurrently running test processes.
const TEMPLATE_LOCK_KEY: i64 = 0x6a6f_7368_7465_7374; // "joshtest"

/// The superuser URL tests connect with: `TEST_DATABASE_URL`, or the local default.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh database for one test.
///
/// [`TestDb::migrated`] clones a template that has every migration applied (built once per
/// migration set, shared by all test processes), so each test starts from the real schema in
/// milliseconds. The database is left behind for inspection and dropped by a later run once stale.
#[derive(Debug)]
pub struct TestDb {
    /// Database name.
    pub name: String,
    /// A pool connected as the superuser.
    pub pool: PgPool,
    options: PgConnectOptions,
}

impl TestDb {
    /// A fresh database with every migration applied.
    ///
    /// # Errors
    /// Fails when Postgres is unreachable or the migrations fail.
    pub async fn migrated() -> anyhow::Result<Self> {
        let mut admin = admin_connection().await?;
        let template = ensure_template(&mut admin).await?;
        Self::create(&mut admin, Some(&template)).await
    }

    /// A fresh, empty database (no migrations).
    ///
    /// # Errors
    /// Fails when Postgres is unreachable.
    pub async fn empty() -> anyhow::Result<Self> {
        let mut admin = admin_connection().await?;
        Self::create(&mut admin, None).await
    }

    async fn create(admin: &mut PgConnection, template: Option<&str>) -> anyhow::Result<Self> {
        drop_stale_databases(admin).await?;
        let name = format!("josh_test_{}_{}", unix_now(), short_id());
        let sql = match template {
            Some(t) => format!(r#"create database "{name}" template "{t}""#),
            None => format!(r#"create database "{name}""#),
        };
        exec(admin, sql).await?;
        let options = admin_options()?.database(&name);
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .connect_with(options.clone())
            .await?;
        Ok(Self {
            name,
            pool,
            options,
        })
    }

    /// The superuser connection URL of this database.
    pub fn url(&self) -> String {
        self.options.to_url_lossy().to_string()
    }

    /// The Postgres server's socket address (for putting a [`crate::ToggleProxy`] in front).
    ///
    /// # Errors
    /// Fails when the host is not an IP address or `localhost`.
    pub fn postgres_addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        let host = match self.options.get_host() {
            "localhost" => "127.0.0.1",
            other => other,
        };
        Ok(format!("{host}:{}", self.options.get_port()).parse()?)
    }

    /// Connection options for this database (superuser).
    pub fn connect_options(&self) -> PgConnectOptions {
        self.options.clone()
    }

    /// A pool whose connections act as `role` (e.g. `josh_billing`, `authenticated`): every
    /// connection runs `SET ROLE` first, so the role's grants and RLS policies apply.
    ///
    /// # Errors
    /// Fails when the role does not exist or the database is unreachable.
    pub async fn pool_as(&self, role: &str) -> anyhow::Result<PgPool> {
        let set_role = format!(r#"set role "{}""#, role.replace('"', ""));
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .after_connect(move |conn, _| {
                let set_role = AssertSqlSafe(set_role.clone());
                Box::pin(async move {
                    conn.execute(set_role).await?;
                    Ok(())
                })
            })
            .connect_with(self.options.clone())
            .await?;
        Ok(pool)
    }
}

fn admin_options() -> anyhow::Result<PgConnectOptions> {
    Ok(admin_url()
        .parse::<PgConnectOptions>()?
        .disable_statement_logging())
}

async fn admin_connection() -> anyhow::Result<PgConnection> {
    Ok(PgConnection::connect_with(&admin_options()?).await?)
}

/// Creates the migrated template for the current migration set unless it exists.
async fn ensure_template(admin: &mut PgConnection) -> anyhow::Result<String> {
    let name = format!("josh_tpl_{}", migration_set_hash());
    sqlx::query("select pg_advisory_lock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut *admin)
        .await?;
    let result = build_template_if_missing(admin, &name).await;
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(TEMPLATE_LOCK_KEY)
        .execute(&mut *admin)
        .await?;
    result.map(|()| name)
}

async fn build_template_if_missing(admin: &mut PgConnection, name: &str) -> anyhow::Result<()> {
    if database_exists(admin, name).await? {
        return Ok(());
    }
    // Build under a temporary name and rename at the end, so a crash never leaves a half-migrated
    // template behind under the real name.
    let building = format!("{name}_building");
    exec(
        admin,
        format!(r#"drop database if exists "{building}" with (force)"#),
    )
    .await?;
    exec(admin, format!(r#"create database "{building}""#)).await?;
    {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(admin_options()?.database(&building))
            .await?;
        schema::migrate(&pool).await?;
        pool.close().await;
    }
    exec(
        admin,
        format!(r#"alter database "{building}" rename to "{name}""#),
    )
    .await?;
    // Older templates belong to older migration sets.
    let old: Vec<String> = sqlx::query_scalar(
        "select datname from pg_database where datname like 'josh\\_tpl\\_%' and datname <> $1",
    )
    .bind(name)
    .fetch_all(&mut *admin)
    .await?;
    for db in old {
        exec(
            admin,
            format!(r#"drop database if exists "{db}" with (force)"#),
        )
        .await?;
    }
    Ok(())
}

async fn database_exists(admin: &mut PgConnection, name: &str) -> anyhow::Result<bool> {
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut *admin)
            .await?;
    Ok(exists)
}

async fn drop_stale_databases(admin: &mut PgConnection) -> anyhow::Result<()> {
    let names: Vec<String> =
        sqlx::query_scalar("select datname from pg_database where datname like 'josh\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await?;
    let cutoff = unix_now().saturating_sub(STALE_AFTER_SECS);
    for name in names {
        let created = name
            .split('_')
            .nth(2)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if created < cutoff {
            // Another process may be dropping it too; that is fine.
            let _ = exec(
                admin,
                format!(r#"drop database if exists "{name}" with (force)"#),
            )
            .await;
        }
    }
    Ok(())
}

/// Identifies the migration set by the checksums of every embedded migration.
fn migration_set_hash() -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for m in schema::MIGRATOR.iter() {
        for b in m.version.to_le_bytes().iter().chain(m.checksum.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// Runs one dynamic statement (database names cannot be bind parameters).
async fn exec(admin: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(admin)
        .await
        .map(|_| ())
}
