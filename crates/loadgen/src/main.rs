//! `loadgen`: JOSH's load and fault harness (docs/benchmarks.md, "End to end").
//!
//! `loadgen run` drives simulated phones through a running stack via twilio-sim's `/sim` API at a
//! target rate and reports sustained throughput, end-to-end latency (inbound webhook answered →
//! outbound Messages API call received by the simulator) and each service's peak memory.
//! `loadgen verify` checks afterwards that every answered webhook was handled exactly once.
//! `deploy/load.sh` runs both against a private stack, with faults.

#![allow(clippy::print_stdout)] // a CLI reports on stdout

mod drive;
mod memory;
mod phones;
mod report;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "JOSH's load and fault harness")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Drive simulated phones through a running stack and report throughput, latency, memory.
    Run(drive::RunArgs),
    /// Verify exactly-once handling after a run (Postgres, JetStream, the simulator).
    Verify(verify::VerifyArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => drive::run(args).await,
        Command::Verify(args) => verify::run(args).await,
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("loadgen: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
