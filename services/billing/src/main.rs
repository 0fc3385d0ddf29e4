//! The `billing` binary: see the library for what it does.

use std::process::ExitCode;

use billing::{Config, SERVICE, Service};

fn main() -> ExitCode {
    platform::run_main(SERVICE, Config::from_env, |config, shutdown| async move {
        Service::build(config)
            .await?
            .run_until_stopped(shutdown)
            .await?;
        Ok(())
    })
}
