//! BLOCK, REPORT and DELETE (product-rules §9, issue 5). BLOCK and REPORT pick from the people
//! of the user's past LinkUps (a numbered list); a block is permanent and excludes both ways in
//! matching; a report (A inappropriate, B uncomfortable, C no-show or late cancel, D other)
//! opens an incident, keeps the reporter anonymous, and a serious one (A) puts the reported
//! person on a soft hold until reviewed. DELETE soft-deletes the account and scrubs it.

use proto::v1::{HoldReason, ReportFiled, ReportType, UserBlocked};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::Context;
use crate::commands::{DIALOG_TTL, Pending};
use crate::copy;
use crate::error::RouterError;
use crate::events;
use crate::pipeline::Inbound;
use crate::replies::Reply;
use crate::screening::{self, Hold};
use crate::store::identity::User;
use crate::store::safety::{self as store, NewIncident};
use crate::store::{accounts, sessions};
use crate::text::answers;

/// BLOCK: the numbered list of people met.
pub async fn start_block(
    tx: &mut PgConnection,
    ctx: &Context,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let people = accounts::past_companions(tx, user.id).await?;
    if people.is_empty() {
        return Ok(vec![Reply::say(copy::NOBODY_TO_PICK)]);
    }
    let names: Vec<String> = people.iter().map(|p| p.1.clone()).collect();
    let expires = ctx.clock.now() + DIALOG_TTL;
    sessions::set_mode(
        tx,
        user.id,
        "idle",
        &Pending::Block { people }.token(),
        Some(expires),
    )
    .await?;
    Ok(vec![Reply::say(copy::ask_block(&names))])
}

/// REPORT: the numbered list of people met.
pub async fn start_report(
    tx: &mut PgConnection,
    ctx: &Context,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let people = accounts::past_companions(tx, user.id).await?;
    if people.is_empty() {
        return Ok(vec![Reply::say(copy::NOBODY_TO_PICK)]);
    }
    let names: Vec<String> = people.iter().map(|p| p.1.clone()).collect();
    let expires = ctx.clock.now() + DIALOG_TTL;
    let pending = Pending::Report { people, who: None };
    sessions::set_mode(tx, user.id, "idle", &pending.token(), Some(expires)).await?;
    Ok(vec![Reply::say(copy::ask_report_who(&names))])
}

/// The pick of a BLOCK.
pub async fn block(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    people: &[(Uuid, String, Uuid)],
) -> Result<Option<Vec<Reply>>, RouterError> {
    let Some(i) = answers::choice(msg.text, people.len()) else {
        return Ok(None);
    };
    let (blocked, name, linkup) = &people[i];
    if accounts::block(tx, user.id, *blocked).await? {
        let fact = UserBlocked {
            blocker_user_id: user.id.to_string(),
            blocked_user_id: blocked.to_string(),
            linkup_id: linkup.to_string(),
            blocked_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
        };
        let key = format!("blocked:{}:{blocked}", user.id);
        events::publish(tx, msg.envelope, fact, key, &user.id.to_string()).await?;
    }
    sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
    Ok(Some(vec![Reply::say(copy::blocked(name))]))
}

/// The answers of a REPORT: who, then what.
pub async fn report(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
    people: &[(Uuid, String, Uuid)],
    who: Option<usize>,
) -> Result<Option<Vec<Reply>>, RouterError> {
    let Some(who) = who else {
        let Some(i) = answers::choice(msg.text, people.len()) else {
            return Ok(None);
        };
        let pending = Pending::Report {
            people: people.to_vec(),
            who: Some(i),
        };
        let expires = ctx.clock.now() + DIALOG_TTL;
        sessions::set_mode(tx, user.id, "idle", &pending.token(), Some(expires)).await?;
        return Ok(Some(vec![Reply::say(copy::ASK_REPORT_WHAT)]));
    };
    let Some(kind) = answers::choice(msg.text, 4) else {
        return Ok(None);
    };
    let (reported, _, linkup) = &people[who];
    let report_type = [
        ReportType::Inappropriate,
        ReportType::Uncomfortable,
        ReportType::NoShowOrLateCancel,
        ReportType::Other,
    ][kind];
    let label = report_type
        .as_str_name()
        .trim_start_matches("REPORT_TYPE_")
        .to_lowercase();
    let details = serde_json::json!({ "report_type": label, "linkup_id": linkup, "message_sid": msg.message_sid });
    let report_id = accounts::file_report(tx, user.id, *reported, &label, &details).await?;
    let incident = NewIncident {
        user_id: Some(*reported),
        phone_hash: msg.phone_hash,
        incident_type: "user_report",
        severity: crate::store::cases::report_severity(&label),
        details: serde_json::json!({ "report_id": report_id, "report_type": label }),
    };
    let incident_id = store::open_incident(tx, &incident).await?;
    let fact = ReportFiled {
        report_id: report_id.to_string(),
        reporter_user_id: user.id.to_string(),
        reported_user_id: reported.to_string(),
        report_type: report_type.into(),
        linkup_id: linkup.to_string(),
        incident_id: incident_id.to_string(),
        filed_at: Some(proto::timestamp::to_timestamp(ctx.clock.now())),
    };
    events::publish(
        tx,
        msg.envelope,
        fact,
        format!("report:{report_id}"),
        &user.id.to_string(),
    )
    .await?;
    if report_type == ReportType::Inappropriate {
        let hold = Hold::indefinite("soft_hold", HoldReason::Report);
        let cause = screening::Cause::of(msg);
        screening::hold(tx, ctx, &cause, *reported, &hold, &incident_id.to_string()).await?;
    }
    sessions::set_mode(tx, user.id, "idle", "idle", None).await?;
    Ok(Some(vec![Reply::say(copy::REPORT_FILED)]))
}

/// DELETE confirmed: the account is deleted everywhere; the last text JOSH sends this person.
pub async fn delete_account(
    tx: &mut PgConnection,
    ctx: &Context,
    msg: &Inbound<'_>,
    user: &User,
) -> Result<Vec<Reply>, RouterError> {
    let by = crate::deletion::DeletedBy::Person;
    crate::deletion::delete_account(tx, ctx, msg.envelope, user.id, by).await?;
    Ok(vec![Reply::say(copy::DELETED)])
}
