use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// A loopback TCP proxy in front of a real server that tests can switch off (refusing new
/// connections and cutting open ones) and back on.
#[derive(Debug)]
pub struct ToggleProxy {
    addr: SocketAddr,
    enabled: Arc<AtomicBool>,
    // Bumped on every switch-off; open connections end when they see a new generation.
    generation: watch::Sender<u64>,
    stop: CancellationToken,
}

impl ToggleProxy {
    /// Starts a proxy on an ephemeral loopback port forwarding to `upstream`, initially `enabled`.
    ///
    /// # Errors
    /// Fails when no loopback port can be bound.
    pub async fn start(upstream: SocketAddr, enabled: bool) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let enabled = Arc::new(AtomicBool::new(enabled));
        let (generation, _) = watch::channel(0_u64);
        let stop = CancellationToken::new();
        tokio::spawn(accept_loop(
            listener,
            upstream,
            enabled.clone(),
            generation.subscribe(),
            stop.clone(),
        ));
        Ok(Self {
            addr,
            enabled,
            generation,
            stop,
        })
    }

    /// The proxy's own address: point clients here.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts forwarding new connections.
    pub fn enable(&self) {
        self.enabled.store(true, Ordering::SeqCst);
    }

    /// Refuses new connections and cuts every open one.
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }
}

impl Drop for ToggleProxy {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    enabled: Arc<AtomicBool>,
    generation: watch::Receiver<u64>,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((client, _)) = accepted else { continue };
        if !enabled.load(Ordering::SeqCst) {
            drop(client);
            continue;
        }
        let mut generation = generation.clone();
        generation.mark_unchanged();
        let stop = stop.clone();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else {
                return;
            };
            let (mut client, mut server) = (client, server);
            tokio::select! {
                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                _ = generation.changed() => {}
                () = stop.cancelled() => {}
            }
        });
    }
}
