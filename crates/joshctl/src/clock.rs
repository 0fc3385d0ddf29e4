//! `joshctl clock show|advance <dur>|set <rfc3339>|reset`: the shared simulated clock every
//! service started with `JOSH_CLOCK=simulated` follows (wall time plus one offset in the
//! `josh_clock` JetStream bucket on `NATS_URL`).

use std::process::ExitCode;

use anyhow::Context;
use platform::clock::{BUCKET, OffsetStore};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// `joshctl clock ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ClockCommand {
    /// Print the simulated time and its offset from wall time.
    Show,
    /// Move the simulated time forward, e.g. `90m`, `2h`, `3d4h`, `45s` (a leading `-` goes back).
    Advance {
        /// How far: whole numbers with d, h, m or s, e.g. `1d2h30m`.
        #[arg(allow_hyphen_values = true)]
        by: String,
    },
    /// Set the simulated time, e.g. `2026-12-02T18:00:00Z`.
    Set {
        /// An RFC 3339 instant.
        at: String,
    },
    /// Back to wall time (offset zero).
    Reset,
}

/// Runs a clock command against the bucket on `nats_url`.
pub(crate) async fn run(nats_url: &str, command: ClockCommand) -> anyhow::Result<ExitCode> {
    let store = open(nats_url).await?;
    let offset = match command {
        ClockCommand::Show => store.offset().await?,
        ClockCommand::Advance { by } => store.advance(parse_duration(&by)?).await?,
        ClockCommand::Set { at } => {
            let at = OffsetDateTime::parse(&at, &Rfc3339).with_context(|| {
                format!("{at:?} is not an RFC 3339 time like 2026-12-02T18:00:00Z")
            })?;
            store.set(at).await?
        }
        ClockCommand::Reset => store.set(OffsetDateTime::now_utc()).await?,
    };
    println!("{}", describe(offset));
    Ok(ExitCode::SUCCESS)
}

/// The clock bucket on `nats_url`.
pub(crate) async fn open(nats_url: &str) -> anyhow::Result<OffsetStore> {
    let client = async_nats::connect(nats_url).await.with_context(|| {
        format!("cannot reach NATS at {nats_url} (is the stack up? deploy/dev.sh up)")
    })?;
    Ok(OffsetStore::open(client, BUCKET).await?)
}

/// `simulated now: ... (offset ...)`.
fn describe(offset: Duration) -> String {
    let now = (OffsetDateTime::now_utc() + offset)
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::now_utc());
    let shown = now.format(&Rfc3339).unwrap_or_else(|_| now.to_string());
    format!(
        "simulated now: {shown} (wall time {} {})",
        if offset.is_negative() { "-" } else { "+" },
        human(offset.abs())
    )
}

/// `3d 4h 5m 6s`.
pub(crate) fn human(d: Duration) -> String {
    let s = d.whole_seconds();
    let parts = [
        (s / 86_400, "d"),
        (s % 86_400 / 3600, "h"),
        (s % 3600 / 60, "m"),
        (s % 60, "s"),
    ];
    let shown: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n != 0)
        .map(|(n, u)| format!("{n}{u}"))
        .collect();
    if shown.is_empty() {
        "0s".to_owned()
    } else {
        shown.join(" ")
    }
}

/// `1d2h30m`, `90m`, `-1h` into a duration.
fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let bad = || anyhow::anyhow!("{text:?} is not a duration like 90m, 2h, 3d4h or 45s");
    let (negative, rest) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.trim()),
    };
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    for c in rest.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        let unit = match c {
            'd' => Duration::days(n),
            'h' => Duration::hours(n),
            'm' => Duration::minutes(n),
            's' => Duration::seconds(n),
            _ => return Err(bad()),
        };
        total = total.checked_add(unit).ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || rest.is_empty() {
        return Err(bad());
    }
    Ok(if negative { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("90m").unwrap(), Duration::minutes(90));
        assert_eq!(
            parse_duration("1d2h30m").unwrap(),
            Duration::minutes(24 * 60 + 150)
        );
        assert_eq!(parse_duration("-1h").unwrap(), Duration::hours(-1));
        assert_eq!(parse_duration("45s").unwrap(), Duration::seconds(45));
        for bad in ["", "5", "h", "2x", "1h5", "-"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn offsets_read_as_days_hours_minutes() {
        assert_eq!(
            human(Duration::seconds(3 * 86_400 + 3600 + 61)),
            "3d 1h 1m 1s"
        );
        assert_eq!(human(Duration::ZERO), "0s");
    }
}
