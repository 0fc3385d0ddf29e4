//! `joshctl dlq`: list and replay dead letters.

use std::process::ExitCode;

use anyhow::Context;

use crate::DlqCommand;

pub(crate) async fn run(nats_url: &str, command: DlqCommand) -> anyhow::Result<ExitCode> {
    let client = async_nats::connect(nats_url)
        .await
        .with_context(|| format!("cannot connect to NATS at {nats_url}"))?;
    let js = async_nats::jetstream::new(client);
    match command {
        DlqCommand::List { consumer, limit } => {
            let letters = bus::dlq::list(&js, consumer.as_deref(), limit).await?;
            if letters.is_empty() {
                println!("no dead letters");
                return Ok(ExitCode::SUCCESS);
            }
            println!(
                "{:>6}  {:<20}  {:<25}  {:>4}  {:<28}  REASON",
                "SEQ", "CONSUMER", "FAILED AT", "TRIES", "TYPE / EVENT"
            );
            for letter in letters {
                println!(
                    "{:>6}  {:<20}  {:<25}  {:>4}  {:<28}  {}",
                    letter.sequence,
                    letter.consumer,
                    letter.failed_at,
                    letter.deliveries,
                    describe(&letter.payload),
                    letter.reason
                );
            }
        }
        DlqCommand::Replay { sequence } => {
            let letter = bus::dlq::replay(&js, sequence).await?;
            println!(
                "replayed {sequence} to {} ({})",
                letter.original_subject,
                describe(&letter.payload)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The envelope's type and id, or a note that the payload does not decode.
fn describe(payload: &[u8]) -> String {
    match proto::decode::<proto::Envelope>(payload) {
        Ok(envelope) => format!("{} {}", envelope.r#type, envelope.event_id),
        Err(_) => "(undecodable payload)".to_owned(),
    }
}
