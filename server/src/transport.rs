//! The listener's side of HTTP: accepting connections, TLS, how long a client may stay idle or take to
//! send a request head, and how many connections are open at once. Serves a [`Router`] over hyper's
//! HTTP/1.1 with upgrades (websockets), one task per connection, and shuts down gracefully.
//!
//! - [`gate`]: the connection cap, and which connection gives way at it.
//! - [`tls`]: rustls from PEM files.
//!
//! Every connection ends when it has had no request in flight for [`Settings::header_read_timeout`]:
//! a client that sends half a header (or nothing, or stalls its TLS handshake) is cut off then, and so
//! is an idle keep-alive connection. Each request's address is set as `ConnectInfo<SocketAddr>` for
//! the rate limits. Must not know routes, roles or the domain.

pub mod gate;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use gate::{Busy, Dismissal, Gate, Slot, Ticket};

/// Open files kept for everything but connections (the store's pool, the log, the data files) when
/// the connection cap is taken from the open-file limit.
const RESERVED_FILES: u64 = 128;
/// Bounds of the connection cap taken from the open-file limit.
const MIN_CONNECTIONS: u64 = 16;
const MAX_DEFAULT_CONNECTIONS: u64 = 65_536;

/// What a connection may do.
#[derive(Clone)]
pub struct Settings {
    /// A connection with no request in flight for this long is closed: before its first request head
    /// is complete (TLS handshake included), and between keep-alive requests.
    pub header_read_timeout: Duration,
    /// Most connections open at once, websockets included. At the cap a new connection takes the
    /// place of the one idle longest; if every connection is busy, it is refused with a 503 at once.
    pub max_connections: usize,
    /// Serve HTTPS (and `wss:`) with this; plain HTTP when `None`.
    pub tls: Option<TlsAcceptor>,
    /// Caps each connection's kernel send buffer (bytes); `None` leaves the kernel's autotuning.
    pub send_buffer: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            tls: None,
            send_buffer: None,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("tls", &self.tls.is_some())
            .field("send_buffer", &self.send_buffer)
            .finish()
    }
}

/// The open-file limit less [`RESERVED_FILES`], so the server refuses connections before the kernel
/// refuses it a file (a store connection, a photo); 1,024 connections when the limit is unknown.
#[must_use]
pub fn default_max_connections() -> usize {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let cap = limit.map_or(1024, |files| {
        files
            .saturating_sub(RESERVED_FILES)
            .clamp(MIN_CONNECTIONS, MAX_DEFAULT_CONNECTIONS)
    });
    usize::try_from(cap).unwrap_or(usize::MAX)
}

/// Accepts connections on `listener` and serves `router` on each until `shutdown` resolves; then stops
/// accepting, lets each connection finish the request it is serving (idle ones close at once) and
/// returns once they have. Upgraded connections (websockets) are not waited for: they close on the
/// services' own shutdown signal.
pub async fn run(
    listener: TcpListener,
    router: Router,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let gate = Gate::new(settings.max_connections);
    // Each connection task holds a receiver; `closing_tx.send` asks them to finish, and
    // `closing_tx.closed()` resolves once every one has ended (axum's `serve` does the same).
    let (closing_tx, closing_rx) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some((ticket, evicted)) = gate.admit() else {
            metrics::counter!("gridwatch_connections_refused_total").increment(1);
            refuse(&tcp, settings.tls.is_some());
            continue;
        };
        if evicted {
            metrics::counter!("gridwatch_connections_evicted_total").increment(1);
        }
        // Answers and websocket messages are small and written as they are ready: Nagle's algorithm
        // would hold each behind the client's delayed ACK of the one before (up to 40 ms on Linux).
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY on a connection");
        }
        if let Some(bytes) = settings.send_buffer
            && let Err(error) = socket2::SockRef::from(&tcp).set_send_buffer_size(bytes)
        {
            tracing::warn!(%error, bytes, "could not cap a connection's send buffer");
        }
        let connection = Connection {
            router: router.clone(),
            peer,
            idle_limit: settings.header_read_timeout,
            closing: closing_rx.clone(),
        };
        tokio::spawn(connection.run(tcp, ticket, settings.tls.clone()));
    }
    drop(listener);
    drop(closing_rx);
    closing_tx.send_replace(());
    closing_tx.closed().await;
    Ok(())
}

