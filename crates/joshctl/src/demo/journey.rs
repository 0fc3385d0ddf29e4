//! The journey, step by step.

#![allow(clippy::print_stdout)] // the transcript

use std::time::Duration as StdDuration;

use anyhow::Context;
use tokio::time::Instant;

use super::person::{Person, Shared};

/// The demo's people; Ann starts the LinkUp.
const NAMES: [&str; 8] = ["Ann", "Ben", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal"];

/// Interview answers that complete a profile (coffee first, free mornings and weekends), by a
/// phrase of the question they answer: the interview picks its own order.
const ANSWERS: [(&str, &str); 10] = [
    ("enjoy doing", "coffee, walk, brunch"),
    ("top pick", "coffee"),
    ("want most", "a"),
    ("In a group", "b"),
    ("talking about", "ideas"),
    ("friendships", "b"),
    ("group size", "a"),
    ("values", "a"),
    ("rather skip", "skip"),
    ("usually free", "a and d"),
];

/// The answer to an interview question (`a` for one the demo does not know).
fn answer_for(question: &str) -> &'static str {
    ANSWERS
        .iter()
        .find(|(phrase, _)| question.contains(phrase))
        .map_or("a", |(_, answer)| answer)
}

/// Plays the journey.
pub(crate) async fn play(shared: &Shared, http: &reqwest::Client) -> anyhow::Result<()> {
    let mut people = join_all(shared, http).await?;
    let (ann, others) = people.split_first_mut().context("no people")?;
    section(shared, "Ann starts a LinkUp");
    for (text, what) in [
        ("LINKUP", "the first LINKUP question"),
        ("a", "the day question"),
        ("sat", "the time question"),
        ("morning", "the group size question"),
    ] {
        ann.ask(text, what, |_| true).await?;
    }
    ann.ask("a", "\"On it!\"", |t| t.starts_with("On it!"))
        .await?;
    section(shared, "Invites go out");
    let invited = collect_invites(shared, others).await?;
    let group = answer_invites(shared, ann, others, &invited).await?;
    super::after::remind_and_ask(shared, ann, others, &group).await?;
    super::after::swap_numbers(shared, ann, others, &group).await?;
    section(
        shared,
        "The demo pauses its phones so the next run invites its own people",
    );
    for person in std::iter::once(&mut *ann).chain(others.iter_mut()) {
        person
            .ask("PAUSE", "the PAUSE confirmation", |_| true)
            .await?;
    }
    Ok(())
}

/// The eight people join side by side; each one's transcript prints as a block when done.
async fn join_all(shared: &Shared, http: &reqwest::Client) -> anyhow::Result<Vec<Person>> {
    let run = fresh_run_number();
    section(
        shared,
        "Eight people text JOSH, sign up, answer the interview and pay",
    );
    let joining: Vec<_> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut p = Person::new(name, &format!("+1555{run:05}{i:02}"), shared);
            let http = http.clone();
            tokio::spawn(async move {
                p.hold();
                let result = join(&mut p, &http).await;
                p.flush();
                result.map(|()| p)
            })
        })
        .collect();
    let mut people = Vec::new();
    for handle in joining {
        people.push(handle.await.context("a demo phone stopped")??);
    }
    Ok(people)
}

/// A heading with the simulated time.
pub(super) fn section(shared: &Shared, title: &str) {
    println!("\n=== {title} ({}) ===", shared.stamp());
}

/// Five digits that differ from run to run (from the wall clock), so numbers are fresh.
fn fresh_run_number() -> u64 {
    let micros = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000;
    u64::try_from(micros % 100_000).unwrap_or_default()
}

/// Registration, the interview, and payment through the paywall's checkout link.
async fn join(p: &mut Person, http: &reqwest::Client) -> anyhow::Result<()> {
    let steps = [
        ("hi", "first name"),
        (p.name, "last name"),
        ("Tester", "birthday"),
        ("5/17/1990", "ZIP"),
        ("94110", "AGREE"),
    ];
    for (text, next) in steps {
        p.ask(text, &format!("the question about the {next}"), |t| {
            t.contains(next)
        })
        .await?;
    }
    interview(p).await?;
    pay(p, http).await
}

/// Answers each interview question until "You're all set".
async fn interview(p: &mut Person) -> anyhow::Result<()> {
    let is_question = |t: &str| t.contains('?') || t.contains("all set");
    let mut question = p
        .ask("AGREE", "the first interview question", is_question)
        .await?;
    for _ in 0..2 * ANSWERS.len() {
        if question.contains("all set") {
            return Ok(());
        }
        question = p
            .ask(
                answer_for(&question),
                "the next interview question",
                is_question,
            )
            .await?;
    }
    anyhow::bail!("{}'s interview did not end", p.name)
}

