//! Ordered consumers with a batch: every partition still has one message in flight at a time
//! (its durable delivers the next only after an ack, and its puller waits for the current one's
//! outcome before it reads on), but the partitions' current messages are handled together,
//! several in one transaction. Messages of different partitions have no order between them, so
//! a batch (or its fallback to one at a time) never lets a later message of a key pass an
//! earlier one.

use std::sync::Arc;

use async_nats::jetstream::Message;
use async_nats::jetstream::consumer::PullConsumer;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{Puller, Worker};
use crate::inbox::Handler;

/// A partition's current message, and how its puller hears that it was settled.
struct Current {
    message: Message,
    settled: oneshot::Sender<()>,
}

/// Pulls from every partition of `consumers` and hands their current messages to at most
/// `transactions` transactions at once, up to the spec's batch in each; returns when every
/// puller stopped (after `shutdown`) and every message it handed over was settled.
pub(super) async fn run<H: Handler>(
    worker: Worker<H>,
    consumers: Vec<PullConsumer>,
    transactions: usize,
    shutdown: CancellationToken,
) {
    let (sender, receiver) = mpsc::channel(consumers.len().max(1));
    let mut pullers = JoinSet::new();
    for consumer in consumers {
        let sender = sender.clone();
        let consumer_name = worker.spec.consumer;
        pullers.spawn(pull(consumer_name, consumer, sender, shutdown.clone()));
    }
    // The dispatcher stops once every puller dropped its sender.
    drop(sender);
    dispatch(worker, receiver, transactions).await;
    while pullers.join_next().await.is_some() {}
}

/// Reads one partition: hands each message over and waits until it is settled before reading
/// the next, until `shutdown`.
async fn pull(
    consumer_name: &'static str,
    consumer: PullConsumer,
    sender: mpsc::Sender<Current>,
    shutdown: CancellationToken,
) {
    let mut puller = Puller::new(consumer_name, consumer);
    while let Some(message) = puller.next(&shutdown).await {
        let (settled, done) = oneshot::channel();
        if let Err(mpsc::error::SendError(current)) =
            sender.send(Current { message, settled }).await
        {
            // The dispatcher is gone: let the server redeliver now rather than after the ack
            // wait.
            puller.release(vec![current.message]).await;
            return;
        }
        // An error only means the handling task ended without saying so (it panicked): the
        // message was not acked and comes back after the ack wait.
        let _ = done.await;
    }
    puller.release(Vec::new()).await;
}

/// Takes the partitions' current messages as they come: whenever a transaction slot is free,
/// everything ready (up to the batch) goes into one transaction.
async fn dispatch<H: Handler>(
    worker: Worker<H>,
    mut receiver: mpsc::Receiver<Current>,
    transactions: usize,
) {
    let permits = Arc::new(Semaphore::new(transactions.max(1)));
    let batch_size = worker.spec.batch.max(1);
    let mut in_flight = JoinSet::new();
    while let Some(first) = receiver.recv().await {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let mut batch = vec![first];
        while batch.len() < batch_size {
            match receiver.try_recv() {
                Ok(current) => batch.push(current),
                Err(_) => break,
            }
        }
        let worker = worker.clone();
        in_flight.spawn(async move {
            let (messages, settled): (Vec<_>, Vec<_>) =
                batch.into_iter().map(|c| (c.message, c.settled)).unzip();
            worker.handle_in_progress(messages).await;
            for settled in settled {
                let _ = settled.send(());
            }
            drop(permit);
        });
        while in_flight.try_join_next().is_some() {}
    }
    while in_flight.join_next().await.is_some() {}
}
