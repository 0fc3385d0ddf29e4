//! The safety review queue of the router's admin API: `ListSafetyCases` for every role with the
//! reporter never shown, and `ReviewReport`: an upheld report strikes through the keyword path
//! (and escalates), a dismissed one adds nothing, a resolved one is refused, ops may not review,
//! no token is refused, every call is audited.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use admin_auth::testing::{self, authed};
use common::Router;
use conversation_router::admin::RouterAdminApi;
use conversation_router::copy;
use rpc::admin::v1 as api;
use rpc::admin::v1::router_admin_client::RouterAdminClient;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

type Client = RouterAdminClient<Channel>;

const ANN: &str = "+15555550391";
const BEN: &str = "+15555550392";
const CY: &str = "+15555550393";

async fn serve(router: &Router) -> Client {
    let api = RouterAdminApi::new(router.pool.clone(), router.ctx.clone());
    RouterAdminClient::new(testing::serve(Routes::new(api.into_server())).await.channel)
}

async fn token(router: &Router, role: &str) -> String {
    testing::token(&router.db.pool, role).await
}

async fn count(r: &Router, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&r.db.pool)
        .await
        .unwrap()
}

/// Ann, Ben and Cy met at a LinkUp; Ben reports Cy (`kind`: A..D) by SMS. The report's id.
async fn ben_reports_cy(r: &Router, kind: &str) -> String {
    r.met(&[(ANN, "Ann"), (BEN, "Ben"), (CY, "Cy")]).await;
    let names = r.text(BEN, "report").await;
    let cy_index = if names[0].contains("1 Cy") { "1" } else { "2" };
    assert_eq!(r.text(BEN, cy_index).await, [copy::ASK_REPORT_WHAT]);
    assert_eq!(r.text(BEN, kind).await, [copy::REPORT_FILED]);
    r.new_replies().await;
    r.scalar_text("select id::text from safety_reports")
        .await
        .unwrap()
}

/// `n` active strikes for `phone`, as medium keywords would have left them.
async fn strikes(r: &Router, phone: &str, n: i64) {
    sqlx::query(
        "insert into user_strikes (user_id, strike_type, points, reason, window_start, window_end)
         select $1, 'safety_keyword', 1, 'earlier', $3, $3 + interval '90 days'
           from generate_series(1, $2)",
    )
    .bind(r.user_id(phone).await)
    .bind(n)
    .bind(r.ctx.clock.now())
    .execute(&r.db.pool)
    .await
    .unwrap();
}

fn review(id: &str, decision: api::ReviewDecision, reason: &str) -> api::ReviewReportRequest {
    api::ReviewReportRequest {
        report_id: id.to_owned(),
        decision: decision.into(),
        reason: reason.to_owned(),
    }
}

fn list(status: &str) -> api::ListSafetyCasesRequest {
    api::ListSafetyCasesRequest {
        status: status.to_owned(),
        ..api::ListSafetyCasesRequest::default()
    }
}

#[tokio::test]
async fn every_role_lists_the_open_cases_without_the_reporter() {
    let r = Router::new().await;
    let mut client = serve(&r).await;
    let report = ben_reports_cy(&r, "C").await;
    // A medium keyword from Ann opens an incident about her.
    r.text(ANN, "i hate you").await;
    let (ben, cy, ann) = (
        r.user_id(BEN).await,
        r.user_id(CY).await,
        r.user_id(ANN).await,
    );

    for role in ["support", "ops", "engineering"] {
        let t = token(&r, role).await;
        let cases = client
            .list_safety_cases(authed(list(""), &t))
            .await
            .unwrap()
            .into_inner()
            .cases;
        assert_eq!(
            cases.len(),
            2,
            "{role}: the report and the keyword incident: {cases:?}"
        );
        assert_eq!(cases[0].kind, "incident", "newest first");
        assert_eq!(cases[0].user_id, ann.to_string());
        assert_eq!(cases[1].kind, "report");
        assert_eq!(cases[1].id, report);
        assert_eq!(cases[1].case_type, "no_show_or_late_cancel");
        assert_eq!((cases[1].severity, cases[1].status.as_str()), (2, "open"));
        assert_eq!(cases[1].user_id, cy.to_string());
        let shown = format!("{cases:?}");
        assert!(
            !shown.contains(&ben.to_string()),
            "the reporter's id never shows"
        );
        assert!(!shown.contains(BEN) && !shown.contains(&Router::hash(BEN)));
    }
    let support = token(&r, "support").await;
    let about_cy = api::ListSafetyCasesRequest {
        user: Some(api::list_safety_cases_request::User::PhoneE164(
            CY.to_owned(),
        )),
        ..list("")
    };
    let cases = client
        .list_safety_cases(authed(about_cy, &support))
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0].id, report);
    let resolved = client
        .list_safety_cases(authed(list("resolved"), &support))
        .await
        .unwrap()
        .into_inner();
    assert!(resolved.cases.is_empty());
    let bad = client
        .list_safety_cases(authed(list("closed"), &support))
        .await;
    assert_eq!(bad.unwrap_err().code(), Code::InvalidArgument);
    let no_token = client.list_safety_cases(list("")).await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let rows = testing::audit_rows(&r.db.pool, "safety.list").await;
    assert_eq!(
        rows.len(),
        5,
        "three roles, Cy's filter, resolved: {rows:?}"
    );
    assert_eq!(rows[3].target_id, Some(cy));
    assert_eq!(rows[3].payload["count"], 1);
}

