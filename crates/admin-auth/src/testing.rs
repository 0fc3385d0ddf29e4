//! Test support for admin APIs (cargo feature `test-support`; use it as a dev-dependency only):
//! an admin and a live token for a role, a request carrying that token, an admin service served
//! on a port-0 listener, and the `admin_audit_log` rows an action left.
//!
//! ```ignore
//! use admin_auth::testing;
//! use tonic::service::Routes;
//!
//! let served = testing::serve(Routes::new(SenderAdminApi::new(outbound).into_server())).await;
//! let mut client = SenderAdminClient::new(served.channel);
//! let ops = testing::token(&db.pool, "ops").await;
//! client.pause_sender(testing::authed(request, &ops)).await?;
//! let rows = testing::audit_rows(&db.pool, "sender.pause").await;
//! assert_eq!(rows[0].outcome, None); // `Some("denied")` for a refusal
//! ```
//!
//! Every function panics on failure: in a test, the panic is the failure report. The pool given
//! must be allowed to write `admin_users` and `admin_tokens` (the test database's owner, e.g.
//! `TestDb::pool`), not a service role.

#![allow(clippy::expect_used)] // test support: a panic is the failure report

use sqlx::PgPool;
use tonic::Request;
use tonic::service::Routes;
use tonic::transport::{Channel, Endpoint, Server};
use uuid::Uuid;

/// An admin created for a test and one live token of theirs.
#[derive(Debug, Clone)]
pub struct TestAdmin {
    /// `admin_users.id`.
    pub id: Uuid,
    /// The bearer token (only its SHA-256 is stored).
    pub token: String,
}

/// A live token for the admin `<role>@josh.example` with `role` (`support`, `ops` or
/// `engineering`), created on first use; each call mints another token for the same admin.
pub async fn token(pool: &PgPool, role: &str) -> String {
    admin(pool, &format!("{role}@josh.example"), role)
        .await
        .token
}

/// The admin with `email`, created with `role` or given it, and a fresh live token of theirs.
pub async fn admin(pool: &PgPool, email: &str, role: &str) -> TestAdmin {
    let token = format!("tok-{role}-{}", Uuid::new_v4());
    let id: Uuid = sqlx::query_scalar(
        "with a as (insert into admin_users (email, role) values ($1, $2)
                    on conflict (email) do update set role = excluded.role returning id)
         insert into admin_tokens (admin_user_id, token_sha256) select id, $3 from a
         returning admin_user_id",
    )
    .bind(email)
    .bind(role)
    .bind(crate::token_sha256(&token))
    .fetch_one(pool)
    .await
    .expect("create an admin and a token");
    TestAdmin { id, token }
}

/// `message` with `authorization: Bearer <token>`.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .expect("a token is a valid header value");
    request.metadata_mut().insert("authorization", value);
    request
}

/// A gRPC server running for the rest of the test.
#[derive(Debug, Clone)]
pub struct Served {
    /// `http://127.0.0.1:<port>`, e.g. for a CLI's `*_ADMIN_URL`.
    pub url: String,
    /// A lazy channel to it, for a generated client's `new`.
    pub channel: Channel,
}

/// Serves `routes` (e.g. `Routes::new(api.into_server())`) on a port-0 listener on 127.0.0.1,
/// spawned on the test's runtime.
pub async fn serve(routes: Routes) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a port-0 listener");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the listener's address")
    );
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        Server::builder()
            .add_routes(routes)
            .serve_with_incoming(incoming),
    );
    let channel = Endpoint::from_shared(url.clone())
        .expect("a valid endpoint")
        .connect_lazy();
    Served { url, channel }
}

/// One `admin_audit_log` row.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// Who.
    pub admin_user_id: Option<Uuid>,
    /// What kind of thing was acted on.
    pub target_type: String,
    /// Which.
    pub target_id: Option<Uuid>,
    /// Why.
    pub reason: Option<String>,
    /// `payload->>'outcome'`: `Some("denied")` for a refusal, `None` for a call that went ahead.
    pub outcome: Option<String>,
    /// The whole payload.
    pub payload: serde_json::Value,
}

/// An `admin_audit_log` row as read: who, target type, target id, reason, payload.
type RawAuditRow = (
    Option<Uuid>,
    String,
    Option<Uuid>,
    Option<String>,
    serde_json::Value,
);

/// The audit rows of `action`, oldest first.
pub async fn audit_rows(pool: &PgPool, action: &str) -> Vec<AuditRow> {
    let rows: Vec<RawAuditRow> = sqlx::query_as(
        "select admin_user_id, target_type, target_id, reason, payload from admin_audit_log
          where action = $1 order by created_at, id",
    )
    .bind(action)
    .fetch_all(pool)
    .await
    .expect("read admin_audit_log");
    rows.into_iter()
        .map(
            |(admin_user_id, target_type, target_id, reason, payload)| AuditRow {
                admin_user_id,
                target_type,
                target_id,
                reason,
                outcome: payload
                    .get("outcome")
                    .and_then(|o| o.as_str())
                    .map(str::to_owned),
                payload,
            },
        )
        .collect()
}
