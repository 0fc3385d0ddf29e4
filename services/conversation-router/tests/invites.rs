//! Invite replies and the post-event questions, driven by the matcher's facts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Router;
use conversation_router::copy;
use proto::Payload;
use proto::v1::{
    Attendance, ContactChoice, InviteClosed, InviteReply, InviteSent, LinkupCompleted,
};

const ANN: &str = "+15555550171";
const BEN: &str = "+15555550172";
const CY: &str = "+15555550173";

/// Ann and Ben are members; Ann started a coffee LinkUp (Sat morning). Returns it and Ben's id.
async fn ann_asks_ben(r: &Router) -> (uuid::Uuid, uuid::Uuid) {
    r.onboard(ANN, "Ann").await;
    r.onboard(BEN, "Ben").await;
    let linkup = r.linkup(ANN, "coffee", "SAT_MORNING").await;
    (linkup, r.user_id(BEN).await)
}

fn invite(invite: uuid::Uuid, linkup: uuid::Uuid, user: uuid::Uuid) -> InviteSent {
    InviteSent {
        invite_id: invite.to_string(),
        linkup_id: linkup.to_string(),
        invited_user_id: user.to_string(),
        wave: 1,
        ..InviteSent::default()
    }
}

async fn replies_published(r: &Router) -> Vec<proto::v1::InviteReplied> {
    r.published("linkup.invite_replied")
        .await
        .into_iter()
        .map(|p| match p {
            Payload::InviteReplied(e) => e,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn yes_to_one_invite_becomes_invite_replied_once() {
    let r = Router::new().await;
    let (linkup, ben) = ann_asks_ben(&r).await;
    let invite_id = uuid::Uuid::new_v4();
    let fact = invite(invite_id, linkup, ben);
    assert!(
        r.react(fact.clone()).await.is_empty(),
        "the matcher sends the invite text"
    );
    assert!(
        r.react(fact).await.is_empty(),
        "a second delivery adds nothing"
    );
    let mode = r
        .scalar_text(&format!(
            "select mode::text from conversation_sessions where user_id = '{ben}'"
        ))
        .await;
    assert_eq!(mode.as_deref(), Some("awaiting_invite_reply"));

    assert_eq!(
        r.text(BEN, "Yep!").await,
        [copy::invite_accepted("coffee Sat morning")]
    );
    let sent = replies_published(&r).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].invite_id, invite_id.to_string());
    assert_eq!(sent[0].reply(), InviteReply::Accept);
    assert_eq!(sent[0].user_id, ben.to_string());
    // Nothing pending any more: a second yes is not a reply to anything.
    assert_eq!(r.text(BEN, "yes").await, [copy::MENU]);
    assert_eq!(replies_published(&r).await.len(), 1);
}

#[tokio::test]
async fn two_pending_invites_and_a_yes_asks_which_one() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    r.onboard(BEN, "Ben").await;
    let coffee = r.linkup(ANN, "coffee", "SAT_MORNING").await;
    let walk = r.linkup(ANN, "walk", "SUN_AFTERNOON").await;
    let ben = r.user_id(BEN).await;
    let (first, second) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    r.react(invite(first, coffee, ben)).await;
    r.react(invite(second, walk, ben)).await;
    assert_eq!(
        r.text(BEN, "yes").await,
        [copy::which_invite(&[
            "coffee Sat morning".to_owned(),
            "walk Sun afternoon".to_owned()
        ])]
    );
    assert_eq!(
        r.text(BEN, "2").await,
        [copy::invite_accepted("walk Sun afternoon")]
    );
    assert_eq!(r.text(BEN, "nah").await, [copy::INVITE_DECLINED]);
    let sent = replies_published(&r).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(
        (sent[0].invite_id.clone(), sent[0].reply()),
        (second.to_string(), InviteReply::Accept)
    );
    assert_eq!(
        (sent[1].invite_id.clone(), sent[1].reply()),
        (first.to_string(), InviteReply::Decline)
    );
}

/// Closes Ben's invite before he answered it (the group filled).
async fn closed_before_ben_answered(r: &Router) -> uuid::Uuid {
    let (linkup, ben) = ann_asks_ben(r).await;
    let invite_id = uuid::Uuid::new_v4();
    r.react(invite(invite_id, linkup, ben)).await;
    r.react(InviteClosed {
        invite_id: invite_id.to_string(),
        linkup_id: linkup.to_string(),
        user_id: ben.to_string(),
        had_replied: false,
        ..InviteClosed::default()
    })
    .await;
    invite_id
}

#[tokio::test]
async fn a_late_yes_to_a_closed_invite_reaches_the_matcher_once() {
    let r = Router::new().await;
    let invite_id = closed_before_ben_answered(&r).await;
    // The matcher answers a late yes ("that one already filled"): the router adds nothing.
    assert!(r.text(BEN, "yes").await.is_empty());
    let sent = replies_published(&r).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].invite_id.clone(), sent[0].reply()),
        (invite_id.to_string(), InviteReply::Accept)
    );
    // Answered once: a second yes is not a reply to anything.
    assert_eq!(r.text(BEN, "yes").await, [copy::MENU]);
    assert_eq!(replies_published(&r).await.len(), 1);
}

