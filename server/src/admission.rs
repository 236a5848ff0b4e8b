//! Admission: how many connections the server takes, from whom, and how much a socket
//! may send before it has logged in.
//!
//! Anyone on the LAN can open sockets. Without caps, one device could hold every file
//! descriptor, or keep hundreds of sockets that never log in, each buffering a 1 MiB
//! frame until the login deadline. So every accepted TCP connection is counted, in
//! total and per client address, and refused (closed at once) over [`Caps::total`]
//! or [`Caps::per_address`]. A WebSocket that has not logged in yet is counted again,
//! as waiting, and its upgrade is refused (`429`/`503`) over the waiting caps; until
//! it logs in it may read at most [`Caps::pre_login_bytes`] (its login frames), which
//! bounds what a stranger's socket can make the server hold.
//!
//! Loopback clients (`127.0.0.0/8`, `::1`) are exempt from the per-address caps and
//! the pre-login budget by default: load tests and a developer's tools connect from
//! there, and a reverse proxy on the same machine makes every client look like
//! loopback (its own limits apply then). `--limit-loopback` removes the exemption.
//! The total cap always applies.

use axum::serve::Listener;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The caps, configurable by flags (docs/protocol.md, "Limits and close codes").
#[derive(Debug, Clone)]
pub struct Caps {
    /// Open TCP connections in all (loopback included).
    pub total: usize,
    /// Open TCP connections from one address.
    pub per_address: usize,
    /// WebSockets waiting to log in, in all (loopback not counted when exempt).
    pub pre_login_total: usize,
    /// WebSockets waiting to log in from one address.
    pub pre_login_per_address: usize,
    /// Bytes a WebSocket may send after its upgrade and before its login ends.
    pub pre_login_bytes: usize,
    /// Apply the per-address caps and the pre-login limits to loopback clients too.
    pub limit_loopback: bool,
}

impl Default for Caps {
    fn default() -> Caps {
        Caps {
            total: 20_000,
            per_address: 256,
            pre_login_total: 512,
            pre_login_per_address: 16,
            pre_login_bytes: 16 * 1024,
            limit_loopback: false,
        }
    }
}

/// Why a WebSocket upgrade was refused before it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Crowded {
    #[error("too many connections from this address are waiting to log in")]
    Address,
    #[error("too many connections are waiting to log in; try again shortly")]
    Server,
}

/// The read error of a socket that sent more than its pre-login budget.
#[derive(Debug, thiserror::Error)]
#[error("more than {0} bytes sent before logging in")]
pub struct OverPreLoginBudget(pub usize);

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    open: usize,
    waiting: usize,
}

/// The counters every connection's [`Ticket`] updates.
#[derive(Debug)]
pub struct Admission {
    caps: Caps,
    open: AtomicUsize,
    waiting: AtomicUsize,
    /// Per non-exempt address; an entry goes when its counts reach zero.
    by_address: Mutex<HashMap<IpAddr, Counts>>,
}

impl Admission {
    pub fn new(caps: Caps) -> Arc<Admission> {
        Arc::new(Admission {
            caps,
            open: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            by_address: Mutex::new(HashMap::new()),
        })
    }

