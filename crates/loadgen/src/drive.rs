//! `loadgen run`: an open-loop schedule of texts at `--rate`, each from a phone whose last text
//! was answered, through twilio-sim's `/sim/phones/{n}/send` (the simulator posts the signed
//! webhook and says when JOSH answered); replies are read from `GET /sim/outbound` with their
//! receipt times. One loop owns all state; sends and the feed report to it over a channel.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::mpsc;
use tokio::time::Instant;
use twilio_sim::wire::{Health, OutboundFeed, OutboundRecord, PhoneSend, PhoneSent};

use crate::memory;
use crate::phones::{Phones, SCRIPT, Sids};
use crate::report::{Accepted, Percentiles, Report};

/// Arguments of `loadgen run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The Twilio simulator.
    #[arg(long, default_value = "http://127.0.0.1:8091")]
    sim: String,
    /// JOSH's number (default: the one the simulator knows).
    #[arg(long)]
    to: Option<String>,
    /// Texts per second offered.
    #[arg(long, default_value_t = 500.0)]
    rate: f64,
    /// Seconds of sending.
    #[arg(long, default_value_t = 60.0)]
    duration: f64,
    /// Seconds to wait for the last replies after sending stops.
    #[arg(long, default_value_t = 30.0)]
    drain: f64,
    /// Most sends in flight; a tick that finds this many is skipped (and counted).
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
    /// Share of answered texts whose webhook is delivered again: half at once (a duplicate),
    /// half after the phone's next text (reordered).
    #[arg(long, default_value_t = 0.0)]
    redeliver: f64,
    /// Directory of `<service>.pid` files whose processes' memory is sampled.
    #[arg(long)]
    pids: Option<PathBuf>,
    /// Where to write the run's JSON report (the input of `loadgen verify`).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Area code of the run's phones (default: drawn from the clock).
    #[arg(long)]
    area: Option<u32>,
}

/// How many times one text's webhook is tried (Twilio-style retries with the same SID).
const ATTEMPTS: u32 = 8;

enum Event {
    Sent {
        phone: usize,
        sid: String,
        result: Result<PhoneSent, String>,
        retries: usize,
    },
    Redelivered(bool),
    Feed(Vec<OutboundRecord>),
}