/// An error from `accept`: a connection that failed before it was accepted is nobody's problem; any
/// other (out of files, out of memory) is logged and retried after a pause, as axum's `serve` does.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// The answer to a connection over the cap when every open one is busy: a 503 written without
/// waiting (plain HTTP only: a TLS client would not read it), then the socket is closed.
fn refuse(tcp: &TcpStream, tls: bool) {
    const BODY: &str = r#"{"type":"/problems/too-many-connections","title":"Service Unavailable","status":503,"detail":"the server has as many connections as it takes; try again shortly"}"#;
    if tls {
        return;
    }
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let _ = tcp.try_write(response.as_bytes());
}

/// One accepted connection.
struct Connection {
    router: Router,
    peer: SocketAddr,
    idle_limit: Duration,
    /// Changes when the server shuts down.
    closing: watch::Receiver<()>,
}

impl Connection {
    /// Serves the connection (after its TLS handshake) until it closes, is upgraded, or is dismissed
    /// by the gate: evicted, or idle for the header-read timeout.
    async fn run(self, tcp: TcpStream, ticket: Ticket, tls: Option<TlsAcceptor>) {
        let slot = ticket.slot();
        let idle_limit = self.idle_limit;
        let peer = self.peer;
        let serving = {
            let slot = slot.clone();
            async move {
                match tls {
                    None => {
                        let io = Counted {
                            io: tcp,
                            _ticket: ticket,
                        };
                        self.serve(io, slot).await;
                    }
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(stream) => {
                            let io = Counted {
                                io: stream,
                                _ticket: ticket,
                            };
                            self.serve(io, slot).await;
                        }
                        Err(error) => tracing::debug!(%error, "TLS handshake failed"),
                    },
                }
            }
        };
        tokio::select! {
            () = serving => {}
            why = slot.dismissed(idle_limit) => {
                let why = match why {
                    Dismissal::Idle => "idle",
                    Dismissal::Evicted => "evicted",
                };
                metrics::counter!("gridwatch_connections_dismissed_total", "why" => why).increment(1);
                tracing::debug!(%peer, why, "connection closed");
            }
        }
    }

    async fn serve<S>(self, io: Counted<S>, slot: Slot)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            router,
            peer,
            idle_limit,
            mut closing,
        } = self;
        let router = hyper_util::service::TowerToHyperService::new(router);
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            let busy = slot.busy();
            let slot = slot.clone();
            request.extensions_mut().insert(ConnectInfo(peer));
            let call = hyper::service::Service::call(&router, request);
            async move {
                let response = call.await?;
                if response.status() == StatusCode::SWITCHING_PROTOCOLS {
                    slot.upgraded();
                }
                Ok::<_, Infallible>(response.map(|body| Tracked { body, _busy: busy }))
            }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(idle_limit);
        let connection = builder
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        tokio::pin!(connection);
        let served = tokio::select! {
            served = connection.as_mut() => served,
            _ = closing.changed() => {
                // Shutting down: finish the request in flight, take no more (an idle one closes now).
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(error) = served {
            tracing::debug!(%error, %peer, "connection ended with an error");
        }
    }
}

/// A response body that keeps its connection busy until it is sent (or dropped).
struct Tracked {
    body: Body,
    _busy: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A connection's IO holding its place under the cap: an upgraded connection (a websocket) keeps its
/// place until the socket is dropped.
struct Counted<S> {
    io: S,
    /// Frees the place when dropped.
    _ticket: Ticket,
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
