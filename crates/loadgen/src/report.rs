//! What a run measured, printed for people and saved as JSON (the run record `verify` reads).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of latencies in microseconds.
    pub fn of(mut micros: Vec<i64>) -> Self {
        micros.sort_unstable();
        let at = |q: f64| -> f64 {
            if micros.is_empty() {
                return 0.0;
            }
            // Nearest rank: the smallest value with at least q of the samples at or below it.
            let rank = (q * micros.len() as f64).ceil() as usize;
            micros[rank.clamp(1, micros.len()) - 1] as f64 / 1000.0
        };
        Self {
            count: micros.len(),
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// One answered text: the run record `verify` checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub phone: String,
    pub sid: String,
}

/// Everything a run did and measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub offered_rate: f64,
    pub duration_secs: f64,
    pub phones: usize,
    /// Texts whose webhook was answered 200 (after retries with the same SID).
    pub accepted: usize,
    /// Extra deliveries of answered texts' webhooks (duplicates and late, reordered copies).
    pub redeliveries: usize,
    /// Redeliveries JOSH did not answer 200.
    pub redelivery_errors: usize,
    /// Webhook attempts retried after a non-200 answer or an unreachable JOSH.
    pub retries: usize,
    /// Texts never answered 200, by the last error.
    pub errors: BTreeMap<String, usize>,
    /// Ticks skipped because `concurrency` sends were already in flight.
    pub skipped: usize,
    /// Answered webhooks per second over the sending window.
    pub webhook_throughput: f64,
    /// Replies received per second over the sending window.
    pub reply_throughput: f64,
    /// Replies matched to their text.
    pub replies: usize,
    /// Texts still without a reply at the end.
    pub missing_replies: usize,
    /// Replies to phones with no text awaiting one.
    pub unexpected_replies: usize,
    pub latency_ms: Percentiles,
    /// Peak resident memory per process, MiB.
    pub peak_rss_mib: BTreeMap<String, f64>,
    pub accepted_texts: Vec<Accepted>,
}

impl Report {
    /// The human-readable summary.
    pub fn print(&self) {
        let l = &self.latency_ms;
        println!(
            "offered {:.0}/s for {:.1}s over {} phones",
            self.offered_rate, self.duration_secs, self.phones
        );
        println!(
            "webhooks answered 200: {} ({:.1}/s sustained); retried attempts {}; redeliveries {} ({} not 200); skipped ticks {}",
            self.accepted,
            self.webhook_throughput,
            self.retries,
            self.redeliveries,
            self.redelivery_errors,
            self.skipped
        );
        println!("texts never answered 200: {:?}", self.errors);
        println!(
            "replies: {} ({:.1}/s), missing {}, unexpected {}",
            self.replies, self.reply_throughput, self.missing_replies, self.unexpected_replies
        );
        println!(
            "end-to-end latency (webhook answered -> Messages API call), n={}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            l.count, l.p50, l.p95, l.p99, l.max
        );
        for (name, mib) in &self.peak_rss_mib {
            println!("peak RSS {name:<20} {mib:>7.1} MiB");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).rev().map(|ms| ms * 1000).collect());
        assert_eq!(p.count, 100);
        assert!((p.p50 - 50.0).abs() < 1e-9);
        assert!((p.p95 - 95.0).abs() < 1e-9);
        assert!((p.p99 - 99.0).abs() < 1e-9);
        assert!((p.max - 100.0).abs() < 1e-9);
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }
}