    fn addresses(&self) -> MutexGuard<'_, HashMap<IpAddr, Counts>> {
        // The map holds plain counters: a panic elsewhere cannot leave it half-written.
        self.by_address
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        !self.caps.limit_loopback && ip.is_loopback()
    }

    /// Counts a new TCP connection from `addr`, or refuses it (`None`) over a cap.
    pub fn admit(self: &Arc<Admission>, addr: SocketAddr) -> Option<Arc<Ticket>> {
        let ip = addr.ip();
        let exempt = self.exempt(ip);
        if self.open.fetch_add(1, Ordering::Relaxed) >= self.caps.total {
            self.open.fetch_sub(1, Ordering::Relaxed);
            tracing::debug!(%addr, cap = self.caps.total, "connection refused: server full");
            return None;
        }
        if !exempt {
            let mut map = self.addresses();
            let counts = map.entry(ip).or_default();
            if counts.open >= self.caps.per_address {
                drop(map);
                self.open.fetch_sub(1, Ordering::Relaxed);
                tracing::debug!(%addr, cap = self.caps.per_address, "connection refused: too many from this address");
                return None;
            }
            counts.open += 1;
        }
        Some(Arc::new(Ticket {
            admission: self.clone(),
            ip,
            exempt,
            budget: AtomicUsize::new(usize::MAX),
            waiting: AtomicBool::new(false),
        }))
    }

    fn release(&self, ticket: &Ticket) {
        let was_waiting = ticket.waiting.swap(false, Ordering::Relaxed);
        if was_waiting && !ticket.exempt {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
        self.open.fetch_sub(1, Ordering::Relaxed);
        if ticket.exempt {
            return;
        }
        let mut map = self.addresses();
        if let Some(counts) = map.get_mut(&ticket.ip) {
            counts.open = counts.open.saturating_sub(1);
            if was_waiting {
                counts.waiting = counts.waiting.saturating_sub(1);
            }
            if counts.open == 0 && counts.waiting == 0 {
                map.remove(&ticket.ip);
            }
        }
    }
}

/// One accepted connection's place in the counts; dropped with the connection.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    ip: IpAddr,
    exempt: bool,
    /// Bytes the connection may still read (`usize::MAX`: unlimited).
    budget: AtomicUsize,
    waiting: AtomicBool,
}

impl Ticket {
    /// The connection became a WebSocket that has not logged in: counts it as
    /// waiting and limits what it may send, or refuses it over a waiting cap.
    pub fn await_login(&self) -> Result<(), Crowded> {
        if self.exempt {
            return Ok(());
        }
        let admission = &self.admission;
        let caps = &admission.caps;
        let mut map = admission.addresses();
        let counts = map.entry(self.ip).or_default();
        if counts.waiting >= caps.pre_login_per_address {
            return Err(Crowded::Address);
        }
        if admission.waiting.fetch_add(1, Ordering::Relaxed) >= caps.pre_login_total {
            admission.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(Crowded::Server);
        }
        counts.waiting += 1;
        drop(map);
        self.waiting.store(true, Ordering::Relaxed);
        self.budget.store(caps.pre_login_bytes, Ordering::Relaxed);
        Ok(())
    }

    /// The connection logged in: no longer waiting, no pre-login budget.
    pub fn logged_in(&self) {
        self.budget.store(usize::MAX, Ordering::Relaxed);
        if !self.waiting.swap(false, Ordering::Relaxed) {
            return;
        }
        let admission = &self.admission;
        admission.waiting.fetch_sub(1, Ordering::Relaxed);
        if let Some(counts) = admission.addresses().get_mut(&self.ip) {
            counts.waiting = counts.waiting.saturating_sub(1);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.admission.release(self);
    }
}

/// A connection's peer, as handlers see it (`ConnectInfo<Peer>`, which axum provides
/// for a listener wrapped in `tap_io`): its address, and its ticket (absent only for
/// the listener's own address).
#[derive(Debug, Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    pub ticket: Option<Arc<Ticket>>,
}

/// A listener that counts its connections and refuses those over the caps.
pub struct AdmissionListener<L> {
    inner: L,
    admission: Arc<Admission>,
}

impl<L> AdmissionListener<L> {
    pub fn new(inner: L, admission: Arc<Admission>) -> AdmissionListener<L> {
        AdmissionListener { inner, admission }
    }
}

impl<L: Listener<Addr = SocketAddr>> Listener for AdmissionListener<L> {
    type Io = Metered<L::Io>;
    type Addr = Peer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (io, addr) = self.inner.accept().await;
            // Over a cap the stream is dropped here: the client sees the connection
            // closed before any byte.
            if let Some(ticket) = self.admission.admit(addr) {
                let metered = Metered {
                    inner: io,
                    ticket: ticket.clone(),
                };
                let peer = Peer {
                    addr,
                    ticket: Some(ticket),
                };
                return (metered, peer);
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Peer {
            addr: self.inner.local_addr()?,
            ticket: None,
        })
    }
}

