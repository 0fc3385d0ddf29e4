//! `joshctl demo`: plays issue 9's journey against the running dev stack (`deploy/dev.sh up`,
//! whose services run on the shared simulated clock) and prints it as a transcript with the
//! simulated time: eight people text in, register, answer the interview and pay on the Stripe
//! simulator's checkout page; Ann starts a LinkUp; invites go out; some say yes, some no, one
//! too late; it locks; the reminder and the questions afterwards arrive as the clock moves;
//! two pairs swap numbers, one pair does not.
//!
//! Every run uses fresh phone numbers and moves the clock forward only (to the next Wednesday
//! 10:00 in San Francisco, out of quiet hours), so it runs again on the same stack. People
//! already in the dev database may be invited too: the demo only counts its own phones.

mod after;
mod journey;
mod person;

use std::process::ExitCode;
use std::time::Duration as StdDuration;

use anyhow::Context;
use platform::clock::{Clock, SimulatedClock};
use time::OffsetDateTime;
use twilio_sim::client::PhoneClient;

use person::Shared;

/// The region the dev seed opens (`deploy/seed/dev.sql`): where the demo's people live.
const ZONE: &str = "America/Los_Angeles";

/// Arguments of `joshctl demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// The Twilio simulator.
    #[arg(long, env = "TWILIO_SIM_URL", default_value = "http://127.0.0.1:8091")]
    sim: String,
    /// The Stripe simulator.
    #[arg(long, env = "STRIPE_SIM_URL", default_value = "http://127.0.0.1:8092")]
    stripe: String,
    /// The services' HTTP base URLs, checked before starting (comma-separated).
    #[arg(
        long,
        default_value = "http://127.0.0.1:8081,http://127.0.0.1:8082,http://127.0.0.1:8083,http://127.0.0.1:8084,http://127.0.0.1:8085"
    )]
    services: String,
    /// Seconds a step waits for the reply it expects before the demo fails.
    #[arg(long, default_value_t = 20)]
    step_secs: u64,
}

