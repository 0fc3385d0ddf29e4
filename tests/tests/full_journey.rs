//! Issue 9's journey over the whole system: eight people text in through twilio-sim, register,
//! finish the interview and pay on the stripe-sim checkout page; Ann starts a LinkUp; invites go
//! out in two waves; some say yes, some no, one too late; it locks; the reminder comes at 09:00
//! on the day; the outcome questions two hours after the start; two pairs swap numbers and a
//! one-sided yes reveals nothing. Every text each phone receives is compared with
//! `golden/full_journey.txt` (`JOSH_BLESS=1` rewrites it), then every table involved is checked.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod full;

use full::{Received, System};
use time::Duration;
use time::macros::datetime;

/// The cast: phone and first name. Ann starts the LinkUp; Hal's answers differ from the rest.
const PEOPLE: [(&str, &str); 8] = [
    ("+15555550401", "Ann"),
    ("+15555550402", "Ben"),
    ("+15555550403", "Cy"),
    ("+15555550404", "Dee"),
    ("+15555550405", "Eve"),
    ("+15555550406", "Fay"),
    ("+15555550407", "Gus"),
    ("+15555550408", "Hal"),
];

/// Interview answers for a complete_mvp profile: coffee first, small groups, free mornings and
/// weekends.
const ANSWERS: [&str; 10] = [
    "coffee, walk, brunch",
    "coffee",
    "a",
    "b",
    "ideas",
    "b",
    "a",
    "a",
    "skip",
    "a and d",
];

/// Hal: walks first, bigger groups, different motives.
const HAL_ANSWERS: [&str; 10] = [
    "walk, coffee, brunch",
    "walk",
    "d",
    "d",
    "plans",
    "c",
    "b",
    "c",
    "skip",
    "a and d",
];

fn phone(name: &str) -> &'static str {
    PEOPLE.iter().find(|p| p.1 == name).unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_people_text_in_and_a_linkup_runs_to_swapped_numbers() {
    // Wednesday 10:00 in San Francisco.
    let s = System::start(datetime!(2026-11-25 18:00 UTC)).await;
    for (phone, name) in PEOPLE {
        s.person(phone, name);
    }
    register_and_interview(&s).await;
    everyone_pays(&s).await;
    ann_starts_a_linkup(&s).await;
    replies_lock_it(&s).await;
    the_day(&s).await;
    afterwards(&s).await;
    nothing_left_behind(&s).await;
    let order: Vec<&str> = PEOPLE.iter().map(|p| p.0).collect();
    let mut golden = s.transcripts.render(&order);
    golden.push_str(&full::tables::snapshot(&s).await);
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/full_journey.txt");
    full::transcript::check_golden(&path, &golden);
    s.stop().await;
}

/// Everyone texts in, registers by SMS and answers the interview, one step at a time together.
async fn register_and_interview(s: &System) {
    let steps = |name: &str| -> Vec<String> {
        let answers = if name == "Hal" { HAL_ANSWERS } else { ANSWERS };
        ["hi", name, "Tester", "5/17/1990", "94110", "AGREE"]
            .into_iter()
            .chain(answers)
            .map(str::to_owned)
            .collect()
    };
    let scripts: Vec<(&str, Vec<String>)> = PEOPLE.iter().map(|(p, n)| (*p, steps(n))).collect();
    for i in 0..scripts[0].1.len() {
        s.clock.advance(Duration::seconds(20));
        let batch: Vec<(&str, &str)> = scripts.iter().map(|(p, t)| (*p, t[i].as_str())).collect();
        s.texts(&batch).await;
    }
}

/// One after another, everyone asks for a LinkUp, hears it is for members with a checkout
/// link, and pays on the stripe-sim page behind that link.
async fn everyone_pays(s: &System) {
    for (phone, name) in PEOPLE {
        s.clock.advance(Duration::minutes(1));
        let got = s.text(phone, "coffee sat morning?").await;
        let paywall = got.last().unwrap();
        let link = paywall
            .split(' ')
            .find(|w| w.starts_with("http"))
            .unwrap_or_else(|| panic!("{name} got no checkout link: {got:?}"));
        s.pay(link).await;
    }
}

/// Ann asks again: the LinkUp starts and the first wave of invites goes out; two hours later
/// the second wave reaches the rest.
async fn ann_starts_a_linkup(s: &System) {
    s.clock.advance(Duration::minutes(3));
    s.text(phone("Ann"), "coffee sat morning?").await;
    s.advance(Duration::hours(2)).await;
}

