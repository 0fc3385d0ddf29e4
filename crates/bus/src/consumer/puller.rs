//! Reading one durable consumer: its pull stream, opened again after a failed pull or when the
//! server ends it, until shutdown.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::consumer::pull::Stream;
use async_nats::jetstream::{AckKind, Message};
use futures::{FutureExt, StreamExt};
use tokio_util::sync::CancellationToken;

use platform::errors::ErrorChain;

/// How long a stopping puller waits at most for what the server may still be sending (the
/// message it delivers in answer to the last ack is a round trip or so behind it). It waits only
/// while the consumer's state says something may come.
const RELEASE_GRACE: Duration = Duration::from_secs(1);

/// The redelivery delay a handed-back message asks for, so that the server has let go of the
/// closed stream's pull request before it redelivers: with 1 ms, tests saw some messages
/// redelivered to that request (and so lost until the ack wait); with 250 ms, none. (A nak
/// without a delay would wait out the consumer's first backoff step, never shorter than the ack
/// wait.)
const HAND_BACK_DELAY: Duration = Duration::from_millis(250);

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

    /// Whether the server may still send this reader a message while it holds `held`: the
    /// durable has messages it has not delivered and room under its ack-pending limit, or more
    /// delivered and unacknowledged than this reader holds (one may be on its way here). After
    /// an ordered partition's last ack the server is about to deliver the next message; an idle
    /// consumer has nothing to wait for. When the server cannot say, assume it may.
    async fn may_send_more(&mut self, held: usize) -> bool {
        let Ok(info) = self.consumer.info().await else {
            return true;
        };
        let limit = usize::try_from(info.config.max_ack_pending).unwrap_or(0);
        let room = limit == 0 || info.num_ack_pending < limit;
        (info.num_pending > 0 && room) || info.num_ack_pending > held
    }

    /// Hands back, after shutdown, what the server sent and nobody read, so that the next reader
    /// (another instance, or this one restarted) gets it now instead of after the ack wait (10 s
    /// by default, and a partition's every later message waits behind it). The pull stream is
    /// closed first: a message naked while its pull request still has a listener comes straight
    /// back to it. A message that takes longer than [`RELEASE_GRACE`] to arrive is not seen
    /// here and waits out the ack wait as before. `unread` are messages already taken that will
    /// not be handled after all.
    pub(super) async fn release(mut self, mut unread: Vec<Message>) {
        if let Some(mut messages) = self.messages.take() {
            let deadline = tokio::time::Instant::now() + RELEASE_GRACE;
            while self.may_send_more(unread.len()).await {
                match tokio::time::timeout_at(deadline, messages.next()).await {
                    Ok(Some(Ok(message))) => unread.push(message),
                    Ok(Some(Err(error))) => {
                        tracing::debug!(consumer = self.name, error = %ErrorChain(&error), "pull stream hiccup");
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            // Dropping the stream unsubscribes (queued before the naks below), and the server
            // drops a pull request nobody listens to.
            drop(messages);
        }
        for message in unread {
            if let Err(error) = message.ack_with(AckKind::Nak(Some(HAND_BACK_DELAY))).await {
                tracing::debug!(consumer = self.name, error = %ErrorChain(&*error), "could not hand back an unread message");
            }
        }
    }
}