/// Runs the demo.
pub(crate) async fn run(nats_url: &str, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let http = reqwest::Client::new();
    let josh = preflight(&http, &args).await?;
    let store = crate::clock::open(nats_url).await?;
    let clock = SimulatedClock::follow(store.clone()).await?;
    let zone = jiff::tz::TimeZone::get(ZONE)
        .context("the time zone database lacks America/Los_Angeles")?;
    let shared = Shared {
        clock,
        store,
        josh,
        sim: args.sim.clone(),
        zone,
        deadline: StdDuration::from_secs(args.step_secs),
    };
    let start = next_wednesday_morning(shared.clock.now(), &shared.zone)?;
    shared.store.set(start).await?;
    wait_for_clock(&shared, start).await?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "JOSH demo: simulated time set to {} (San Francisco); JOSH's number is {}.",
            jiff::Timestamp::from_second(start.unix_timestamp())
                .map(|t| t
                    .to_zoned(shared.zone.clone())
                    .strftime("%A %Y-%m-%d %H:%M")
                    .to_string())
                .unwrap_or_else(|_| start.to_string()),
            shared.josh
        );
    }
    journey::play(&shared, &http).await?;
    #[allow(clippy::print_stdout)]
    {
        println!(
            "Demo finished in {:.0}s of real time.",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks the simulators and every service answer; returns JOSH's number.
async fn preflight(http: &reqwest::Client, args: &DemoArgs) -> anyhow::Result<String> {
    let down = "is the stack up? Start it with deploy/dev.sh up";
    let health = PhoneClient::new(&args.sim, "+15555550100")
        .health()
        .await
        .with_context(|| {
            format!(
                "the Twilio simulator does not answer at {} ({down})",
                args.sim
            )
        })?;
    let stripe = format!("{}/sim/health", args.stripe.trim_end_matches('/'));
    let ok =
        |r: Result<reqwest::Response, reqwest::Error>| r.is_ok_and(|r| r.status().is_success());
    anyhow::ensure!(
        ok(http
            .get(&stripe)
            .timeout(StdDuration::from_secs(5))
            .send()
            .await),
        "the Stripe simulator does not answer at {} ({down})",
        args.stripe
    );
    for base in args
        .services
        .split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        let readyz = format!("{}/readyz", base.trim_end_matches('/'));
        anyhow::ensure!(
            ok(http
                .get(&readyz)
                .timeout(StdDuration::from_secs(5))
                .send()
                .await),
            "{readyz} is not ready ({down}; deploy/dev.sh status shows each service)"
        );
    }
    health
        .josh_number
        .context("the Twilio simulator does not know JOSH's number (TWILIO_FROM_NUMBER)")
}

/// The next Wednesday 10:00 in `zone` on a later day than `now`: daytime (no quiet hours) and
/// three days before a Saturday-morning LinkUp. Always forward, so reruns never go back.
fn next_wednesday_morning(
    now: OffsetDateTime,
    zone: &jiff::tz::TimeZone,
) -> anyhow::Result<OffsetDateTime> {
    let mut date = jiff::Timestamp::from_second(now.unix_timestamp())?
        .to_zoned(zone.clone())
        .date();
    loop {
        date = date.tomorrow()?;
        if date.weekday() == jiff::civil::Weekday::Wednesday {
            let at = date.at(10, 0, 0, 0).to_zoned(zone.clone())?;
            return Ok(OffsetDateTime::from_unix_timestamp(
                at.timestamp().as_second(),
            )?);
        }
    }
}

/// The local wall time `day_offset` days after `start`'s date at `hour:minute`, San Francisco.
fn local(
    shared: &Shared,
    start: OffsetDateTime,
    day_offset: i64,
    hour: i8,
    minute: i8,
) -> anyhow::Result<OffsetDateTime> {
    let zoned = jiff::Timestamp::from_second(start.unix_timestamp())?.to_zoned(shared.zone.clone());
    let date = zoned
        .date()
        .checked_add(jiff::Span::new().days(day_offset))?;
    let at = date.at(hour, minute, 0, 0).to_zoned(shared.zone.clone())?;
    Ok(OffsetDateTime::from_unix_timestamp(
        at.timestamp().as_second(),
    )?)
}

/// Moves the shared clock to `at` and waits until this process's clock shows it.
async fn set_clock(shared: &Shared, at: OffsetDateTime) -> anyhow::Result<()> {
    shared.store.set(at).await?;
    wait_for_clock(shared, at).await
}

async fn wait_for_clock(shared: &Shared, at: OffsetDateTime) -> anyhow::Result<()> {
    let give_up = tokio::time::Instant::now() + StdDuration::from_secs(10);
    while shared.clock.now() < at - time::Duration::seconds(1) {
        anyhow::ensure!(
            tokio::time::Instant::now() < give_up,
            "the shared clock did not move (is NATS up?)"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_demo_starts_on_a_later_wednesday_at_ten_in_san_francisco() {
        let zone = jiff::tz::TimeZone::get(ZONE).unwrap();
        // Monday 2026-11-30 06:00 UTC is Sunday 22:00 in San Francisco (PST, UTC-8).
        let start = next_wednesday_morning(datetime!(2026-11-30 06:00 UTC), &zone).unwrap();
        assert_eq!(start, datetime!(2026-12-02 18:00 UTC));
        // On a Wednesday, even before 10:00, the next week's: never the same day, never back.
        let again = next_wednesday_morning(datetime!(2026-12-02 17:00 UTC), &zone).unwrap();
        assert_eq!(again, datetime!(2026-12-09 18:00 UTC));
        // Summer time (PDT, UTC-7).
        let summer = next_wednesday_morning(datetime!(2027-07-01 12:00 UTC), &zone).unwrap();
        assert_eq!(summer, datetime!(2027-07-07 17:00 UTC));
    }
}
