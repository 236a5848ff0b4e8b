//! Write coalescing for accepted connections: bytes written to a connection wait in a
//! small buffer until the writer flushes, so a burst of WebSocket frames (a session
//! catching up on its queue) leaves in one system call instead of one per frame.
//!
//! The buffer exists only between a write and the next flush: an idle connection
//! holds no write buffer at all. Every writer on these streams (hyper for HTTP,
//! tungstenite for WebSockets) flushes after what it means to send.

use axum::serve::Listener;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes gathered before they are written even without a flush.
const LIMIT: usize = 16 * 1024;

/// A listener whose connections coalesce their writes (see the module docs).
pub struct CoalescingListener<L> {
    inner: L,
}

impl<L> CoalescingListener<L> {
    pub fn new(inner: L) -> CoalescingListener<L> {
        CoalescingListener { inner }
    }
}

impl<L: Listener> Listener for CoalescingListener<L> {
    type Io = Coalescing<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        (Coalescing::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A stream whose writes wait for a flush (or [`LIMIT`] bytes).
pub struct Coalescing<S> {
    inner: S,
    pending: Vec<u8>,
    /// How much of `pending` is written already.
    written: usize,
}

impl<S> Coalescing<S> {
    pub fn new(inner: S) -> Coalescing<S> {
        Coalescing {
            inner,
            pending: Vec::new(),
            written: 0,
        }
    }
}

impl<S: AsyncWrite + Unpin> Coalescing<S> {
    /// Writes out everything pending, then lets the buffer go.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n =
                ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending = Vec::new();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Coalescing<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Coalescing<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.pending.len() + buf.len() > LIMIT {
            ready!(this.poll_drain(cx))?;
            if buf.len() >= LIMIT {
                return Pin::new(&mut this.inner).poll_write(cx, buf);
            }
        }
        this.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Counts the writes that reach the inner stream.
    #[derive(Default)]
    struct Recorder {
        bytes: Vec<u8>,
        writes: usize,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writes += 1;
            self.bytes.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn writes_wait_for_the_flush_and_leave_together() {
        let mut io = Coalescing::new(Recorder::default());
        for frame in [&b"one"[..], b"two", b"three"] {
            io.write_all(frame).await.unwrap();
        }
        assert_eq!(io.inner.writes, 0, "nothing written before the flush");
        io.flush().await.unwrap();
        assert_eq!(io.inner.writes, 1);
        assert_eq!(io.inner.bytes, b"onetwothree");
        assert_eq!(io.pending.capacity(), 0, "no buffer kept after a flush");
    }

    #[tokio::test]
    async fn a_full_buffer_is_written_without_a_flush_and_big_writes_pass_through() {
        let mut io = Coalescing::new(Recorder::default());
        let chunk = vec![7u8; LIMIT / 2 + 1];
        io.write_all(&chunk).await.unwrap();
        io.write_all(&chunk).await.unwrap();
        assert_eq!(io.inner.writes, 1, "the first chunk went out to make room");
        let big = vec![9u8; LIMIT * 2];
        io.write_all(&big).await.unwrap();
        io.flush().await.unwrap();
        let mut expected = chunk.clone();
        expected.extend_from_slice(&chunk);
        expected.extend_from_slice(&big);
        assert_eq!(io.inner.bytes, expected, "order kept");
    }

    #[tokio::test]
    async fn reads_pass_through() {
        let (a, mut b) = tokio::io::duplex(64);
        let mut io = Coalescing::new(a);
        b.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        io.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        io.write_all(b"pong").await.unwrap();
        io.shutdown().await.unwrap();
        let mut back = Vec::new();
        b.read_to_end(&mut back).await.unwrap();
        assert_eq!(back, b"pong", "shutdown writes what is pending");
    }
}
