use std::future::Future;
use std::time::Duration;

/// Polls `condition` until it returns true, failing with `what` once `deadline` has passed.
///
/// Polling backs off from 10 ms to 200 ms. This waits for a real condition; it never stands in
/// for one.
///
/// # Errors
/// Returns an error naming `what` when the deadline passes first.
pub async fn wait_until<F, Fut>(
    what: &str,
    deadline: Duration,
    mut condition: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let give_up = tokio::time::Instant::now() + deadline;
    let mut pause = Duration::from_millis(10);
    loop {
        if condition().await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= give_up {
            anyhow::bail!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
