//! `joshctl admin token create|list|revoke`: admin API tokens, straight on `DATABASE_URL` (the
//! break-glass path: whoever holds the database credentials manages tokens). Only a token's
//! SHA-256 is stored; `create` prints the token once, `list` never shows a secret.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use sqlx::PgPool;

/// `joshctl admin ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AdminCommand {
    /// Admin API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `joshctl admin token ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create the admin (if missing) and print a fresh token once.
    Create {
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// support, ops or engineering.
        #[arg(long)]
        role: String,
    },
    /// Every token: id, admin, role, created, last used, revoked (never the token).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: calls with it are refused at once.
    Revoke {
        /// The token's id, as `list` shows it.
        id: uuid::Uuid,
        /// Why (written to the audit log).
        #[arg(long)]
        reason: String,
    },
}

/// Runs `joshctl admin ...`.
pub(crate) async fn run(pool: &PgPool, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let AdminCommand::Token(command) = command;
    match command {
        TokenCommand::Create { email, role } => create(pool, &email, &role).await,
        TokenCommand::List { json } => list(pool, json).await,
        TokenCommand::Revoke { id, reason } => revoke(pool, id, &reason).await,
    }
}

/// Inserts the admin if missing and prints a fresh token once (only its SHA-256 is stored).
async fn create(pool: &PgPool, email: &str, role: &str) -> anyhow::Result<ExitCode> {
    if !matches!(role, "support" | "ops" | "engineering") {
        anyhow::bail!("--role must be support, ops or engineering (not {role:?})");
    }
    let token = crypto::MagicLinkToken::generate().context("cannot generate a token")?;
    let mut tx = pool.begin().await?;
    let (admin_id, stored_role) = sqlx::query!(
        "with ins as (insert into admin_users (email, role) values ($1, $2)
                        on conflict (email) do nothing returning id, role)
         select id as \"id!\", role as \"role!\" from ins
         union all select id, role from admin_users where email = $1
         limit 1",
        email,
        role
    )
    .fetch_one(&mut *tx)
    .await
    .map(|r| (r.id, r.role))
    .context("cannot create the admin user")?;
    if stored_role != role {
        anyhow::bail!("{email} already exists with role {stored_role}, not {role}");
    }
    sqlx::query!(
        "insert into admin_tokens (admin_user_id, token_sha256) values ($1, $2)",
        admin_id,
        token.hash()
    )
    .execute(&mut *tx)
    .await
    .context("cannot store the token")?;
    tx.commit().await?;
    eprintln!("token for {email} ({role}); it is shown once, store it now:");
    println!("{}", token.as_str());
    Ok(ExitCode::SUCCESS)
}

/// One token as `list` shows it.
struct TokenRow {
    id: uuid::Uuid,
    email: String,
    role: String,
    created_at: time::OffsetDateTime,
    last_used_at: Option<time::OffsetDateTime>,
    revoked_at: Option<time::OffsetDateTime>,
}

async fn list(pool: &PgPool, json: bool) -> anyhow::Result<ExitCode> {
    let rows = sqlx::query_as!(
        TokenRow,
        r#"select t.id, u.email::text as "email!", u.role, t.created_at, t.last_used_at,
                  t.revoked_at
             from admin_tokens t join admin_users u on u.id = t.admin_user_id
            order by t.created_at, t.id"#
    )
    .fetch_all(pool)
    .await
    .context("cannot list the tokens")?;
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id.to_string(), "email": r.email, "role": r.role,
                    "created_at": rfc3339(Some(r.created_at)),
                    "last_used_at": r.last_used_at.map(|t| rfc3339(Some(t))),
                    "revoked_at": r.revoked_at.map(|t| rfc3339(Some(t))),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn table(rows: &[TokenRow]) -> String {
    let mut out = format!(
        "{:<36}  {:<28}  {:<11}  {:<20}  {:<20}  {:<20}\n",
        "ID", "ADMIN", "ROLE", "CREATED", "LAST USED", "REVOKED"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<36}  {:<28}  {:<11}  {:<20}  {:<20}  {:<20}",
            r.id,
            r.email,
            r.role,
            rfc3339(Some(r.created_at)),
            rfc3339(r.last_used_at),
            rfc3339(r.revoked_at)
        );
    }
    out
}

fn rfc3339(at: Option<time::OffsetDateTime>) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&format).ok())
        .unwrap_or_else(|| "-".to_owned())
}

/// Revokes the token (idempotent) and audits it as `admin.token_revoke`. The audit row has no
/// admin: the caller is whoever holds the database credentials, not an API admin.
async fn revoke(pool: &PgPool, id: uuid::Uuid, reason: &str) -> anyhow::Result<ExitCode> {
    let reason = reason.trim();
    anyhow::ensure!(!reason.is_empty(), "--reason must not be blank");
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"update admin_tokens t set revoked_at = coalesce(t.revoked_at, now())
            from admin_users u
           where t.id = $1 and u.id = t.admin_user_id
          returning u.email::text as "email!", t.admin_user_id"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await
    .context("cannot revoke the token")?
    .with_context(|| format!("no token {id} (joshctl admin token list shows them)"))?;
    sqlx::query!(
        "insert into admin_audit_log (admin_user_id, action, target_type, target_id, reason, payload)
         values (null, 'admin.token_revoke', 'admin_token', $1, $2, $3)",
        id,
        reason,
        serde_json::json!({ "via": "joshctl", "token_admin_user_id": row.admin_user_id.to_string() })
    )
    .execute(&mut *tx)
    .await
    .context("cannot audit the revocation")?;
    tx.commit().await?;
    println!("token {id} of {} is revoked", row.email);
    Ok(ExitCode::SUCCESS)
}
