//! The safety review queue: reports and incidents as cases, and a report's review.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

/// One case of the queue. Never carries the reporter.
#[derive(Debug, Clone)]
pub struct CaseRow {
    /// `report` or `incident`.
    pub kind: String,
    /// The report's or incident's id.
    pub id: Uuid,
    /// The report's or incident's type.
    pub case_type: String,
    /// An incident's severity; none for a report (see [`report_severity`]).
    pub severity: Option<i32>,
    /// Who the case is about (the reported user, the incident's subject).
    pub user_id: Option<Uuid>,
    /// `open`, `reviewing` or `resolved`.
    pub status: String,
    /// When it was filed or opened.
    pub created_at: OffsetDateTime,
}

/// The severity of a report's incident: 3 for inappropriate behaviour, else 2.
pub fn report_severity(report_type: &str) -> i32 {
    if report_type == "inappropriate" { 3 } else { 2 }
}

/// Cases with `status` (none: open and reviewing), about `user` when given, newest first.
/// Incidents opened by a report (`user_report`) are listed as their report.
#[tracing::instrument(skip_all, fields(status, limit))]
pub async fn list(
    tx: &mut PgConnection,
    status: Option<&str>,
    user: Option<Uuid>,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    sqlx::query_as!(
        CaseRow,
        r#"select c.kind as "kind!", c.id as "id!", c.case_type as "case_type!", c.severity,
                  c.user_id, c.status as "status!", c.created_at as "created_at!"
           from (
             select 'report' as kind, r.id, r.report_type as case_type, null::int as severity,
                    r.reported_user_id as user_id, r.status, r.created_at
               from safety_reports r
             union all
             select 'incident', i.id, i.incident_type, i.severity, i.user_id, i.status, i.created_at
               from safety_incidents i where i.incident_type <> 'user_report'
           ) c
           where (($1::text is null and c.status in ('open', 'reviewing')) or c.status = $1)
             and ($2::uuid is null or c.user_id = $2)
           order by c.created_at desc, c.id desc
           limit $3"#,
        status,
        user,
        limit
    )
    .fetch_all(&mut *tx)
    .await
}

/// A report as its review needs it.
#[derive(Debug, Clone)]
pub struct ReportRow {
    /// The reported user, none when their account is gone.
    pub reported_user_id: Option<Uuid>,
    /// e.g. `no_show_or_late_cancel`.
    pub report_type: String,
    /// `open`, `reviewing` or `resolved`.
    pub status: String,
    /// `details->>'decision'` of a reviewed report.
    pub decision: Option<String>,
}

/// The report, locked for its review.
#[tracing::instrument(skip_all)]
pub async fn report_for_update(
    tx: &mut PgConnection,
    id: Uuid,
) -> Result<Option<ReportRow>, sqlx::Error> {
    sqlx::query_as!(
        ReportRow,
        r#"select reported_user_id, report_type, status, details->>'decision' as decision
           from safety_reports where id = $1 for update"#,
        id
    )
    .fetch_optional(&mut *tx)
    .await
}

/// Resolves the report and its incident, merging `review` into their details.
#[tracing::instrument(skip_all)]
pub async fn resolve_report(
    tx: &mut PgConnection,
    id: Uuid,
    review: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update safety_reports set status = 'resolved', details = details || $2, updated_at = $3
          where id = $1",
        id,
        review,
        now
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update safety_incidents set status = 'resolved', details = details || $2, updated_at = $3
          where incident_type = 'user_report' and details->>'report_id' = $1::uuid::text
            and status <> 'resolved'",
        id,
        review,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The user's strike points active at `now` (strikes decay after 90 days).
#[tracing::instrument(skip_all)]
pub async fn active_points(
    tx: &mut PgConnection,
    user_id: Uuid,
    now: OffsetDateTime,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select coalesce(sum(points), 0)::bigint as "points!" from user_strikes
           where user_id = $1 and window_end > $2"#,
        user_id,
        now
    )
    .fetch_one(&mut *tx)
    .await
}
