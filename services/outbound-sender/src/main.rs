//! The `outbound-sender` binary: see the library for what it does.

use std::process::ExitCode;

use outbound_sender::{Config, SERVICE, Service};
use platform::clock::ClockSetting;

fn main() -> ExitCode {
    let load = |env: &_| Ok((Config::from_env(env)?, ClockSetting::from_env(env)?));
    platform::run_main(SERVICE, load, |(config, clock), shutdown| async move {
        let clock = clock.start().await?;
        Service::build_with_clock(config, clock)
            .await?
            .run_until_stopped(shutdown)
            .await?;
        Ok(())
    })
}