/// Dee and Eve say no, Ben and Cy say yes (which fills it), Gus says yes too late; Fay and Hal
/// never answer.
async fn replies_lock_it(s: &System) {
    for (name, answer) in [
        ("Dee", "no"),
        ("Ben", "yes"),
        ("Eve", "nope"),
        ("Cy", "Yep!"),
        ("Gus", "yes"),
    ] {
        s.clock.advance(Duration::minutes(5));
        s.text(phone(name), answer).await;
    }
}

/// Nothing before 09:00 on Saturday; the reminder to the three at 09:00; nothing more until
/// the questions two hours after the 09:00 start.
async fn the_day(s: &System) {
    let group = [phone("Ann"), phone("Ben"), phone("Cy")];
    let quiet = s.advance_to(datetime!(2026-11-28 16:59 UTC)).await;
    assert!(
        quiet.values().all(Vec::is_empty),
        "nothing before 09:00: {quiet:?}"
    );
    let nine = s.advance_to(datetime!(2026-11-28 17:00 UTC)).await;
    for (phone, got) in &nine {
        let expected = usize::from(group.contains(&phone.as_str()));
        assert_eq!(got.len(), expected, "{phone} at 09:00: {got:?}");
        assert!(
            got.iter()
                .all(|t| t.starts_with("Reminder: Coffee Sat 9am")),
            "{got:?}"
        );
    }
    let quiet = s.advance_to(datetime!(2026-11-28 18:59 UTC)).await;
    assert!(
        quiet.values().all(Vec::is_empty),
        "nothing until 11:00: {quiet:?}"
    );
    let eleven = s.advance_to(datetime!(2026-11-28 19:00 UTC)).await;
    for phone in group {
        assert!(
            eleven[phone][0].starts_with("How was coffee"),
            "{:?}",
            eleven[phone]
        );
    }
}

/// Everyone went and would go again; Ann picks everyone, Ben picks everyone, Cy picks only Ben:
/// Ann and Ben swap numbers, Ben and Cy swap numbers, Ann's yes to Cy reveals nothing.
async fn afterwards(s: &System) {
    let group = [phone("Ann"), phone("Ben"), phone("Cy")];
    let mut asked = Default::default();
    for answer in ["1", "y", "skip"] {
        s.clock.advance(Duration::minutes(2));
        let batch: Vec<(&str, &str)> = group.iter().map(|p| (*p, answer)).collect();
        asked = s.texts(&batch).await;
    }
    let cy_picks = pick(&asked[phone("Cy")], "Ben");
    s.clock.advance(Duration::minutes(2));
    // One after another (each settled before the next): with all three at once, whether Ben
    // hears about Ann or Cy first depends on which choice the matcher happens to take first.
    let mut got = Received::default();
    for (who, choice) in [("Ann", "ALL"), ("Ben", "all"), ("Cy", cy_picks.as_str())] {
        for (to, texts) in s.texts(&[(phone(who), choice)]).await {
            got.entry(to).or_default().extend(texts);
        }
    }
    let numbers = |name: &str| -> Vec<&str> {
        PEOPLE
            .iter()
            .filter(|p| got[phone(name)].iter().any(|t| t.contains(p.0)))
            .map(|p| p.1)
            .collect()
    };
    assert_eq!(
        numbers("Ann"),
        ["Ben"],
        "Cy did not pick Ann: no number either way"
    );
    assert_eq!(numbers("Ben"), ["Ann", "Cy"]);
    assert_eq!(numbers("Cy"), ["Ben"]);
}

/// Every text was delivered to its phone and stored once each way; nothing dead-lettered.
async fn nothing_left_behind(s: &System) {
    assert_eq!(full::quiet::dead_letters(s).await, 0, "dead letters");
    let sent = s.twilio.messages();
    for (phone, name) in PEOPLE {
        let to_phone = sent.iter().filter(|m| m.to == phone).count();
        assert_eq!(
            s.twilio.phone_messages(phone).len(),
            to_phone,
            "{name}'s inbox"
        );
    }
    let stored: Vec<(String, i64)> = sqlx::query_as(
        "select direction, count(*) from sms_messages group by direction order by direction",
    )
    .fetch_all(&s.db.pool)
    .await
    .unwrap();
    let inbound = i64::try_from(s.twilio.inbound_messages().len()).unwrap();
    let outbound = i64::try_from(sent.len()).unwrap();
    assert_eq!(
        stored,
        [("in".to_owned(), inbound), ("out".to_owned(), outbound)]
    );
}

/// The number `name` has in the contact question among `texts`.
fn pick(texts: &[String], name: &str) -> String {
    let question = texts
        .iter()
        .find(|t| t.starts_with("Want to swap numbers"))
        .unwrap_or_else(|| panic!("no contact question in {texts:?}"));
    let at = question.find(&format!(" {name}")).unwrap();
    question[..at].rsplit(' ').next().unwrap().to_owned()
}
