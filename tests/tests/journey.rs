//! A LinkUp from the first text to swapped numbers, across the router and the matcher as the
//! bus connects them (issue 9's journey at the bus level; the full-stack run over NATS and the
//! simulators is still to come).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod stack;

use stack::Stack;
use time::Duration;

/// Interview answers that make a complete_mvp profile: coffee first, free mornings and weekends.
const ANSWERS: &[&str] = &[
    "coffee, walk, brunch",
    "coffee",
    "a",
    "b",
    "ideas",
    "b",
    "b",
    "a",
    "skip",
    "a and d",
];

#[tokio::test]
async fn coffee_saturday_morning_from_request_to_swapped_numbers() {
    let s = Stack::new().await;
    let people = [
        ("+15555550301", "Ann"),
        ("+15555550302", "Ben"),
        ("+15555550303", "Cy"),
        ("+15555550304", "Dee"),
    ];
    for (phone, name) in people {
        s.join(phone, name, ANSWERS).await;
    }
    let ann = people[0].0;
    s.clock.advance(Duration::minutes(5));
    s.text(ann, "coffee sat morning? just 2-3 of us").await;
    let to_ann = s.received(ann);
    assert!(to_ann.iter().any(|t| t.starts_with("On it!")), "{to_ann:?}");
    let state = s.scalar("select state::text from linkups").await;
    assert_eq!(state.as_deref(), Some("broadcasting"));
    // Everyone else got an invite and can answer it.
    for (phone, _) in &people[1..] {
        let got = s.received(phone);
        assert_eq!(got.len(), 1, "{phone}: {got:?}");
        let mode = s
            .scalar(&format!(
                "select mode::text from conversation_sessions s join users u on u.id = s.user_id where u.phone_e164 = '{phone}'"
            ))
            .await;
        assert_eq!(mode.as_deref(), Some("awaiting_invite_reply"), "{phone}");
    }
    // Ben and Cy say yes, Dee says no: with Ann that is 3, under the profile's 4-6.
    for (phone, answer) in [
        (people[1].0, "yes"),
        (people[2].0, "Yep!"),
        (people[3].0, "no"),
    ] {
        s.clock.advance(Duration::minutes(10));
        s.text(phone, answer).await;
        assert_eq!(s.received(phone).len(), 1, "{phone} hears back");
    }
    // The window ends Thursday 10:00 under the minimum of 4: expired, and everyone told.
    s.advance(Duration::hours(25)).await;
    let state = s.scalar("select state::text from linkups").await;
    assert_eq!(state.as_deref(), Some("expired"));
    let to_ann = s.received(ann);
    assert!(!to_ann.is_empty(), "the initiator hears it did not happen");
    let replies: Vec<String> =
        sqlx::query_scalar("select state::text from linkup_invites order by state::text")
            .fetch_all(&s.db.pool)
            .await
            .unwrap();
    assert!(!replies.iter().any(|r| r == "pending"), "{replies:?}");
}

#[tokio::test]
async fn a_full_group_locks_meets_and_swaps_numbers_only_on_a_mutual_yes() {
    let s = Stack::new().await;
    let people = [
        ("+15555550311", "Ann"),
        ("+15555550312", "Ben"),
        ("+15555550313", "Cy"),
        ("+15555550314", "Dee"),
        ("+15555550315", "Eve"),
    ];
    for (phone, name) in people {
        s.join(phone, name, ANSWERS).await;
    }
    let ann = people[0].0;
    s.clock.advance(Duration::minutes(5));
    s.text(ann, "LINKUP").await;
    s.text(ann, "a").await; // coffee
    s.text(ann, "sat").await;
    s.text(ann, "morning").await;
    s.text(ann, "a").await; // 2-3 people
    assert!(s.received(ann).last().unwrap().starts_with("On it!"));
    let invited: Vec<&str> = people[1..]
        .iter()
        .map(|p| p.0)
        .filter(|p| !s.received(p).is_empty())
        .collect();
    assert!(invited.len() >= 2, "{invited:?}");
    // Two yeses fill a group of 3 at once; a third yes hears it filled.
    s.text(invited[0], "yes").await;
    s.text(invited[1], "yes").await;
    let state = s.scalar("select state::text from linkups").await;
    assert_eq!(state.as_deref(), Some("locked"));
    for phone in [ann, invited[0], invited[1]] {
        let got = s.received(phone);
        assert!(
            got.iter().any(|t| t.starts_with("You're in!")),
            "{phone}: {got:?}"
        );
        assert!(
            got.iter().any(|t| t.contains("https://josh.example/l/")),
            "{phone}: {got:?}"
        );
    }
    if let Some(late) = invited.get(2) {
        s.text(late, "yes").await;
        let got = s.received(late);
        assert!(!got.is_empty(), "a late yes is answered");
    }
    // Saturday 09:00 reminder, then completion at 11:00 starts the questions.
    s.advance(Duration::days(3) + Duration::hours(1)).await;
    s.advance(Duration::hours(3)).await;
    let group = [ann, invited[0], invited[1]];
    for phone in group {
        let got = s.received(phone);
        assert!(
            got.iter().any(|t| t.starts_with("How was")),
            "{phone}: {got:?}"
        );
    }
    // Everyone went; Ann and the first invitee choose each other; the second chooses nobody.
    for phone in group {
        s.text(phone, "1").await;
        s.text(phone, "y").await;
        s.text(phone, "skip").await;
    }
    let names =
        |phone: &str| -> String { people.iter().find(|p| p.0 == phone).unwrap().1.to_owned() };
    let pick = |wanted: &str, question: &str| -> String {
        let name = names(wanted);
        let at = question.find(&format!(" {name}")).unwrap();
        question[..at].rsplit(' ').next().unwrap().to_owned()
    };
    let q_ann = s.received(ann).last().unwrap().clone();
    let q_first = s.received(invited[0]).last().unwrap().clone();
    s.received(invited[1]);
    s.text(ann, &pick(invited[0], &q_ann)).await;
    s.text(invited[0], &pick(ann, &q_first)).await;
    s.text(invited[1], "NONE").await;
    let pairs: i64 = sqlx::query_scalar("select count(*) from contact_exchanges")
        .fetch_one(&s.db.pool)
        .await
        .unwrap();
    assert_eq!(pairs, 1, "one mutual pair");
    let ann_got = s.received(ann).join("\n");
    assert!(
        ann_got.contains(invited[0]),
        "Ann gets the number: {ann_got}"
    );
    let first_got = s.received(invited[0]).join("\n");
    assert!(first_got.contains(ann), "and the other way: {first_got}");
    let second_got = s.received(invited[1]).join("\n");
    assert!(
        !second_got.contains("+1555"),
        "a one-sided choice reveals nothing: {second_got}"
    );
}
