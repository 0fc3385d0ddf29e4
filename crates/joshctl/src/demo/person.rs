//! One demo phone: texts JOSH through the Twilio simulator, waits for the replies it expects,
//! and writes both to the transcript with the simulated time.

use std::time::Duration as StdDuration;

use anyhow::Context;
use platform::clock::{Clock, OffsetStore, SimulatedClock};
use time::Duration;
use tokio::time::Instant;
use twilio_sim::client::PhoneClient;

/// Simulated time each text moves the shared clock on: at most one text per phone every 7
/// simulated seconds keeps every phone under the router's 10 texts a minute.
const PER_TEXT: Duration = Duration::seconds(7);

/// What every phone shares: the clock, JOSH's number, the transcript's time zone, deadlines.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) clock: SimulatedClock,
    pub(crate) store: OffsetStore,
    pub(crate) josh: String,
    pub(crate) sim: String,
    pub(crate) zone: jiff::tz::TimeZone,
    /// How long a step waits for the reply it expects.
    pub(crate) deadline: StdDuration,
}

impl Shared {
    /// The simulated time as the transcript shows it: `Wed 10:00:07`.
    pub(crate) fn stamp(&self) -> String {
        let now = self.clock.now();
        jiff::Timestamp::from_second(now.unix_timestamp())
            .map(|t| {
                t.to_zoned(self.zone.clone())
                    .strftime("%a %H:%M:%S")
                    .to_string()
            })
            .unwrap_or_else(|_| now.to_string())
    }
}

/// One simulated person.
#[derive(Debug)]
pub(crate) struct Person {
    pub(crate) name: &'static str,
    phone: PhoneClient,
    seen: Option<usize>,
    shared: Shared,
    /// Messages received and printed but not yet matched by [`Person::expect`].
    pending: std::collections::VecDeque<String>,
    /// Lines not printed yet (while phones run side by side); printed at once otherwise.
    buffer: Option<Vec<String>>,
}

impl Person {
    /// `name` on phone `number`, printing lines as they happen.
    pub(crate) fn new(name: &'static str, number: &str, shared: &Shared) -> Self {
        Self {
            name,
            phone: PhoneClient::new(&shared.sim, number),
            seen: None,
            pending: std::collections::VecDeque::new(),
            shared: shared.clone(),
            buffer: None,
        }
    }

    /// The phone number.
    pub(crate) fn number(&self) -> &str {
        self.phone.number()
    }

    /// Holds lines back until [`Person::flush`] (phones working side by side print in blocks).
    pub(crate) fn hold(&mut self) {
        self.buffer.get_or_insert_with(Vec::new);
    }

    /// Prints the held lines and prints directly again.
    #[allow(clippy::print_stdout)]
    pub(crate) fn flush(&mut self) {
        for line in self.buffer.take().unwrap_or_default() {
            println!("{line}");
        }
    }

    #[allow(clippy::print_stdout)]
    fn line(&mut self, arrow: &str, text: &str) {
        let line = format!(
            "[{}] {:<4} {} {arrow} {text}",
            self.shared.stamp(),
            self.name,
            self.phone.number()
        );
        match &mut self.buffer {
            Some(buffer) => buffer.push(line),
            None => println!("{line}"),
        }
    }

    /// A note in the transcript.
    pub(crate) fn note(&mut self, text: &str) {
        self.line(" ", text);
    }

    /// Texts JOSH (moving the shared clock on a little first). What arrived before is printed
    /// and is no reply to this text.
    pub(crate) async fn say(&mut self, text: &str) -> anyhow::Result<()> {
        self.receive(StdDuration::ZERO).await?;
        self.pending.clear();
        self.shared.store.advance(PER_TEXT).await?;
        self.line(">", text);
        let sent = self
            .phone
            .send(&self.shared.josh, text)
            .await
            .with_context(|| format!("{} could not text JOSH", self.name))?;
        anyhow::ensure!(
            (200..300).contains(&sent.webhook_status),
            "inbound-sms answered {}'s text with HTTP {} (see deploy/dev.sh logs inbound-sms)",
            self.name,
            sent.webhook_status
        );
        Ok(())
    }

    /// Texts `text` and waits for a reply that `wanted` accepts.
    pub(crate) async fn ask(
        &mut self,
        text: &str,
        what: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        self.say(text).await?;
        self.expect(what, wanted).await
    }

    /// Waits (printing whatever arrives) for a message `wanted` accepts, failing after the
    /// step deadline with `what` in the error.
    pub(crate) async fn expect(
        &mut self,
        what: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let give_up = Instant::now() + self.shared.deadline;
        loop {
            let left = give_up.saturating_duration_since(Instant::now());
            if left.is_zero() {
                self.flush();
                anyhow::bail!(
                    "{} ({}) did not receive {what} within {:?}. Are all services up on the simulated clock \
                     (deploy/dev.sh status), and what do the logs say (deploy/dev.sh logs)?",
                    self.name,
                    self.phone.number(),
                    self.shared.deadline
                );
            }
            if let Some(body) = self.take(&wanted) {
                return Ok(body);
            }
            self.receive(left.min(StdDuration::from_secs(5))).await?;
        }
    }

    /// The first received message `wanted` accepts (the ones before it are dropped).
    pub(crate) fn take(&mut self, wanted: impl Fn(&str) -> bool) -> Option<String> {
        while let Some(body) = self.pending.pop_front() {
            if wanted(&body) {
                return Some(body);
            }
        }
        None
    }

    /// Whatever arrived (waiting up to `wait` for a first message), printed and kept for
    /// [`Person::take`].
    pub(crate) async fn receive(&mut self, wait: StdDuration) -> anyhow::Result<()> {
        let messages = self
            .phone
            .inbox(self.seen, wait)
            .await
            .context("cannot read a phone's inbox on the Twilio simulator")?;
        for message in messages {
            self.seen = Some(message.index);
            self.line("<", &message.body);
            self.pending.push_back(message.body);
        }
        Ok(())
    }
}
