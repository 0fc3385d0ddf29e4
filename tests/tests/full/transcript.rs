//! Each phone's full conversation, in order, as twilio-sim saw it: what the phone sent and every
//! text it received, each stamped with the simulated local time of the step, with volatile
//! parts (simulator ports, checkout sessions, magic-link tokens) normalized. Compared with a
//! committed golden file; `JOSH_BLESS=1` rewrites it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use time::OffsetDateTime;

/// The region's zone: transcripts show local time.
const ZONE: &str = "America/Los_Angeles";

/// Every phone's transcript so far.
#[derive(Debug, Default)]
pub struct Transcripts {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Phone → (name, lines).
    phones: BTreeMap<String, (String, Vec<String>)>,
    /// Phone → how many of its received texts are already in its lines.
    seen: BTreeMap<String, usize>,
}

impl Transcripts {
    /// Starts a transcript for `phone`, shown as `name`.
    pub fn person(&self, phone: &str, name: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner
            .phones
            .insert(phone.to_owned(), (name.to_owned(), Vec::new()));
        inner.seen.insert(phone.to_owned(), 0);
    }

    /// `phone` texted `body` at `at`.
    pub fn sent(&self, phone: &str, at: OffsetDateTime, body: &str) {
        let mut inner = self.inner.lock().unwrap();
        let (name, lines) = inner.phones.get_mut(phone).expect("a known phone");
        let line = format!("[{}] {name}: {body}", local(at));
        lines.push(line);
    }

    /// Adds every text each phone received since the last call, stamped `at`; returns them
    /// (raw, unnormalized) per phone.
    pub fn collect(
        &self,
        sim: &twilio_sim::Simulator,
        at: OffsetDateTime,
    ) -> BTreeMap<String, Vec<String>> {
        let mut inner = self.inner.lock().unwrap();
        let phones: Vec<String> = inner.phones.keys().cloned().collect();
        let mut new = BTreeMap::new();
        for phone in phones {
            let seen = inner.seen[&phone];
            // In the order JOSH sent them (delivery is checked by the caller's settle).
            let got: Vec<String> = sim
                .messages()
                .into_iter()
                .filter(|m| m.to == phone)
                .skip(seen)
                .map(|m| m.body)
                .collect();
            inner.seen.insert(phone.clone(), seen + got.len());
            let (_, lines) = inner.phones.get_mut(&phone).expect("listed above");
            for body in &got {
                lines.push(format!("[{}] JOSH: {}", local(at), normalize(body)));
            }
            new.insert(phone, got);
        }
        new
    }

    /// Every transcript, phone by phone in the order people were added.
    pub fn render(&self, order: &[&str]) -> String {
        let inner = self.inner.lock().unwrap();
        let mut out = String::new();
        for phone in order {
            let (name, lines) = &inner.phones[*phone];
            out.push_str(&format!("== {name} {phone}\n"));
            for line in lines {
                out.push_str(line);
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

/// `Wed 10:00` in the region's zone.
pub fn local(at: OffsetDateTime) -> String {
    let zone = jiff::tz::TimeZone::get(ZONE).unwrap();
    let ts = jiff::Timestamp::from_second(at.unix_timestamp()).unwrap();
    ts.to_zoned(zone).strftime("%a %H:%M").to_string()
}

/// Replaces what differs between runs: simulator ports, checkout session ids, page tokens.
pub fn normalize(body: &str) -> String {
    body.split(' ')
        .map(|word| {
            if !word.starts_with("http") {
                return word.to_owned();
            }
            let word = match word.split_once("127.0.0.1:") {
                Some((scheme, rest)) => {
                    let path = rest.trim_start_matches(|c: char| c.is_ascii_digit());
                    format!("{scheme}stripe-sim{path}")
                }
                None => word.to_owned(),
            };
            mask_after(&mask_after(&word, "/checkout/"), "/l/")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `…{marker}<id>` for a URL segment after `marker` (keeping trailing punctuation).
fn mask_after(word: &str, marker: &str) -> String {
    let Some((head, tail)) = word.split_once(marker) else {
        return word.to_owned();
    };
    let end = tail
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(tail.len());
    format!("{head}{marker}<id>{}", &tail[end..])
}

/// Compares `actual` with the golden file at `path` (or rewrites it with `JOSH_BLESS=1`);
/// panics with a line diff on a mismatch.
pub fn check_golden(path: &Path, actual: &str) {
    if std::env::var("JOSH_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    if expected != actual {
        panic!(
            "the transcripts differ from {} (rerun with JOSH_BLESS=1 to accept):\n{}",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// A line diff (`-` expected, `+` actual) with two lines of context, from the longest common
/// subsequence.
fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let near = |k: usize| {
        ops[k.saturating_sub(2)..(k + 3).min(ops.len())]
            .iter()
            .any(|(op, _)| *op != ' ')
    };
    (0..ops.len())
        .filter(|&k| near(k))
        .map(|k| format!("{} {}", ops[k].0, ops[k].1))
        .collect::<Vec<_>>()
        .join("\n")
}
