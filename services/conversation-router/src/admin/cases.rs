//! `ListSafetyCases` and `ReviewReport`: the safety review queue (product-rules §9).
//!
//! The queue lists reports (REPORT by SMS) and incidents about a user, never the reporter: no
//! reporter id or phone leaves this module. An incident a report opened (`user_report`) shows as
//! its report. Reviewing a report resolves it and its incident with the decision in their details.
//! An upheld report, whatever its type, adds one strike to the reported person through
//! [`screening::strike`], the path of keyword strikes, so the escalation is the same (3 active in
//! 90 days: a 7-day soft hold; 4 or more: a hard hold); they are texted the paused text when it
//! escalated, else a warning. A dismissed report adds nothing. A resolved report is never
//! reviewed again (no second strike). A soft hold a report of inappropriate behaviour put on at
//! filing stays as it is either way: lowering it is `SetHold`'s.

use proto::v1::SmsPurpose;
use rpc::admin::v1 as api;
use sqlx::{PgConnection, PgPool};
use tonic::Status;
use uuid::Uuid;

use super::UserRef;
use crate::Context;
use crate::copy;
use crate::error::RouterError;
use crate::replies::{self, Origin, Recipient, Reply};
use crate::screening::{self, Cause, Struck};
use crate::store::identity::{self, Contact};
use crate::store::{cases as store, safety};
use admin_auth::{Admin, AuditEntry, internal};

/// Cases listed at most (and by default).
const MAX_CASES: u32 = 200;

/// Lists the cases with `status` (none: open and reviewing), about `user` when given, audited
/// as `safety.list`.
pub(super) async fn list(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    status: Option<&str>,
    user: Option<UserRef<'_>>,
    limit: u32,
) -> Result<api::ListSafetyCasesResponse, Status> {
    let now = ctx.clock.now();
    let limit = if limit == 0 {
        MAX_CASES
    } else {
        limit.min(MAX_CASES)
    };
    let mut tx = pool.begin().await.map_err(internal)?;
    let user_id = match user {
        Some(u) => Some(u.resolve(&mut tx).await?.0),
        None => None,
    };
    let rows = store::list(&mut tx, status, user_id, i64::from(limit))
        .await
        .map_err(internal)?;
    let mut entry = AuditEntry::new(admin, "safety.list", "safety_case")
        .with("status", status.unwrap_or("open,reviewing"))
        .with("count", rows.len());
    if let Some(id) = user_id {
        entry = entry.target(id);
    }
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    let cases = rows
        .into_iter()
        .map(|r| api::SafetyCase {
            severity: r
                .severity
                .unwrap_or_else(|| store::report_severity(&r.case_type)),
            user_id: r.user_id.map(|u| u.to_string()).unwrap_or_default(),
            created_at: Some(proto::timestamp::to_timestamp(r.created_at)),
            age_seconds: (now - r.created_at).whole_seconds().max(0),
            kind: r.kind,
            id: r.id.to_string(),
            case_type: r.case_type,
            status: r.status,
        })
        .collect();
    Ok(api::ListSafetyCasesResponse { cases })
}