#[tokio::test]
async fn a_late_no_to_a_closed_invite_is_thanked() {
    let r = Router::new().await;
    closed_before_ben_answered(&r).await;
    assert_eq!(r.text(BEN, "no").await, [copy::INVITE_DECLINED]);
    let sent = replies_published(&r).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].reply(), InviteReply::Decline);
}

#[tokio::test]
async fn an_invite_closed_after_a_reply_is_not_answered_again() {
    let r = Router::new().await;
    let (linkup, ben) = ann_asks_ben(&r).await;
    let invite_id = uuid::Uuid::new_v4();
    r.react(invite(invite_id, linkup, ben)).await;
    r.text(BEN, "no").await;
    r.react(InviteClosed {
        invite_id: invite_id.to_string(),
        linkup_id: linkup.to_string(),
        user_id: ben.to_string(),
        had_replied: true,
        ..InviteClosed::default()
    })
    .await;
    assert_eq!(r.text(BEN, "yes").await, [copy::MENU]);
    assert_eq!(replies_published(&r).await.len(), 1);
}

#[tokio::test]
async fn after_the_event_attendance_do_again_feedback_and_contacts() {
    let r = Router::new().await;
    for (phone, name) in [(ANN, "Ann"), (BEN, "Ben"), (CY, "Cy")] {
        r.onboard(phone, name).await;
    }
    let linkup = r.linkup(ANN, "board_games", "SAT_AFTERNOON").await;
    let ids = [
        r.user_id(ANN).await,
        r.user_id(BEN).await,
        r.user_id(CY).await,
    ];
    let sent = r
        .react(LinkupCompleted {
            linkup_id: linkup.to_string(),
            participant_user_ids: ids.iter().map(ToString::to_string).collect(),
            ..LinkupCompleted::default()
        })
        .await;
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|s| s.text == copy::ask_attended("board games Sat afternoon"))
    );

    assert_eq!(r.text(ANN, "1").await, [copy::ASK_DO_AGAIN]);
    assert_eq!(r.text(ANN, "Y").await, [copy::ASK_FEEDBACK]);
    assert_eq!(
        r.text(ANN, "skip").await,
        [copy::ask_contacts(&["Ben".to_owned(), "Cy".to_owned()])]
    );
    assert_eq!(r.text(ANN, "1").await, [copy::CONTACTS_NOTED]);
    // Cy could not make it: no contact question.
    assert_eq!(r.text(CY, "2").await, [copy::ASK_DO_AGAIN]);
    assert_eq!(r.text(CY, "no").await, [copy::ASK_FEEDBACK]);
    assert_eq!(
        r.text(CY, "sorry, I was sick").await,
        [copy::POST_EVENT_THANKS]
    );

    let outcomes: Vec<_> = r
        .published("linkup.outcome_reported")
        .await
        .into_iter()
        .map(|p| match p {
            Payload::OutcomeReported(o) => o,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(outcomes.len(), 5, "attendance, do-again, and Cy's feedback");
    assert_eq!(outcomes[0].attendance(), Attendance::Attended);
    assert_eq!(outcomes[1].do_again, Some(true));
    assert!(outcomes[4].feedback_present);
    let choices: Vec<_> = r
        .published("linkup.contact_choice_made")
        .await
        .into_iter()
        .map(|p| match p {
            Payload::ContactChoiceMade(c) => c,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(choices.len(), 2, "yes for Ben, no for Cy");
    assert_eq!(choices[0].choice(), ContactChoice::Yes);
    assert_eq!(choices[0].target_user_ids, [ids[1].to_string()]);
    assert_eq!(choices[1].choice(), ContactChoice::No);
    assert_eq!(choices[1].target_user_ids, [ids[2].to_string()]);
}

#[tokio::test]
async fn an_invite_waits_beside_a_linkup_dialog_and_is_answered_after_it() {
    let r = Router::new().await;
    let (linkup, ben) = ann_asks_ben(&r).await;
    assert_eq!(r.text(BEN, "brunch?").await, [copy::ASK_LINKUP_DAY]);
    let invite_id = uuid::Uuid::new_v4();
    r.react(invite(invite_id, linkup, ben)).await;
    // The dialog's answer is not taken as an invite reply...
    let replies = r.text(BEN, "sun morning").await;
    assert!(replies[0].starts_with("On it!"), "{replies:?}");
    // ...and the invite is still there to answer.
    assert_eq!(
        r.text(BEN, "yes").await,
        [copy::invite_accepted("coffee Sat morning")]
    );
    let sent = replies_published(&r).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].invite_id, invite_id.to_string());
}

#[tokio::test]
async fn an_invite_announced_after_its_linkup_locked_is_not_waited_on() {
    let r = Router::new().await;
    r.onboard(ANN, "Ann").await;
    r.onboard(BEN, "Ben").await;
    let linkup = r.linkup(ANN, "coffee", "SAT_MORNING").await;
    sqlx::query("update linkups set state = 'locked' where id = $1")
        .bind(linkup)
        .execute(&r.db.pool)
        .await
        .unwrap();
    let ben = r.user_id(BEN).await;
    r.react(invite(uuid::Uuid::new_v4(), linkup, ben)).await;
    assert_eq!(r.text(BEN, "yes").await, [copy::MENU]);
    assert!(replies_published(&r).await.is_empty());
}