#[tokio::test]
async fn an_upheld_report_is_a_strike_that_escalates_and_is_reviewed_once() {
    let r = Router::new().await;
    let mut client = serve(&r).await;
    let report = ben_reports_cy(&r, "C").await;
    strikes(&r, CY, 2).await;
    let cy = r.user_id(CY).await;
    let (ops, support) = (token(&r, "ops").await, token(&r, "support").await);

    let refused = client
        .review_report(authed(
            review(&report, api::ReviewDecision::Uphold, "no-show"),
            &ops,
        ))
        .await;
    assert_eq!(refused.unwrap_err().code(), Code::PermissionDenied);
    let no_token = client
        .review_report(review(&report, api::ReviewDecision::Uphold, "no-show"))
        .await;
    assert_eq!(no_token.unwrap_err().code(), Code::Unauthenticated);
    let no_reason = client
        .review_report(authed(
            review(&report, api::ReviewDecision::Uphold, " "),
            &support,
        ))
        .await;
    assert_eq!(no_reason.unwrap_err().code(), Code::InvalidArgument);
    let strikes_of_cy = format!("select count(*) from user_strikes where user_id = '{cy}'");
    assert_eq!(
        count(&r, &strikes_of_cy).await,
        2,
        "refusals change nothing"
    );

    let upheld = client
        .review_report(authed(
            review(
                &report,
                api::ReviewDecision::Uphold,
                "confirmed with the venue",
            ),
            &support,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(upheld.strike_added);
    assert_eq!(upheld.decision, "upheld");
    assert_eq!(upheld.user_id, cy.to_string());
    assert_eq!(
        (upheld.active_strike_points, upheld.hold_state.as_str()),
        (3, "soft_hold")
    );
    assert_eq!(count(&r, &strikes_of_cy).await, 3);
    let kind = r
        .scalar_text(&format!(
            "select strike_type from user_strikes where user_id = '{cy}' order by created_at desc, id limit 1"
        ))
        .await;
    assert_eq!(kind.as_deref(), Some("report_no_show_or_late_cancel"));
    let expires = count(
        &r,
        &format!("select extract(day from expires_at - applied_at)::bigint from safety_holds where user_id = '{cy}'"),
    )
    .await;
    assert_eq!(expires, 7, "the third strike is a 7-day soft hold");
    let sent = r.new_replies().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].command.to_e164.as_str(), sent[0].text.as_str()),
        (CY, copy::ACCOUNT_PAUSED)
    );
    let status = r
        .scalar_text(&format!(
            "select status || '/' || (details->>'decision') from safety_reports where id = '{report}'"
        ))
        .await;
    assert_eq!(status.as_deref(), Some("resolved/upheld"));
    let incident = format!(
        "select count(*) from safety_incidents where details->>'report_id' = '{report}' and status = 'resolved'"
    );
    assert_eq!(count(&r, &incident).await, 1);

    let engineering = token(&r, "engineering").await;
    let again = client
        .review_report(authed(
            review(&report, api::ReviewDecision::Uphold, "again"),
            &engineering,
        ))
        .await;
    assert_eq!(again.unwrap_err().code(), Code::FailedPrecondition);
    assert_eq!(count(&r, &strikes_of_cy).await, 3, "no second strike");
    assert!(r.new_replies().await.is_empty());

    let rows = testing::audit_rows(&r.db.pool, "safety.review").await;
    let outcomes: Vec<Option<&str>> = rows.iter().map(|a| a.outcome.as_deref()).collect();
    assert_eq!(outcomes, [Some("denied"), None, Some("denied")], "{rows:?}");
    assert_eq!(rows[1].reason.as_deref(), Some("confirmed with the venue"));
    assert_eq!(
        rows[1].target_id.map(|t| t.to_string()),
        Some(report.clone())
    );
    assert_eq!(rows[1].payload["decision"], "upheld");
    assert_eq!(rows[1].payload["strike_added"], true);
    assert_eq!(rows[2].payload["previous_decision"], "upheld");
}

