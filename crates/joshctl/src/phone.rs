//! `joshctl phone NUMBER`: text JOSH from a terminal, as the phone `NUMBER`, through the local
//! Twilio simulator. Each line typed (or piped in) becomes an inbound SMS (a signed Twilio webhook
//! to inbound-sms); every message JOSH sends to `NUMBER` is printed as it arrives,
//! `[10:31:02] JOSH: ...`. Ctrl-D (end of input) quits.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context;
use time::{OffsetDateTime, UtcOffset};
use tokio::io::AsyncBufReadExt;
use tokio::time::Instant;
use twilio_sim::client::PhoneClient;
use twilio_sim::wire::InboxMessage;

/// How long one inbox long poll waits on the simulator.
const POLL_WAIT: Duration = Duration::from_secs(25);

/// Arguments of `joshctl phone`.
#[derive(Debug, clap::Args)]
pub(crate) struct PhoneArgs {
    /// This phone's number, E.164 (e.g. +15555550100).
    number: String,
    /// JOSH's number (default: the one the simulator was started with).
    #[arg(long, env = "TWILIO_FROM_NUMBER")]
    to: Option<String>,
    /// The Twilio simulator.
    #[arg(long, env = "TWILIO_SIM_URL", default_value = "http://127.0.0.1:8091")]
    sim: String,
    /// After the end of input, keep printing replies until none arrived for this many seconds
    /// (default: 0 at a terminal, 3 when input is piped).
    #[arg(long)]
    linger: Option<f64>,
}

/// Prints times in the local timezone (UTC when it cannot be determined).
#[derive(Debug, Clone, Copy)]
struct Clock(UtcOffset);

impl Clock {
    fn stamp(self) -> String {
        let now = OffsetDateTime::now_utc().to_offset(self.0);
        format!("{:02}:{:02}:{:02}", now.hour(), now.minute(), now.second())
    }
}

/// Runs the phone until the end of input.
pub(crate) async fn run(args: PhoneArgs) -> anyhow::Result<ExitCode> {
    // Read the timezone first, while this process has a single thread (a requirement of `time`).
    let clock = Clock(UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC));
    anyhow::ensure!(
        is_e164(&args.number),
        "NUMBER {:?} is not an E.164 number such as +15555550100",
        args.number
    );
    let phone = PhoneClient::new(&args.sim, &args.number);
    let health = phone.health().await.with_context(|| {
        format!(
            "is the Twilio simulator running at {}? (deploy/dev.sh up starts it)",
            args.sim
        )
    })?;
    let to = args
        .to
        .or(health.josh_number)
        .context("JOSH's number is unknown: pass --to +1... (or set TWILIO_FROM_NUMBER)")?;
    anyhow::ensure!(
        is_e164(&to),
        "--to {to:?} is not an E.164 number such as +15005550006"
    );
    // Print only what arrives from now on.
    let seen = phone
        .inbox(None, Duration::ZERO)
        .await?
        .last()
        .map(|m| m.index);
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "Texting JOSH ({to}) as {} via {}. Type a message and press Enter; Ctrl-D quits.",
            args.number, args.sim
        );
    }
    let last_arrival = Arc::new(Mutex::new(Instant::now()));
    let printer = tokio::spawn(print_replies(
        phone.clone(),
        seen,
        to.clone(),
        clock,
        Arc::clone(&last_arrival),
    ));
    send_lines(&phone, &to, clock, !interactive).await?;
    let linger = args.linger.unwrap_or(if interactive { 0.0 } else { 3.0 });
    let linger = Duration::try_from_secs_f64(linger).context("--linger must be >= 0")?;
    wait_until_quiet(&last_arrival, linger).await;
    printer.abort();
    Ok(ExitCode::SUCCESS)
}

fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Sends each line of standard input as a text, until end of input.
async fn send_lines(phone: &PhoneClient, to: &str, clock: Clock, echo: bool) -> anyhow::Result<()> {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines
        .next_line()
        .await
        .context("cannot read standard input")?
    {
        let text = line.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        if echo {
            println!("[{}] me: {text}", clock.stamp());
        }
        match phone.send(to, text).await {
            Ok(sent) if (200..300).contains(&sent.webhook_status) => {}
            Ok(sent) => eprintln!(
                "! JOSH answered the webhook with HTTP {} (see deploy/dev.sh logs inbound-sms)",
                sent.webhook_status
            ),
            Err(error) => eprintln!("! not sent: {error}"),
        }
    }
    Ok(())
}

/// Long-polls the phone's inbox and prints every message, forever (the caller aborts it).
async fn print_replies(
    phone: PhoneClient,
    mut seen: Option<usize>,
    josh: String,
    clock: Clock,
    last_arrival: Arc<Mutex<Instant>>,
) {
    let mut failing = false;
    loop {
        match phone.inbox(seen, POLL_WAIT).await {
            Ok(messages) => {
                if failing {
                    eprintln!("! reconnected to the simulator");
                    failing = false;
                }
                for message in messages {
                    print_reply(&message, &josh, clock);
                    seen = Some(message.index);
                    *last_arrival.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
                }
            }
            Err(error) => {
                if !failing {
                    eprintln!("! cannot read replies: {error} (retrying)");
                    failing = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn print_reply(message: &InboxMessage, josh: &str, clock: Clock) {
    let sender = match message.from.as_deref() {
        Some(from) if from != josh => from,
        _ => "JOSH",
    };
    println!("[{}] {sender}: {}", clock.stamp(), message.body);
}

/// Returns once no reply has arrived for `quiet` (counting from now at the earliest).
async fn wait_until_quiet(last_arrival: &Mutex<Instant>, quiet: Duration) {
    let eof = Instant::now();
    loop {
        let last = (*last_arrival.lock().unwrap_or_else(PoisonError::into_inner)).max(eof);
        let until = last + quiet;
        if Instant::now() >= until {
            return;
        }
        tokio::time::sleep_until(until).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_must_be_e164() {
        assert!(is_e164("+15555550100"));
        assert!(!is_e164("5555550100"));
        assert!(!is_e164("+1 555"));
    }
}