/// Reviews the report (`uphold` or dismiss), audited as `safety.review`; a resolved report is
/// `FAILED_PRECONDITION` (the refusal audited too).
pub(super) async fn review(
    pool: &PgPool,
    ctx: &Context,
    admin: &Admin,
    report_id: Uuid,
    uphold: bool,
    reason: &str,
) -> Result<api::ReviewReportResponse, Status> {
    let now = ctx.clock.now();
    let decision = if uphold { "upheld" } else { "dismissed" };
    let mut tx = pool.begin().await.map_err(internal)?;
    let report = store::report_for_update(&mut tx, report_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| Status::not_found("no such report"))?;
    let entry = AuditEntry::new(admin, "safety.review", "safety_report")
        .target(report_id)
        .reason(reason)
        .with("decision", decision)
        .with("report_type", report.report_type.clone());
    if report.status == "resolved" {
        tx.rollback().await.map_err(internal)?;
        let before = report.decision.unwrap_or_else(|| "resolved".to_owned());
        admin_auth::audit_denied(pool, entry.with("previous_decision", before.clone())).await;
        return Err(Status::failed_precondition(format!(
            "report {report_id} is already resolved ({before}); nothing changed"
        )));
    }
    let outcome = apply(&mut tx, ctx, report_id, &report, uphold)
        .await
        .map_err(internal)?;
    let struck = outcome.struck;
    let (active, hold) = (outcome.active, outcome.hold);
    let review = serde_json::json!({
        "decision": decision, "review_reason": reason, "reviewed_by": admin.id,
        "reviewed_at": now.unix_timestamp(), "strike_added": struck.is_some(),
    });
    store::resolve_report(&mut tx, report_id, &review, now)
        .await
        .map_err(internal)?;
    let user_id = outcome.user_id.map(|u| u.to_string()).unwrap_or_default();
    let entry = entry
        .with("user_id", user_id.clone())
        .with("strike_added", struck.is_some())
        .with("active_strike_points", active)
        .with("hold_state", hold.clone());
    admin_auth::audit(&mut tx, &entry).await.map_err(internal)?;
    tx.commit().await.map_err(internal)?;
    tracing::info!(admin = %admin.id, report = %report_id, decision, "admin reviewed a report");
    Ok(api::ReviewReportResponse {
        report_id: report_id.to_string(),
        decision: decision.to_owned(),
        user_id,
        strike_added: struck.is_some(),
        active_strike_points: active,
        hold_state: hold,
    })
}

/// What a review did to the reported person.
struct Outcome {
    /// The reported person, none when their account is gone.
    user_id: Option<Uuid>,
    /// The strike of an upheld report.
    struck: Option<Struck>,
    /// Their active strike points after the review.
    active: i64,
    /// Their hold after the review.
    hold: String,
}

/// The strike of an upheld report about a live account, and the person's standing after it.
async fn apply(
    tx: &mut PgConnection,
    ctx: &Context,
    report_id: Uuid,
    report: &store::ReportRow,
    uphold: bool,
) -> Result<Outcome, RouterError> {
    let reported = match report.reported_user_id {
        Some(id) => identity::contacts(tx, &[id]).await?.into_iter().next(),
        None => None,
    };
    let Some(user) = reported else {
        return Ok(Outcome {
            user_id: None,
            struck: None,
            active: 0,
            hold: "none".to_owned(),
        });
    };
    let struck = if uphold {
        Some(strike(tx, ctx, report_id, &report.report_type, &user).await?)
    } else {
        None
    };
    let now = ctx.clock.now();
    Ok(Outcome {
        user_id: Some(user.id),
        struck,
        active: store::active_points(tx, user.id, now).await?,
        hold: safety::hold_state(tx, user.id, now).await?,
    })
}

/// The strike of an upheld report, and its text to the reported person: the paused text when the
/// strikes escalated to a hold, else a warning.
async fn strike(
    tx: &mut PgConnection,
    ctx: &Context,
    report_id: Uuid,
    report_type: &str,
    user: &Contact,
) -> Result<Struck, RouterError> {
    let origin = Origin::job(ctx.clock.now());
    let envelope = proto::Envelope {
        event_id: origin.correlation_id.clone(),
        correlation_id: origin.correlation_id.clone(),
        occurred_at: origin.occurred_at,
        ..proto::Envelope::default()
    };
    let key = format!("report-review:{report_id}");
    let cause = Cause {
        envelope: &envelope,
        key: &key,
        partition: &user.phone_hash,
    };
    let why = (
        format!("report_{report_type}"),
        format!("upheld report {report_id}"),
    );
    let struck = screening::strike(tx, ctx, &cause, user.id, (&why.0, &why.1)).await?;
    let text = match struck.escalated_to {
        Some(_) => copy::ACCOUNT_PAUSED,
        None => copy::REPORT_UPHELD_WARNING,
    };
    let to = Recipient {
        user_id: Some(user.id),
        phone_e164: &user.phone_e164,
        phone_hash: &user.phone_hash,
    };
    let reply = Reply::with_purpose(text, SmsPurpose::Safety);
    replies::send(
        tx,
        &ctx.keyring,
        &origin,
        &to,
        &reply,
        format!("{key}:text"),
    )
    .await?;
    Ok(struck)
}
