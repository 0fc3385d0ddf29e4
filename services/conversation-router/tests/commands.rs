//! Commands that work at any time: MENU, PAUSE/RESUME, PROFILE, DELETE, BLOCK, REPORT.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;

const ANN: &str = "+15555550191";
const BEN: &str = "+15555550192";
const CY: &str = "+15555550193";

async fn met(r: &Router) -> uuid::Uuid {
    r.met(&[(ANN, "Ann"), (BEN, "Ben"), (CY, "Cy")]).await
}

async fn count(r: &Router, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&r.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn pause_resume_and_menu() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    assert_eq!(r.text(ANN, "MENU").await, [copy::MENU]);
    assert_eq!(r.text(ANN, "pause").await, [copy::PAUSED]);
    let paused = r
        .scalar_text("select preferences ->> 'invites_paused' from profiles")
        .await;
    assert_eq!(paused.as_deref(), Some("true"));
    assert_eq!(r.text(ANN, "Resume").await, [copy::RESUMED]);
    let paused = r
        .scalar_text("select preferences ->> 'invites_paused' from profiles")
        .await;
    assert_eq!(paused.as_deref(), Some("false"));
}

#[tokio::test]
async fn profile_in_two_texts() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    assert_eq!(
        r.text(ANN, "PROFILE").await,
        [
            copy::profile_summary(
                &["brunch".to_owned(), "coffee".to_owned(), "walk".to_owned()],
                &["morning".to_owned(), "weekend".to_owned()],
                Some("4-6")
            ),
            copy::profile_details(&[], false)
        ]
    );
}

#[tokio::test]
async fn commands_work_mid_interview_and_the_interview_goes_on() {
    let r = Router::new().await;
    r.register(ANN, "Ann", "94110").await;
    r.text(ANN, "coffee, walk, brunch").await;
    assert_eq!(r.text(ANN, "pause").await, [copy::PAUSED]);
    let replies = r.text(ANN, "1").await;
    assert_eq!(
        replies,
        [copy::ASK_MOTIVE],
        "the interview resumes where it was"
    );
}

#[tokio::test]
async fn delete_asks_first_then_scrubs_everything_personal() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    assert_eq!(r.text(ANN, "DELETE").await, [copy::CONFIRM_DELETE]);
    assert_eq!(r.text(ANN, "no").await, [copy::DELETE_KEPT]);
    assert_eq!(
        count(&r, "select count(*) from users where deleted_at is null").await,
        1
    );
    assert_eq!(
        r.text(ANN, "delete my account").await,
        [copy::CONFIRM_DELETE]
    );
    assert_eq!(r.text(ANN, "DELETE").await, [copy::DELETED]);
    let row = r
        .scalar_text("select concat_ws('|', state, first_name, last_name, email, zip_code, birthday, phone_hash like 'deleted:%', phone_e164 like '+999%') from users")
        .await
        .unwrap();
    assert_eq!(row, "deleted|Deleted|Deleted|1900-01-01|t|t");
    assert_eq!(
        count(
            &r,
            "select count(*) from profiles where fingerprint = '{}' and activity_patterns = '[]'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&r, "select count(*) from conversation_sessions").await,
        0
    );
    // The number is a stranger again.
    assert_eq!(r.text(ANN, "hi").await, [copy::REGISTER_WELCOME]);
}

#[tokio::test]
async fn block_someone_met() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    assert_eq!(r.text(ANN, "block").await, [copy::NOBODY_TO_PICK]);
    let linkup = met(&r).await;
    let names = r.text(ANN, "BLOCK").await;
    assert!(
        names[0].starts_with("Who do you want to block? 1 "),
        "{names:?}"
    );
    let pick = if names[0].contains("1 Ben") {
        ("1", "Ben")
    } else {
        ("2", "Ben")
    };
    assert_eq!(r.text(ANN, pick.0).await, [copy::blocked(pick.1)]);
    let ben = r.user_id(BEN).await;
    assert_eq!(
        count(
            &r,
            &format!("select count(*) from user_blocks where blocked_user_id = '{ben}'")
        )
        .await,
        1
    );
    let fact = r.published("safety.user_blocked").await;
    assert_eq!(fact.len(), 1);
    let proto::Payload::UserBlocked(b) = &fact[0] else {
        panic!()
    };
    assert_eq!(b.linkup_id, linkup.to_string());
}

#[tokio::test]
async fn a_serious_report_holds_the_reported_person_and_keeps_the_reporter_anonymous() {
    let r = Router::new().await;
    met(&r).await;
    let names = r.text(BEN, "report").await;
    assert!(names[0].starts_with("Who are you reporting?"), "{names:?}");
    let cy_index = if names[0].contains("1 Cy") { "1" } else { "2" };
    assert_eq!(r.text(BEN, cy_index).await, [copy::ASK_REPORT_WHAT]);
    assert_eq!(r.text(BEN, "A").await, [copy::REPORT_FILED]);
    let cy = r.user_id(CY).await;
    assert_eq!(
        count(
            &r,
            "select count(*) from safety_reports where report_type = 'inappropriate'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&r, &format!("select count(*) from safety_incidents where user_id = '{cy}' and incident_type = 'user_report'")).await,
        1
    );
    let hold = r
        .scalar_text(&format!(
            "select state::text from safety_holds where user_id = '{cy}'"
        ))
        .await;
    assert_eq!(hold.as_deref(), Some("soft_hold"));
    assert_eq!(r.published("safety.report_filed").await.len(), 1);
    // Cy can still text (a soft hold), but cannot start a LinkUp.
    assert_eq!(
        r.text(CY, "coffee sat morning").await,
        [copy::LINKUP_ON_HOLD]
    );
}
