//! Simulated people: each phone texts the five registration answers in turn, sending the next
//! only once JOSH replied to the last, so every text warrants exactly one reply and a phone
//! never nears the router's 10-texts-a-minute limit.

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

/// What each phone texts, in order; each one gets exactly one reply from the registration flow.
pub const SCRIPT: [&str; 5] = ["Hi JOSH", "Ann", "Lee", "03/14/1990", "10001"];

/// One simulated phone.
#[derive(Debug)]
pub struct Phone {
    pub number: String,
    /// The next line of [`SCRIPT`] to send.
    pub step: usize,
    /// When JOSH answered the webhook of the text awaiting its reply (µs since the epoch).
    pub awaiting: Option<i64>,
    /// Replies seen before the webhook's answer reached us (µs receipt times).
    pub early: VecDeque<i64>,
    /// The SIDs of this phone's answered texts, in order.
    pub accepted: Vec<String>,
}

/// Every phone of a run, and the ones ready to send their next text.
#[derive(Debug)]
pub struct Phones {
    area: u32,
    next_line: u32,
    pub all: Vec<Phone>,
    pub by_number: HashMap<String, usize>,
    pub ready: VecDeque<usize>,
}

impl Phones {
    /// Numbers `+1AAA5NNNNNN` in an area code drawn from the clock, so runs against the same
    /// database rarely share phones.
    pub fn new(area: Option<u32>) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self {
            area: area.unwrap_or(200 + nanos % 800),
            next_line: 0,
            all: Vec::new(),
            by_number: HashMap::new(),
            ready: VecDeque::new(),
        }
    }

    /// A phone ready to send: one that got its last reply, or a new one.
    pub fn take_ready(&mut self) -> usize {
        if let Some(index) = self.ready.pop_front() {
            return index;
        }
        let number = format!("+1{}5{:06}", self.area, self.next_line);
        self.next_line += 1;
        let index = self.all.len();
        self.by_number.insert(number.clone(), index);
        self.all.push(Phone {
            number,
            step: 0,
            awaiting: None,
            early: VecDeque::new(),
            accepted: Vec::new(),
        });
        index
    }
}

/// Message SIDs made here (`SM` + 32 hex digits), unique per run: a run tag and a counter.
#[derive(Debug)]
pub struct Sids {
    tag: u64,
    next: u64,
}

impl Sids {
    pub fn new() -> Self {
        let tag = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| {
            u64::try_from(d.as_nanos() & u128::from(u64::MAX)).unwrap_or(0)
        });
        Self { tag, next: 0 }
    }

    pub fn next(&mut self) -> String {
        self.next += 1;
        format!("SM{:016x}{:016x}", self.tag, self.next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_reused_once_ready_and_numbers_are_e164() {
        let mut phones = Phones::new(Some(555));
        let a = phones.take_ready();
        let b = phones.take_ready();
        assert_ne!(a, b);
        assert_eq!(phones.all[a].number, "+15555000000");
        assert_eq!(phones.all[b].number.len(), 12);
        phones.ready.push_back(a);
        assert_eq!(phones.take_ready(), a);
    }

    #[test]
    fn sids_look_like_twilios_and_differ() {
        let mut sids = Sids::new();
        let (one, two) = (sids.next(), sids.next());
        assert_ne!(one, two);
        assert_eq!(one.len(), 34);
        assert!(one.starts_with("SM") && one[2..].chars().all(|c| c.is_ascii_hexdigit()));
    }
}
