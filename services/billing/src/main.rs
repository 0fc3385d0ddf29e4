//! The `billing` binary: see the library for what it does. `billing reconcile` runs one
//! reconciliation pass and exits (for a scheduler; the service itself runs the pass every
//! `BILLING_RECONCILE_INTERVAL_SECS` unless that is 0).

use std::process::ExitCode;

use billing::{Config, SERVICE, Service};
use platform::clock::ClockSetting;

fn main() -> ExitCode {
    let load = |env: &_| Ok((Config::from_env(env)?, ClockSetting::from_env(env)?));
    match std::env::args().nth(1).as_deref() {
        None => platform::run_main(SERVICE, load, |(config, clock), shutdown| async move {
            let clock = clock.start().await?;
            Service::build_with_clock(config, clock)
                .await?
                .run_until_stopped(shutdown)
                .await?;
            Ok(())
        }),
        Some("reconcile") => platform::run_main(SERVICE, load, |(config, clock), _| async move {
            let clock = clock.start().await?;
            let report = billing::reconcile_once(&config, clock).await?;
            tracing::info!(
                refreshed = report.refreshed,
                failed = report.failed,
                expired = report.expired,
                "reconciliation pass done"
            );
            Ok(())
        }),
        Some(other) => {
            eprintln!("{SERVICE}: unknown command {other:?} (expected none, or `reconcile`)");
            ExitCode::from(2)
        }
    }
}
