//! The TLS port's listener. It reads the first byte of every accepted connection: a TLS
//! ClientHello starts with `0x16` (a handshake record) and goes on to the handshake;
//! anything else is a browser speaking plain HTTP (a phone that opened the start-up QR
//! code before it trusted Parlor), served by a separate router that knows only the
//! `/trust` page and redirects the rest there. The chat, its API and its WebSockets are
//! never reachable without TLS: plain connections never reach axum's main router.
//!
//! Each first byte and handshake runs as its own task within one time limit, so a slow
//! or silent client holds nothing but its own connection; at most [`MAX_HANDSHAKES`]
//! wait at once. Plain-HTTP connections are bounded too: at most [`MAX_PLAIN`] at once,
//! each answering one request within [`PLAIN_LIFETIME`].

use axum::serve::Listener;
use axum::Router;
use std::fmt::Debug;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A client that has not sent its first byte and finished its handshake by then is
/// dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes (and first bytes) awaited at once; past that, accepting waits.
pub const MAX_HANDSHAKES: usize = 256;
/// Plain-HTTP connections served at once; past that, a new one is closed.
pub const MAX_PLAIN: usize = 32;
/// A plain-HTTP connection is closed this long after its first byte.
pub const PLAIN_LIFETIME: Duration = Duration::from_secs(15);
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

/// A listener that hands axum only connections whose TLS handshake succeeded (see the
/// module docs).
pub struct TlsListener<L: Listener> {
    inner: L,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
    handshakes: JoinSet<Result<Accepted<L>, NotTls<L>>>,
    /// What answers plain HTTP; `None` closes such connections.
    plain: Option<Router>,
    plain_conns: JoinSet<()>,
}

/// A connection whose handshake succeeded, and its peer.
type Accepted<L> = (
    TlsStream<Prefixed<<L as Listener>::Io>>,
    <L as Listener>::Addr,
);

/// A connection that did not come through a TLS handshake.
enum NotTls<L: Listener> {
    /// It speaks plain HTTP (its first byte is not a handshake record's).
    Plain(Prefixed<L::Io>, L::Addr),
    /// Silent, closed, or its handshake failed or took too long.
    Dropped,
}

impl<L: Listener> TlsListener<L> {
    pub fn new(inner: L, acceptor: TlsAcceptor) -> TlsListener<L> {
        TlsListener {
            inner,
            acceptor,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            handshakes: JoinSet::new(),
            plain: None,
            plain_conns: JoinSet::new(),
        }
    }

    /// How long a client may take to finish its handshake (10 s by default).
    pub fn with_handshake_timeout(mut self, limit: Duration) -> TlsListener<L> {
        self.handshake_timeout = limit;
        self
    }

    /// Serves plain-HTTP connections with `router` instead of closing them.
    pub fn with_plain_http(mut self, router: Router) -> TlsListener<L> {
        self.plain = Some(router);
        self
    }
}

impl<L> Listener for TlsListener<L>
where
    L: Listener,
    L::Addr: Debug + Send + 'static,
{
    type Io = TlsStream<Prefixed<L::Io>>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Every branch is cancel-safe: the tasks live in `self`.
        loop {
            tokio::select! {
                (io, peer) = self.inner.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    let acceptor = self.acceptor.clone();
                    self.handshakes.spawn(first_byte(acceptor, io, peer, self.handshake_timeout));
                }
                Some(done) = self.handshakes.join_next() => match done {
                    Ok(Ok(conn)) => return conn,
                    Ok(Err(NotTls::Plain(io, peer))) => self.serve_plain(io, peer),
                    Ok(Err(NotTls::Dropped)) | Err(_) => {}
                },
                Some(_) = self.plain_conns.join_next() => {}
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl<L> TlsListener<L>
where
    L: Listener,
    L::Addr: Debug + Send + 'static,
{
    fn serve_plain(&mut self, io: Prefixed<L::Io>, peer: L::Addr) {
        let Some(router) = self.plain.clone() else {
            tracing::debug!(?peer, "plain HTTP on the TLS port: closed");
            return;
        };
        if self.plain_conns.len() >= MAX_PLAIN {
            tracing::debug!(?peer, "too many plain-HTTP connections: closed");
            return;
        }
        let limit = self.handshake_timeout;
        self.plain_conns.spawn(async move {
            use hyper_util::rt::{TokioIo, TokioTimer};
            let service = hyper_util::service::TowerToHyperService::new(router);
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limit)
                .keep_alive(false)
                .serve_connection(TokioIo::new(io), service);
            match tokio::time::timeout(PLAIN_LIFETIME, conn).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::debug!(?peer, %error, "plain-HTTP connection failed"),
                Err(_) => tracing::debug!(?peer, "plain-HTTP connection timed out"),
            }
        });
    }
}

/// Reads the first byte of `io` and, for TLS, does the handshake, all within `limit`.
async fn first_byte<L: Listener>(
    acceptor: TlsAcceptor,
    mut io: L::Io,
    peer: L::Addr,
    limit: Duration,
) -> Result<Accepted<L>, NotTls<L>>
where
    L::Addr: Debug,
{
    let work = async {
        let mut first = [0u8; 1];
        match io.read(&mut first).await {
            Ok(1) => {}
            _ => return Err(NotTls::Dropped),
        }
        let io = Prefixed {
            first: Some(first[0]),
            inner: io,
        };
        if first[0] != TLS_HANDSHAKE {
            return Err(NotTls::Plain(io, peer));
        }
        match acceptor.accept(io).await {
            Ok(stream) => Ok((stream, peer)),
            Err(error) => {
                tracing::debug!(?peer, %error, "TLS handshake failed");
                Err(NotTls::Dropped)
            }
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(outcome) => outcome,
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            Err(NotTls::Dropped)
        }
    }
}

/// A stream whose first byte was read already and is handed out again first.
pub struct Prefixed<S> {
    first: Option<u8>,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() > 0 {
            if let Some(byte) = self.first.take() {
                buf.put_slice(&[byte]);
                return Poll::Ready(Ok(()));
            }
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{ca, server_config};
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;
    use tokio_rustls::rustls::pki_types::ServerName;

    #[tokio::test]
    async fn a_silent_client_is_dropped_after_the_timeout_and_others_get_in() {
        let dir = tempfile::tempdir().expect("tempdir");
        let issued = ca::ensure(dir.path(), &["localhost".to_string()]).expect("made");
        let acceptor = TlsAcceptor::from(Arc::new(
            server_config(&issued.chain, &issued.key).expect("config"),
        ));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let mut listener =
            TlsListener::new(tcp, acceptor).with_handshake_timeout(Duration::from_millis(300));

        let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let client_config = crate::tls::pinned_client_config(&issued.ca).expect("pin");
        let client = tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let name = ServerName::try_from("localhost").expect("name");
            let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client_config))
                .connect(name, tcp)
                .await
                .expect("handshake");
            tls.write_all(b"hello").await.expect("write");
            tls.flush().await.expect("flush");
            tls
        });
        let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .expect("the client that speaks TLS gets in while the silent one waits");
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).await.expect("read");
        assert_eq!(&hello, b"hello");
        let _client = client.await.expect("client");

        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut buf))
            .await
            .expect("the silent client is dropped after the handshake timeout");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    }
}