/// Drives the load and prints (and saves) the report.
pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.rate > 0.0 && args.rate.is_finite(),
        "--rate must be above 0"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.redeliver),
        "--redeliver is a share from 0 to 1"
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .context("cannot build the HTTP client")?;
    let base = args.sim.trim_end_matches('/').to_owned();
    let health: Health = http
        .get(format!("{base}/sim/health"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .with_context(|| format!("is the Twilio simulator running at {base}?"))?
        .json()
        .await?;
    let to = args
        .to
        .clone()
        .or(health.josh_number)
        .context("JOSH's number is unknown: pass --to")?;
    let start_index = feed_page(&http, &base, None).await?.total;
    let sampler = args
        .pids
        .clone()
        .map(|dir| memory::sample(dir, Duration::from_millis(500)));
    let (tx, rx) = mpsc::unbounded_channel();
    let feed = tokio::spawn(poll_feed(
        http.clone(),
        base.clone(),
        start_index,
        tx.clone(),
    ));
    let mut driver = Driver::new(&args, http, base, to, tx);
    let report = driver.drive(rx).await;
    feed.abort();
    let mut report = report?;
    if let Some((peaks, task)) = sampler {
        task.abort();
        if let Some(dir) = &args.pids {
            memory::record(dir, &peaks);
        }
        let peaks = peaks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        report.peak_rss_mib = peaks
            .iter()
            .map(|(k, v)| (k.clone(), *v as f64 / 1024.0))
            .collect();
    }
    report.print();
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn feed_page(
    http: &reqwest::Client,
    base: &str,
    after: Option<usize>,
) -> anyhow::Result<OutboundFeed> {
    let mut url = format!("{base}/sim/outbound");
    if let Some(after) = after {
        url.push_str(&format!("?after={after}"));
    }
    let feed = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(feed)
}

/// Reads the simulator's creates from `total` on, forever (the caller aborts it).
async fn poll_feed(
    http: reqwest::Client,
    base: String,
    total: usize,
    tx: mpsc::UnboundedSender<Event>,
) {
    let mut after = total.checked_sub(1);
    loop {
        match feed_page(&http, &base, after).await {
            Ok(feed) if !feed.messages.is_empty() => {
                after = feed.messages.last().map(|m| m.index);
                if tx.send(Event::Feed(feed.messages)).is_err() {
                    return;
                }
            }
            // Nothing new, or the simulator is briefly unreachable: look again shortly.
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

struct Driver {
    rate: f64,
    duration: Duration,
    drain: Duration,
    concurrency: usize,
    redeliver: f64,
    http: reqwest::Client,
    base: String,
    to: String,
    tx: mpsc::UnboundedSender<Event>,
    phones: Phones,
    sids: Sids,
    in_flight: usize,
    awaiting: usize,
    latencies: Vec<i64>,
    report: Report,
    /// A deterministic spread for the redelivery choice (no randomness needed).
    redeliver_acc: f64,
}

impl Driver {
    fn new(
        args: &RunArgs,
        http: reqwest::Client,
        base: String,
        to: String,
        tx: mpsc::UnboundedSender<Event>,
    ) -> Self {
        Self {
            rate: args.rate,
            duration: Duration::from_secs_f64(args.duration.max(0.0)),
            drain: Duration::from_secs_f64(args.drain.max(0.0)),
            concurrency: args.concurrency.max(1),
            redeliver: args.redeliver,
            http,
            base,
            to,
            tx,
            phones: Phones::new(args.area),
            sids: Sids::new(),
            in_flight: 0,
            awaiting: 0,
            latencies: Vec::new(),
            report: Report {
                offered_rate: args.rate,
                ..Report::default()
            },
            redeliver_acc: 0.0,
        }
    }

    async fn drive(&mut self, mut rx: mpsc::UnboundedReceiver<Event>) -> anyhow::Result<Report> {
        let started = Instant::now();
        let stop_sending = started + self.duration;
        let interval = Duration::from_secs_f64(1.0 / self.rate);
        let mut next_tick = started;
        let mut last_answer = started;
        while Instant::now() < stop_sending {
            tokio::select! {
                () = tokio::time::sleep_until(next_tick) => {
                    next_tick += interval;
                    self.tick();
                }
                Some(event) = rx.recv() => {
                    if matches!(event, Event::Sent { .. }) { last_answer = Instant::now(); }
                    self.handle(event);
                }
            }
        }
        let sending = last_answer.max(stop_sending).duration_since(started);
        let replies_before = self.report.replies;
        let drain_until = Instant::now() + self.drain;
        while (self.in_flight > 0 || self.awaiting > 0) && Instant::now() < drain_until {
            tokio::select! {
                () = tokio::time::sleep_until(drain_until) => break,
                Some(event) = rx.recv() => self.handle(event),
            }
        }
        let _ = replies_before;
        Ok(self.finish(started, sending))
    }

    fn finish(&mut self, started: Instant, sending: Duration) -> Report {
        let mut report = std::mem::take(&mut self.report);
        let window = self.duration.as_secs_f64().max(1e-9);
        report.duration_secs = self.duration.as_secs_f64();
        report.phones = self.phones.all.len();
        report.webhook_throughput = report.accepted as f64 / sending.as_secs_f64().max(window);
        report.reply_throughput =
            report.replies as f64 / started.elapsed().as_secs_f64().max(window);
        report.missing_replies = self.awaiting;
        report.unexpected_replies = self.phones.all.iter().map(|p| p.early.len()).sum();
        report.latency_ms = Percentiles::of(std::mem::take(&mut self.latencies));
        report.accepted_texts = self
            .phones
            .all
            .iter()
            .flat_map(|p| {
                p.accepted.iter().map(|sid| Accepted {
                    phone: p.number.clone(),
                    sid: sid.clone(),
                })
            })
            .collect();
        report
    }

    fn tick(&mut self) {
        if self.in_flight >= self.concurrency {
            self.report.skipped += 1;
            return;
        }
        let phone = self.phones.take_ready();
        let body = SCRIPT[self.phones.all[phone].step];
        self.phones.all[phone].step += 1;
        let sid = self.sids.next();
        self.in_flight += 1;
        self.spawn_send(phone, sid, body, false);
    }

    /// Sends one webhook (retrying with the same SID while JOSH is down or answers 5xx).
    fn spawn_send(&self, phone: usize, sid: String, body: &'static str, redelivery: bool) {
        let request = PhoneSend {
            to: self.to.clone(),
            body: body.to_owned(),
            messaging_service_sid: None,
            sid: Some(sid.clone()),
        };
        let url = format!(
            "{}/sim/phones/{}/send",
            self.base, self.phones.all[phone].number
        );
        let (http, tx) = (self.http.clone(), self.tx.clone());
        tokio::spawn(async move {
            let (result, retries) = send_with_retries(&http, &url, &request).await;
            let event = if redelivery {
                Event::Redelivered(result.is_ok())
            } else {
                Event::Sent {
                    phone,
                    sid,
                    result,
                    retries,
                }
            };
            let _ = tx.send(event);
        });
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Sent {
                phone,
                sid,
                result,
                retries,
            } => {
                self.in_flight -= 1;
                self.report.retries += retries;
                match result {
                    Ok(sent) => self.accepted(phone, sid, sent.answered_at_us),
                    Err(error) => *self.report.errors.entry(error).or_default() += 1,
                }
            }
            Event::Redelivered(ok) => {
                self.report.redeliveries += 1;
                if !ok {
                    self.report.redelivery_errors += 1;
                }
            }
            Event::Feed(records) => {
                for record in records {
                    self.reply(&record);
                }
            }
        }
    }

    fn accepted(&mut self, phone: usize, sid: String, answered_at_us: i64) {
        self.report.accepted += 1;
        let p = &mut self.phones.all[phone];
        p.accepted.push(sid.clone());
        if let Some(received) = p.early.pop_front() {
            self.latencies.push(received - answered_at_us);
            self.report.replies += 1;
            self.next_text(phone);
        } else {
            p.awaiting = Some(answered_at_us);
            self.awaiting += 1;
        }
        self.maybe_redeliver(phone, sid);
    }

    /// Every `1/redeliver`-th answered text is delivered again: alternately at once, and after
    /// the phone's next text (the previous SID, so it arrives out of order).
    fn maybe_redeliver(&mut self, phone: usize, sid: String) {
        self.redeliver_acc += self.redeliver;
        if self.redeliver_acc < 1.0 {
            return;
        }
        self.redeliver_acc -= 1.0;
        let p = &self.phones.all[phone];
        let step = p.accepted.len() - 1;
        let older = step
            .checked_sub(1)
            .filter(|_| self.report.redeliveries % 2 == 1);
        let (sid, line) = match older {
            Some(prev) => (p.accepted[prev].clone(), SCRIPT[prev]),
            None => (sid, SCRIPT[step.min(SCRIPT.len() - 1)]),
        };
        self.spawn_send(phone, sid, line, true);
    }

    fn reply(&mut self, record: &OutboundRecord) {
        let Some(&phone) = self.phones.by_number.get(&record.to) else {
            return; // someone else's message
        };
        let p = &mut self.phones.all[phone];
        match p.awaiting.take() {
            Some(answered_at_us) => {
                self.awaiting -= 1;
                self.latencies.push(record.created_at_us - answered_at_us);
                self.report.replies += 1;
                self.next_text(phone);
            }
            None => p.early.push_back(record.created_at_us),
        }
    }

    /// The phone's reply arrived: it may send its next line (if it has one left).
    fn next_text(&mut self, phone: usize) {
        if self.phones.all[phone].step < SCRIPT.len() {
            self.phones.ready.push_back(phone);
        }
    }
}

async fn send_with_retries(
    http: &reqwest::Client,
    url: &str,
    request: &PhoneSend,
) -> (Result<PhoneSent, String>, usize) {
    let mut backoff = Duration::from_millis(250);
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(4));
        }
        let answer = http
            .post(url)
            .json(request)
            .timeout(Duration::from_secs(20))
            .send()
            .await;
        last = match answer {
            Ok(response) if response.status().is_success() => {
                match response.json::<PhoneSent>().await {
                    Ok(sent) if sent.webhook_status == 200 => return (Ok(sent), attempt as usize),
                    Ok(sent) => format!("webhook answered {}", sent.webhook_status),
                    Err(_) => "undecodable simulator answer".to_owned(),
                }
            }
            Ok(response) => format!("simulator answered {}", response.status().as_u16()),
            Err(error) if error.is_timeout() => "timeout".to_owned(),
            Err(_) => "simulator unreachable".to_owned(),
        };
    }
    (Err(last), ATTEMPTS as usize - 1)
}