#[tokio::test]
async fn a_dismissal_adds_nothing_a_first_strike_warns_and_a_fourth_hard_holds() {
    let r = Router::new().await;
    let mut client = serve(&r).await;
    let report = ben_reports_cy(&r, "D").await;
    let cy = r.user_id(CY).await;
    let engineering = token(&r, "engineering").await;

    let dismissed = client
        .review_report(authed(
            review(&report, api::ReviewDecision::Dismiss, "no evidence"),
            &engineering,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!dismissed.strike_added);
    assert_eq!(
        (
            dismissed.active_strike_points,
            dismissed.hold_state.as_str()
        ),
        (0, "none")
    );
    assert_eq!(
        count(
            &r,
            &format!("select count(*) from user_strikes where user_id = '{cy}'")
        )
        .await,
        0
    );
    assert!(r.new_replies().await.is_empty(), "nobody is texted");
    let status = r
        .scalar_text(&format!("select status || '/' || (details->>'decision') from safety_reports where id = '{report}'"))
        .await;
    assert_eq!(status.as_deref(), Some("resolved/dismissed"));
    let open = client
        .list_safety_cases(authed(list(""), &engineering))
        .await
        .unwrap()
        .into_inner();
    assert!(
        open.cases.is_empty(),
        "a reviewed report leaves the queue: {:?}",
        open.cases
    );

    // A second report about Cy, upheld: one strike, a warning and no hold.
    sqlx::query(
        "insert into safety_reports (reporter_user_id, reported_user_id, report_type)
         values ($1, $2, 'no_show_or_late_cancel')",
    )
    .bind(r.user_id(ANN).await)
    .bind(cy)
    .execute(&r.db.pool)
    .await
    .unwrap();
    let second = r
        .scalar_text("select id::text from safety_reports where status = 'open'")
        .await
        .unwrap();
    let upheld = client
        .review_report(authed(
            review(&second, api::ReviewDecision::Uphold, "late cancel"),
            &engineering,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (upheld.active_strike_points, upheld.hold_state.as_str()),
        (1, "none")
    );
    let sent = r.new_replies().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::REPORT_UPHELD_WARNING);
    // Two more strikes (keywords), then a third report upheld: the 4th strike is a hard hold.
    strikes(&r, CY, 2).await;
    sqlx::query(
        "insert into safety_reports (reporter_user_id, reported_user_id, report_type)
         values ($1, $2, 'uncomfortable')",
    )
    .bind(r.user_id(ANN).await)
    .bind(cy)
    .execute(&r.db.pool)
    .await
    .unwrap();
    let third = r
        .scalar_text("select id::text from safety_reports where status = 'open'")
        .await
        .unwrap();
    let hard = client
        .review_report(authed(
            review(&third, api::ReviewDecision::Uphold, "pattern"),
            &engineering,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (hard.active_strike_points, hard.hold_state.as_str()),
        (4, "hard_hold")
    );
    let sent = r.new_replies().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].text, copy::ACCOUNT_PAUSED);
    let missing = client
        .review_report(authed(
            review(
                &uuid::Uuid::now_v7().to_string(),
                api::ReviewDecision::Dismiss,
                "x",
            ),
            &engineering,
        ))
        .await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);
}
