//! Reading one durable consumer: its pull stream, opened again after a failed pull or when the
//! server ends it, until shutdown.

use std::time::Duration;

use async_nats::jetstream::Message;
use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::consumer::pull::Stream;
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;

use platform::errors::ErrorChain;

/// One durable consumer's messages, one at a time or as many as already arrived.
pub(super) struct Puller {
    name: &'static str,
    consumer: PullConsumer,
    messages: Option<Stream>,
}

impl Puller {
    /// A reader of `consumer`, logging as the consuming service `name`.
    pub(super) fn new(name: &'static str, consumer: PullConsumer) -> Self {
        Self {
            name,
            consumer,
            messages: None,
        }
    }

    /// The next message; `None` once `shutdown` fired (checked before anything else, so no
    /// message is taken after it).
    pub(super) async fn next(&mut self, shutdown: &CancellationToken) -> Option<Message> {
        loop {
            if shutdown.is_cancelled() {
                return None;
            }
            let messages = match &mut self.messages {
                Some(messages) => messages,
                None => match self.consumer.messages().await {
                    Ok(messages) => self.messages.insert(messages),
                    Err(error) => {
                        tracing::warn!(consumer = self.name, error = %ErrorChain(&error), "pull failed; retrying");
                        tokio::select! {
                            () = shutdown.cancelled() => return None,
                            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        }
                    }
                },
            };
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => return None,
                next = messages.next() => next,
            };
            match next {
                Some(Ok(message)) => return Some(message),
                Some(Err(error)) => {
                    tracing::debug!(consumer = self.name, error = %ErrorChain(&error), "pull stream hiccup");
                }
                // The server ended the stream: open a new one.
                None => self.messages = None,
            }
        }
    }

    /// `first` plus the messages already received, up to `max` in all, without waiting for more.
    pub(super) fn with_ready(&mut self, first: Message, max: usize) -> Vec<Message> {
        let mut batch = vec![first];
        while batch.len() < max {
            let Some(messages) = &mut self.messages else {
                break;
            };
            match messages.next().now_or_never() {
                Some(Some(Ok(message))) => batch.push(message),
                Some(Some(Err(error))) => {
                    tracing::debug!(consumer = self.name, error = %ErrorChain(&error), "pull stream hiccup");
                }
                Some(None) => self.messages = None,
                None => break,
            }
        }
        batch
    }
}