/// A stream that reads no more than its ticket's budget.
pub struct Metered<S> {
    inner: S,
    ticket: Arc<Ticket>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let budget = this.ticket.budget.load(Ordering::Relaxed);
        if budget == usize::MAX {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        if budget == 0 {
            let limit = this.ticket.admission.caps.pre_login_bytes;
            return Poll::Ready(Err(io::Error::other(OverPreLoginBudget(limit))));
        }
        // Read into a window no larger than the budget left.
        let window = buf.remaining().min(budget);
        let mut limited = buf.take(window);
        let poll = Pin::new(&mut this.inner).poll_read(cx, &mut limited);
        let n = limited.filled().len();
        if let Poll::Ready(Ok(())) = poll {
            // SAFETY: the inner reader initialised and filled these `n` bytes of
            // `buf`'s unfilled part through `limited`, which borrows it.
            unsafe { buf.assume_init(n) };
            buf.advance(n);
            // A concurrent `logged_in` may have lifted the budget meanwhile: keep it.
            let _ = this.ticket.budget.compare_exchange(
                budget,
                budget - n,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn caps() -> Caps {
        Caps {
            total: 4,
            per_address: 2,
            pre_login_total: 3,
            pre_login_per_address: 1,
            pre_login_bytes: 10,
            limit_loopback: false,
        }
    }

    #[test]
    fn an_address_gets_its_share_and_gets_it_back_when_it_closes() {
        let admission = Admission::new(caps());
        let a = admission.admit(addr("10.0.0.1:1")).unwrap();
        let _b = admission.admit(addr("10.0.0.1:2")).unwrap();
        assert!(admission.admit(addr("10.0.0.1:3")).is_none());
        let _other = admission.admit(addr("10.0.0.2:1")).unwrap();
        drop(a);
        assert!(admission.admit(addr("10.0.0.1:4")).is_some());
    }

    #[test]
    fn the_total_applies_to_loopback_but_the_share_does_not() {
        let admission = Admission::new(caps());
        let held: Vec<_> = (0..4)
            .map(|p| admission.admit(addr(&format!("127.0.0.1:{p}"))).unwrap())
            .collect();
        assert!(admission.admit(addr("127.0.0.1:9")).is_none());
        drop(held);
        assert_eq!(admission.open.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn waiting_to_log_in_is_capped_per_address_and_released_by_the_login() {
        let admission = Admission::new(caps());
        let a = admission.admit(addr("10.0.0.1:1")).unwrap();
        let b = admission.admit(addr("10.0.0.1:2")).unwrap();
        a.await_login().unwrap();
        assert_eq!(b.await_login(), Err(Crowded::Address));
        a.logged_in();
        b.await_login().unwrap();
        drop(b);
        drop(a);
        assert!(admission.addresses().is_empty());
        assert_eq!(admission.waiting.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_socket_reads_no_more_than_its_budget_before_login() {
        use tokio::io::AsyncReadExt;
        let admission = Admission::new(caps());
        let ticket = admission.admit(addr("10.0.0.1:1")).unwrap();
        ticket.await_login().unwrap();
        let data: &[u8] = &[7u8; 64];
        let mut metered = Metered {
            inner: data,
            ticket: ticket.clone(),
        };
        let mut buf = [0u8; 64];
        let n = metered.read(&mut buf).await.unwrap();
        assert_eq!(n, 10);
        let err = metered.read(&mut buf).await.unwrap_err();
        assert!(err.get_ref().is_some_and(|e| e.is::<OverPreLoginBudget>()));
        ticket.logged_in();
        assert_eq!(metered.read(&mut buf).await.unwrap(), 54);
    }
}
