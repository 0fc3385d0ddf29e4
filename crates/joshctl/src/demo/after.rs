//! After the lock: the reminder and the questions as simulated time jumps to Saturday, and
//! the contact choices that swap numbers only on a mutual pick.

#![allow(clippy::print_stdout)] // the transcript

use anyhow::Context;
use platform::clock::Clock;

use super::journey::section;
use super::person::{Person, Shared};

/// Saturday 09:00 brings the reminder; 11:00, when the LinkUp is over, the first question.
pub(super) async fn remind_and_ask(
    shared: &Shared,
    ann: &mut Person,
    others: &mut [Person],
    group: &[usize; 2],
) -> anyhow::Result<()> {
    let now = shared.clock.now();
    let reminder = super::local(shared, now, 3, 9, 0)?;
    super::set_clock(shared, reminder).await?;
    section(
        shared,
        "Simulated time jumps to Saturday 09:00: the reminder",
    );
    ann.expect("the reminder", |t| t.starts_with("Reminder:"))
        .await?;
    for i in group {
        others[*i]
            .expect("the reminder", |t| t.starts_with("Reminder:"))
            .await?;
    }
    let after = super::local(shared, now, 3, 11, 0)? + time::Duration::seconds(30);
    super::set_clock(shared, after).await?;
    section(
        shared,
        "Simulated time jumps to Saturday 11:00, after the LinkUp: how was it?",
    );
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
pub(super) async fn swap_numbers(
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
    let mut last_question = String::new();
    for who in [None, Some(first), Some(second)] {
        last_question = answer_questions(pick(ann, others, who)).await?;
    }
    let only_ann = option_for(&last_question, ann.name)?;
    for (who, choice) in [
        (None, "ALL"),
        (Some(first), "ALL"),
        (Some(second), &only_ann),
    ] {
        pick(ann, others, who)
            .ask(choice, "the choice confirmation", |t| {
                t.starts_with("Got it")
            })
            .await?;
    }
    let ann_number = ann.number().to_owned();
    for what in ["a number", "a second number"] {
        ann.expect(what, |t| t.contains("said yes too")).await?;
    }
    for i in group {
        others[*i]
            .expect("Ann's number", |t| t.contains(&ann_number))
            .await?;
    }
    no_reveal_between(others, first, second).await?;
    let (a, b) = (others[first].name, others[second].name);
    println!(
        "\n{} and {a} swapped numbers, {} and {b} swapped numbers; {a} and {b} did not ({b} picked only {}).",
        ann.name, ann.name, ann.name
    );
    Ok(())
}

/// Ann (`None`) or one of the others.
fn pick<'a>(ann: &'a mut Person, others: &'a mut [Person], who: Option<usize>) -> &'a mut Person {
    match who {
        None => ann,
        Some(i) => &mut others[i],
    }
}

/// Went, would go again, a word of feedback; returns the contact question.
async fn answer_questions(person: &mut Person) -> anyhow::Result<String> {
    person
        .ask("1", "the do-again question", |t| t.contains("again"))
        .await?;
    person
        .ask("y", "the feedback question", |t| t.contains("SKIP"))
        .await?;
    person
        .ask("Lovely morning, thanks!", "the contact question", |t| {
            t.starts_with("Want to swap")
        })
        .await
}

/// Neither of the one-sided pair got the other's number (waiting a moment for stragglers).
async fn no_reveal_between(others: &mut [Person], a: usize, b: usize) -> anyhow::Result<()> {
    for (me, them) in [(a, b), (b, a)] {
        let number = others[them].number().to_owned();
        others[me]
            .receive(std::time::Duration::from_secs(1))
            .await?;
        anyhow::ensure!(
            others[me].take(|t| t.contains(&number)).is_none(),
            "{} got {}'s number without a mutual pick",
            others[me].name,
            others[them].name
        );
    }
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
    fn finds_the_option_for_a_name() {
        let q = "Want to swap numbers with anyone? 1 Ben, 2 Ann. Reply like 1,3 or ALL or NONE.";
        assert_eq!(option_for(q, "Ann").unwrap(), "2");
        assert_eq!(option_for(q, "Ben").unwrap(), "1");
        assert!(option_for(q, "Cy").is_err());
    }
}
