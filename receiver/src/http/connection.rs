//! One connection's socket and timeouts: [`TimedIo`] closes a connection whose client is too
//! slow, and [`Phase`] says what it was doing, so that a request cut short before the handler got
//! it still leaves its log line.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

use crate::config::Limits;

// What a connection is doing, as far as its timeouts go.
/// Waiting for the next request: [`Limits::idle_timeout`].
pub(crate) const IDLE: u8 = 0;
/// Reading a request's headers: [`Limits::header_timeout`].
pub(crate) const HEAD: u8 = 1;
/// Handling a request: the handler bounds the body.
pub(crate) const BUSY: u8 = 2;

/// What a connection is doing, shared by its socket and its service: the phase, and whether bytes
/// of a request the service has not got yet were read.
#[derive(Debug, Default)]
pub(crate) struct Phase {
    phase: AtomicU8,
    started: AtomicBool,
    /// The request's headers took longer than the header timeout.
    timed_out: AtomicBool,
}

impl Phase {
    /// A new connection: waiting for its first request's headers.
    pub(crate) fn new() -> Arc<Phase> {
        let phase = Phase::default();
        phase.phase.store(HEAD, Relaxed);
        Arc::new(phase)
    }

    /// The service got a request: its headers are read.
    pub(crate) fn busy(&self) {
        self.started.store(false, Relaxed);
        self.phase.store(BUSY, Relaxed);
    }

    /// The service has the response: the connection waits for the next request.
    pub(crate) fn idle(&self) {
        self.phase.store(IDLE, Relaxed);
    }

    /// Whether bytes of a request were read that never reached the service.
    pub(crate) fn cut_short(&self) -> bool {
        self.started.load(Relaxed)
    }

    /// Whether the header timeout closed the connection.
    pub(crate) fn timed_out(&self) -> bool {
        self.timed_out.load(Relaxed)
    }
}

/// A connection's socket that fails a read or a write that waits longer than its phase allows.
///
/// The phase is shared with the connection's service: the service sets [`BUSY`] when it gets a
/// request (its headers are all read) and [`IDLE`] when it has the response; the first byte read
/// while idle moves to [`HEAD`]. A read that fails with `TimedOut` makes hyper close the
/// connection.
pub(crate) struct TimedIo {
    stream: TcpStream,
    phase: Arc<Phase>,
    seen: u8,
    header_timeout: Duration,
    idle_timeout: Duration,
    write_timeout: Duration,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
    write_armed: bool,
}

impl TimedIo {
    pub(crate) fn new(stream: TcpStream, phase: Arc<Phase>, limits: &Limits) -> TimedIo {
        TimedIo {
            stream,
            seen: phase.phase.load(Relaxed),
            phase,
            header_timeout: limits.header_timeout,
            idle_timeout: limits.idle_timeout,
            write_timeout: limits.write_timeout,
            read_timer: Box::pin(tokio::time::sleep(limits.header_timeout)),
            write_timer: Box::pin(tokio::time::sleep(limits.write_timeout)),
            write_armed: false,
        }
    }

    fn enter(&mut self, phase: u8) {
        self.seen = phase;
        let limit = match phase {
            IDLE => self.idle_timeout,
            HEAD => self.header_timeout,
            _ => return,
        };
        self.read_timer.as_mut().reset((Instant::now() + limit).into());
    }

    fn write_stalled(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.write_armed {
            self.write_armed = true;
            let deadline = Instant::now() + self.write_timeout;
            self.write_timer.as_mut().reset(deadline.into());
        }
        self.write_timer.as_mut().poll(cx).is_ready()
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timeout"))
}

impl AsyncRead for TimedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let phase = this.phase.phase.load(Relaxed);
        if phase != this.seen {
            this.enter(phase);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    if this.seen == IDLE {
                        this.phase.phase.store(HEAD, Relaxed);
                        this.enter(HEAD);
                    }
                    if this.seen == HEAD {
                        this.phase.started.store(true, Relaxed);
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => match this.seen {
                IDLE | HEAD if this.read_timer.as_mut().poll(cx).is_ready() => {
                    if this.seen == HEAD {
                        this.phase.timed_out.store(true, Relaxed);
                    }
                    Poll::Ready(Err(timed_out(if this.seen == IDLE { "idle" } else { "header" })))
                }
                _ => Poll::Pending,
            },
            error => error,
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Pending if this.write_stalled(cx) => Poll::Ready(Err(timed_out("write"))),
            Poll::Pending => Poll::Pending,
            done => {
                this.write_armed = false;
                done
            }
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Pending if this.write_stalled(cx) => Poll::Ready(Err(timed_out("write"))),
            Poll::Pending => Poll::Pending,
            done => {
                this.write_armed = false;
                done
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