/// Asks for a LinkUp, gets the paywall's checkout link, pays on the Stripe simulator's page and
/// waits for the welcome.
async fn pay(p: &mut Person, http: &reqwest::Client) -> anyhow::Result<()> {
    let paywall = p
        .ask("coffee sat morning?", "a checkout link", |t| {
            t.contains("/checkout/")
        })
        .await?;
    let url = paywall
        .split_whitespace()
        .find(|w| w.contains("/checkout/"))
        .context("no checkout link in the paywall text")?
        .trim_end_matches(['.', ',', ')']);
    let paid = http
        .post(format!("{url}/pay"))
        .send()
        .await
        .with_context(|| format!("cannot pay at {url}"))?;
    anyhow::ensure!(
        paid.status().is_success(),
        "paying at {url} answered HTTP {}",
        paid.status()
    );
    p.note(&format!(
        "(pays on the Stripe simulator's checkout page {url})"
    ));
    p.expect("the membership welcome", |t| t.contains("welcome in"))
        .await?;
    Ok(())
}

/// Waits until the invites to the demo's phones have arrived: every phone, or at least two
/// and nothing new for three seconds (other people in the dev database may be invited too).
async fn collect_invites(
    shared: &Shared,
    others: &mut [Person],
) -> anyhow::Result<Vec<(usize, String)>> {
    let give_up = Instant::now() + shared.deadline;
    let mut invited: Vec<(usize, String)> = Vec::new();
    let mut last_new = Instant::now();
    loop {
        for (i, person) in others.iter_mut().enumerate() {
            if invited.iter().any(|(j, _)| *j == i) {
                continue;
            }
            person.receive(StdDuration::ZERO).await?;
            if let Some(invite) = person.take(|t| t.contains("JOSH here")) {
                invited.push((i, invite));
                last_new = Instant::now();
            }
        }
        let settled = invited.len() >= 2 && last_new.elapsed() >= StdDuration::from_secs(3);
        if invited.len() == others.len() || settled {
            return Ok(invited);
        }
        anyhow::ensure!(
            Instant::now() < give_up,
            "only {} of the demo's phones got an invite within {:?} (other people in the dev database may \
             have been invited instead: text PAUSE from them, or start from a fresh dev database)",
            invited.len(),
            shared.deadline
        );
        tokio::time::sleep(StdDuration::from_millis(200)).await;
    }
}

/// How an invitee answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    Late,
}

/// Answers the invites (some yes, some no, one too late); returns the two who got in.
async fn answer_invites(
    shared: &Shared,
    ann: &mut Person,
    others: &mut [Person],
    invited: &[(usize, String)],
) -> anyhow::Result<[usize; 2]> {
    use Answer::{Late, No, Yes};
    let roles: &[Answer] = match invited.len() {
        0 | 1 => anyhow::bail!("fewer than two invites"),
        2 => &[Yes, Yes],
        3 => &[No, Yes, Yes],
        4 => &[No, Yes, Yes, Late],
        _ => &[No, Yes, No, Yes, Late],
    };
    section(shared, "Some say yes, some no, one too late");
    let mut yes = Vec::new();
    for ((i, invite), role) in invited.iter().zip(roles) {
        let yes_word = if invite.contains("Reply YES") {
            "yes"
        } else {
            "A"
        };
        let role = match role {
            Yes if yes.is_empty() => Reply::Accept(yes_word),
            Yes => Reply::Lock(yes_word),
            No => Reply::Decline,
            Late => Reply::Late(yes_word),
        };
        answer(&mut others[*i], role).await?;
        if let Reply::Accept(_) | Reply::Lock(_) = role {
            yes.push(*i);
        }
        if let (Reply::Lock(_), Some(first)) = (role, yes.first()) {
            section(shared, "The group is full: it locks");
            ann.expect("the lock", |t| t.starts_with("You're in!"))
                .await?;
            others[*first]
                .expect("the lock", |t| t.starts_with("You're in!"))
                .await?;
        }
    }
    for (i, _) in invited.iter().skip(roles.len()) {
        others[*i].note("(does not answer)");
    }
    match yes[..] {
        [a, b] => Ok([a, b]),
        _ => anyhow::bail!("the group did not get two yeses"),
    }
}

/// One invitee's reply, with the word that says yes to their invite.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Accept(&'static str),
    Lock(&'static str),
    Decline,
    Late(&'static str),
}

async fn answer(person: &mut Person, reply: Reply) -> anyhow::Result<()> {
    match reply {
        Reply::Decline => {
            person
                .ask("no", "the decline", |t| t.starts_with("No problem"))
                .await
        }
        Reply::Accept(yes) => {
            person
                .ask(yes, "the accept", |t| t.starts_with("You're in for"))
                .await
        }
        Reply::Lock(yes) => {
            person
                .ask(yes, "the lock", |t| t.starts_with("You're in!"))
                .await
        }
        // The router forgets a locked LinkUp's open invites, so a late yes may get the menu
        // rather than the matcher's "it filled": either way it is answered.
        Reply::Late(yes) => person.ask(yes, "an answer to the late yes", |_| true).await,
    }
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_each_question_by_its_phrase() {
        assert_eq!(
            answer_for("Nice! Which is your top pick? 1 Brunch, 2 Coffee"),
            "coffee"
        );
        assert_eq!(
            answer_for("When are you usually free? Pick up to 2"),
            "a and d"
        );
        assert_eq!(answer_for("Something new?"), "a");
    }
}
