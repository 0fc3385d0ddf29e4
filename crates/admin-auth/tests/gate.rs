//! The gate over a real database: a live token authenticates, a role outside the allowed set is
//! refused and audited, a missing, unknown or revoked token is refused, logged and counted but
//! not audited.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use admin_auth::{AuditEntry, Role};
use sqlx::PgPool;
use testkit::TestDb;
use tonic::Code;
use tonic::metadata::MetadataMap;

/// The service role the gate runs as in these tests.
const SERVICE_ROLE: &str = "josh_linkup_matcher";

async fn token(db: &TestDb, role: &str) -> (uuid::Uuid, String) {
    let token = format!("tok-{role}-{}", uuid::Uuid::new_v4());
    let id: uuid::Uuid = sqlx::query_scalar(
        "with a as (insert into admin_users (email, role) values ($1, $2) returning id)
         insert into admin_tokens (admin_user_id, token_sha256) select id, $3 from a
         returning admin_user_id",
    )
    .bind(format!("{role}-{}@josh.example", uuid::Uuid::new_v4()))
    .bind(role)
    .bind(admin_auth::token_sha256(&token))
    .fetch_one(&db.pool)
    .await
    .unwrap();
    (id, token)
}

fn bearer(token: &str) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
    metadata
}

async fn audit_rows(pool: &PgPool) -> Vec<(Option<uuid::Uuid>, String, String, serde_json::Value)> {
    sqlx::query_as(
        "select admin_user_id, action, target_type, payload from admin_audit_log order by created_at",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_role_outside_the_allowed_set_is_refused_and_audited() {
    let db = TestDb::migrated().await.unwrap();
    let pool = db.pool_as(SERVICE_ROLE).await.unwrap();
    let (support_id, support) = token(&db, "support").await;
    let (ops_id, ops) = token(&db, "ops").await;

    let admin = admin_auth::authorize(&pool, &bearer(&ops), Role::OPERATORS, "thing.change")
        .await
        .unwrap();
    assert_eq!((admin.id, admin.role), (ops_id, Role::Ops));
    let stamped: Option<time::OffsetDateTime> =
        sqlx::query_scalar("select last_used_at from admin_tokens where id = $1")
            .bind(admin.token_id)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert!(stamped.is_some(), "authenticating stamps last_used_at");
    assert!(
        audit_rows(&db.pool).await.is_empty(),
        "allowing writes nothing"
    );

    let refused =
        admin_auth::authorize(&pool, &bearer(&support), Role::OPERATORS, "thing.change").await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let rows = audit_rows(&db.pool).await;
    assert_eq!(rows.len(), 1);
    let (who, action, target_type, payload) = &rows[0];
    assert_eq!(*who, Some(support_id));
    assert_eq!(
        (action.as_str(), target_type.as_str()),
        ("thing.change", "request")
    );
    assert_eq!(payload["outcome"], "denied");
    assert_eq!(payload["role"], "support");
}

#[tokio::test]
async fn an_unauthenticated_call_is_refused_counted_and_not_audited() {
    let metrics = platform::metrics::prometheus();
    let db = TestDb::migrated().await.unwrap();
    let pool = db.pool_as(SERVICE_ROLE).await.unwrap();
    let (_, ops) = token(&db, "ops").await;

    for metadata in [MetadataMap::new(), bearer("not-a-token"), bearer(" ")] {
        let refused = admin_auth::authorize(&pool, &metadata, Role::ANY, "thing.view").await;
        assert_eq!(refused.unwrap_err().code(), Code::Unauthenticated);
    }
    sqlx::query("update admin_tokens set revoked_at = now()")
        .execute(&db.pool)
        .await
        .unwrap();
    let revoked = admin_auth::authorize(&pool, &bearer(&ops), Role::ANY, "thing.view").await;
    assert_eq!(revoked.unwrap_err().code(), Code::Unauthenticated);

    assert!(audit_rows(&db.pool).await.is_empty(), "nobody to attribute");
    let rendered = metrics.render();
    for (reason, n) in [("missing", 2), ("unknown", 2)] {
        let line = format!(
            "{}{{action=\"thing.view\",reason=\"{reason}\"}} {n}",
            admin_auth::UNAUTHENTICATED_METRIC
        );
        assert!(rendered.contains(&line), "{line} not in:\n{rendered}");
    }
}

#[tokio::test]
async fn audit_entries_carry_the_admin_role_target_reason_and_payload() {
    let db = TestDb::migrated().await.unwrap();
    let pool = db.pool_as(SERVICE_ROLE).await.unwrap();
    let (_, ops) = token(&db, "ops").await;
    let admin = admin_auth::authenticate(&pool, &bearer(&ops))
        .await
        .unwrap();
    let target = uuid::Uuid::new_v4();
    let mut tx = pool.begin().await.unwrap();
    let entry = AuditEntry::new(&admin, "thing.change", "thing")
        .target(target)
        .reason("because")
        .with("count", 3);
    admin_auth::audit(&mut tx, &entry).await.unwrap();
    tx.commit().await.unwrap();
    let row: (Option<uuid::Uuid>, Option<String>, serde_json::Value) = sqlx::query_as(
        "select target_id, reason, payload from admin_audit_log where action = 'thing.change'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(row.0, Some(target));
    assert_eq!(row.1.as_deref(), Some("because"));
    assert_eq!(row.2, serde_json::json!({"role": "ops", "count": 3}));
}
