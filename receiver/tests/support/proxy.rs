//! A TCP proxy on loopback, between the receiver and its database, that can black-hole the
//! connections open through it: they stay open, but nothing goes through them any more (as when a
//! firewall or a NAT forgets them), while new connections work.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The proxy: its address, and the switch.
pub struct Proxy {
    pub address: SocketAddr,
    /// Connections opened before this generation are black-holed.
    generation: Arc<AtomicU64>,
    holes: watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Forwards every connection to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let generation = Arc::new(AtomicU64::new(0));
        let (holes, watching) = watch::channel(0);
        let current = Arc::clone(&generation);
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let Ok(server) = TcpStream::connect(target).await else {
                    continue;
                };
                let born = current.load(SeqCst);
                tokio::spawn(pipe(client, server, born, watching.clone()));
            }
        });
        Proxy {
            address,
            generation,
            holes,
            task,
        }
    }

    /// From now on, nothing goes through the connections open now (they are not closed); new
    /// connections work.
    pub fn black_hole_open_connections(&self) {
        let next = self.generation.fetch_add(1, SeqCst) + 1;
        let _ = self.holes.send(next);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Copies both ways until either side closes, or until the connection is black-holed: then it
/// holds both sockets open without reading or writing, for as long as the proxy lives.
async fn pipe(client: TcpStream, server: TcpStream, born: u64, mut holes: watch::Receiver<u64>) {
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    loop {
        if *holes.borrow() > born {
            break;
        }
        tokio::select! {
            read = client_in.read(&mut up) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if server_out.write_all(&up[..n]).await.is_err() { return },
            },
            read = server_in.read(&mut down) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => if client_out.write_all(&down[..n]).await.is_err() { return },
            },
            changed = holes.changed() => if changed.is_err() { return },
        }
    }
    // Black-holed: open, silent, until the proxy is dropped (the sender goes away).
    while holes.changed().await.is_ok() {}
    drop((client_in, client_out, server_in, server_out));
}
