//! The journey, step by step.

#![allow(clippy::print_stdout)] // the transcript

use std::time::Duration as StdDuration;

use anyhow::Context;
use platform::clock::Clock;
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
    let run = fresh_run_number(shared);
    let mut people: Vec<Person> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| Person::new(name, &format!("+1555{run:05}{i:02}"), shared))
        .collect();
    section(
        shared,
        "Eight people text JOSH, sign up, answer the interview and pay",
    );
    let joined = people.into_iter().map(|mut p| {
        let http = http.clone();
        tokio::spawn(async move {
            p.hold();
            let result = join(&mut p, &http).await;
            p.flush();
            result.map(|()| p)
        })
    });
    people = Vec::new();
    for handle in joined.collect::<Vec<_>>() {
        people.push(handle.await.context("a demo phone stopped")??);
    }
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
    remind_and_ask(shared, ann, others, &group).await?;
    swap_numbers(shared, ann, others, &group).await?;
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

fn section(shared: &Shared, title: &str) {
    println!("\n=== {title} ({}) ===", shared.stamp());
}

/// Five digits that differ from run to run (from the wall clock), so numbers are fresh.
fn fresh_run_number(shared: &Shared) -> u64 {
    let _ = shared;
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
    let is_question = |t: &str| t.contains('?') || t.contains("all set");
    let mut question = p
        .ask("AGREE", "the first interview question", is_question)
        .await?;
    for _ in 0..2 * ANSWERS.len() {
        if question.contains("all set") {
            break;
        }
        question = p
            .ask(
                answer_for(&question),
                "the next interview question",
                is_question,
            )
            .await?;
    }
    anyhow::ensure!(
        question.contains("all set"),
        "{}'s interview did not end",
        p.name
    );
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
        let person = &mut others[*i];
        match role {
            No => {
                person
                    .ask("no", "the decline", |t| t.starts_with("No problem"))
                    .await?;
            }
            Yes if yes.is_empty() => {
                person
                    .ask(yes_word, "the accept", |t| t.starts_with("You're in for"))
                    .await?;
                yes.push(*i);
            }
            Yes => {
                person
                    .ask(yes_word, "the lock", |t| t.starts_with("You're in!"))
                    .await?;
                yes.push(*i);
                section(shared, "The group is full: it locks");
                ann.expect("the lock", |t| t.starts_with("You're in!"))
                    .await?;
                let first = yes.first().copied().context("no first yes")?;
                others[first]
                    .expect("the lock", |t| t.starts_with("You're in!"))
                    .await?;
            }
            Late => {
                // The router forgets a locked LinkUp's open invites, so a late yes may get the
                // menu rather than the matcher's "it filled": either way it is answered.
                person
                    .ask(yes_word, "an answer to the late yes", |_| true)
                    .await?;
            }
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

/// Saturday 09:00 brings the reminder; 11:00, when the LinkUp is over, the first question.
async fn remind_and_ask(
    shared: &Shared,
    ann: &mut Person,
    others: &mut [Person],
    group: &[usize; 2],
) -> anyhow::Result<()> {
    let now = shared.clock.now();
    let reminder = super::local(shared, now, 3, 9, 0)?;
    section(shared, "Simulated time moves to Saturday 09:00");
    super::set_clock(shared, reminder).await?;
    ann.expect("the reminder", |t| t.starts_with("Reminder:"))
        .await?;
    for i in group {
        others[*i]
            .expect("the reminder", |t| t.starts_with("Reminder:"))
            .await?;
    }
    let after = super::local(shared, now, 3, 11, 0)? + time::Duration::seconds(30);
    section(
        shared,
        "Simulated time moves to Saturday 11:00: how did it go?",
    );
    super::set_clock(shared, after).await?;
    ann.expect("the first question", |t| t.starts_with("How was"))
        .await?;
    for i in group {
        others[*i]
            .expect("the first question", |t| t.starts_with("How was"))
            .await?;
    }
    Ok(())
}

/// Everyone went and would go again; Ann and the first yes pick everyone, the second picks only
/// Ann: Ann swaps numbers with both, the other pair does not.
async fn swap_numbers(
    shared: &Shared,
    ann: &mut Person,
    others: &mut [Person],
    group: &[usize; 2],
) -> anyhow::Result<()> {
    section(
        shared,
        "The questions afterwards; numbers are swapped only on a mutual pick",
    );
    let [first, second] = *group;
    let mut picks = Vec::new();
    for who in [None, Some(first), Some(second)] {
        let person = match who {
            None => &mut *ann,
            Some(i) => &mut others[i],
        };
        person
            .ask("1", "the do-again question", |t| t.contains("again"))
            .await?;
        person
            .ask("y", "the feedback question", |t| t.contains("SKIP"))
            .await?;
        let question = person
            .ask("Lovely morning, thanks!", "the contact question", |t| {
                t.starts_with("Want to swap")
            })
            .await?;
        picks.push(question);
    }
    let second_question = picks.get(2).context("no question")?;
    let only_ann = option_for(second_question, ann.name)?;
    for (who, choice) in [
        (None, "ALL".to_owned()),
        (Some(first), "ALL".to_owned()),
        (Some(second), only_ann),
    ] {
        let person = match who {
            None => &mut *ann,
            Some(i) => &mut others[i],
        };
        person
            .ask(&choice, "the choice confirmation", |t| {
                t.starts_with("Got it")
            })
            .await?;
    }
    let (first_number, second_number) = (
        others[first].number().to_owned(),
        others[second].number().to_owned(),
    );
    let ann_number = ann.number().to_owned();
    ann.expect("a number", |t| t.contains("said yes too"))
        .await?;
    ann.expect("a second number", |t| t.contains("said yes too"))
        .await?;
    others[first]
        .expect("Ann's number", |t| t.contains(&ann_number))
        .await?;
    others[second]
        .expect("Ann's number", |t| t.contains(&ann_number))
        .await?;
    let (a, b) = (others[first].name, others[second].name);
    println!(
        "\n{} and {a} swapped numbers, {} and {b} swapped numbers; {a} ({first_number}) and {b} ({second_number}) did not \
         ({b} picked only {}).",
        ann.name, ann.name, ann.name
    );
    Ok(())
}

/// The option number for `name` in "Want to swap numbers with anyone? 1 Ben, 2 Cy. ...".
fn option_for(question: &str, name: &str) -> anyhow::Result<String> {
    let at = question
        .find(&format!(" {name}"))
        .with_context(|| format!("{name} is not among the choices: {question}"))?;
    question[..at]
        .rsplit(' ')
        .next()
        .map(str::to_owned)
        .context("no option number")
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

    #[test]
    fn finds_the_option_for_a_name() {
        let q = "Want to swap numbers with anyone? 1 Ben, 2 Ann. Reply like 1,3 or ALL or NONE.";
        assert_eq!(option_for(q, "Ann").unwrap(), "2");
        assert_eq!(option_for(q, "Ben").unwrap(), "1");
        assert!(option_for(q, "Cy").is_err());
    }
}
