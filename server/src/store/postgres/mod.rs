//! The PostgreSQL store, for several nodes sharing one Parlor (`--store postgres://…`).
//! It keeps the SQLite store's shape so that both read alike: one writer thread per
//! node that commits whatever jobs are waiting in one transaction, each job in its own
//! savepoint, then hands the committed events to the hub in log order and only then
//! answers; a small pool of reader connections on the blocking thread pool.
//!
//! What several writers change is the ids. Event and message ids come from one
//! `sequencer` row that a writing transaction updates (and so locks) when it appends
//! its first event, and holds until its commit: batches that write the log take turns
//! across all nodes, ids are handed out in commit order, and a rolled-back job gives
//! its ids back, so a reader that has seen id 43 has seen 42 (docs/architecture.md,
//! "One log, several writers"). A node that stops while holding the row (a freeze, a
//! `kill -9`) loses it when PostgreSQL ends its session: `idle_in_transaction_session_timeout`
//! and `client_connection_check_interval` on the writer's connection, TCP keepalives.
//!
//! The operations are written against [`db::Db`] (a connection with its prepared
//! statements), in files named as the SQLite store's.

mod access;
mod accounts;
pub mod db;
mod follow;
mod marks;
mod ops;
mod people;
mod push;
mod reads;
mod replies;
mod rooms;
mod schema;
mod search;
mod storage;
mod store_impl;
mod timings;
mod writer;

pub use writer::Applied;

use super::{EventSink, StoreError};
use db::Db;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::mpsc;
use writer::JobFn;

/// Reads running at once, each on a pooled connection.
const READERS: usize = 8;
/// Searches running at once (each on a reader).
const SEARCHERS: usize = 2;

/// How long PostgreSQL lets the writer's transaction sit idle before it ends the
/// session (and so frees the sequencer row): a frozen node cannot stall the others
/// for longer, and its late commit fails instead of landing.
pub const WRITER_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Handle to the PostgreSQL store; cheap to clone.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    config: postgres::Config,
    jobs: Mutex<Option<mpsc::UnboundedSender<JobFn>>>,
    readers: Mutex<Vec<Db>>,
    read_slots: tokio::sync::Semaphore,
    search_slots: tokio::sync::Semaphore,
    sink: OnceLock<Arc<dyn EventSink>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The last event id handed to the sink: events reach the hub once each, in id
    /// order, whichever node wrote them.
    published: Mutex<u64>,
    /// Notified after a commit that may have released uploads.
    released: Arc<tokio::sync::Notify>,
    commits: AtomicU64,
    /// This node's id in notifications (random at each start).
    node: String,
    /// The name every node of this database shares (`ops::cluster_name`).
    cluster: String,
    /// How long batches waited for the write lock, and the follower's lag.
    timings: Mutex<timings::Timings>,
    /// Notices to the other nodes, sent in order by one task (made at the first).
    notices: OnceLock<tokio::sync::mpsc::UnboundedSender<String>>,
    /// Set when the store closes: the follower stops.
    closing: AtomicBool,
    follower: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// A random id for this node's notifications.
pub(crate) fn node_id() -> String {
    let mut bytes = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    data_encoding::HEXLOWER.encode(&bytes)
}

/// Opens a connection with the settings every connection of the store has.
fn connect(config: &postgres::Config) -> Result<Db, StoreError> {
    let mut client = config.connect(postgres::NoTls)?;
    // Times in the store are milliseconds since the epoch, never the server's clock or
    // zone; text is compared as bytes, as SQLite does.
    client.batch_execute("SET TIME ZONE 'UTC'")?;
    Ok(Db::new(client))
}

/// The writer's connection: PostgreSQL ends its session when it holds a transaction
/// open and idle too long, or when its client is gone.
fn connect_writer(config: &postgres::Config) -> Result<Db, StoreError> {
    let mut db = connect(config)?;
    db.batch(&format!(
        "SET idle_in_transaction_session_timeout = {}; SET client_connection_check_interval = 1000",
        WRITER_IDLE_TIMEOUT.as_millis()
    ))?;
    Ok(db)
}

/// Connects to `url` and brings its schema to this build's (`parlor migrate`, before
/// it copies a SQLite database in); answers the connection.
pub fn prepare_database(url: &str) -> Result<postgres::Client, StoreError> {
    let mut client = postgres::Config::from_str(url)?
        .application_name("parlor migrate")
        .connect_timeout(Duration::from_secs(10))
        .connect(postgres::NoTls)?;
    schema::migrate(&mut client)?;
    Ok(client)
}

impl PgStore {
    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`), migrates the
    /// schema (one node at a time) and makes sure General exists.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let mut config = postgres::Config::from_str(url)?;
        config
            // Which node a connection belongs to, in pg_stat_activity.
            .application_name(&format!("parlor/{}", std::process::id()))
            .connect_timeout(Duration::from_secs(10))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(3);
        let mut first = config.connect(postgres::NoTls)?;
        schema::migrate(&mut first)?;
        drop(first);
        let mut db = connect_writer(&config)?;
        ops::ensure_general(&mut db)?;
        let cluster = ops::cluster_name(&mut db)?;
        let head = reads::head(&mut db)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let store = PgStore {
            inner: Arc::new(Inner {
                config,
                jobs: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(READERS),
                search_slots: tokio::sync::Semaphore::new(SEARCHERS),
                sink: OnceLock::new(),
                writer: Mutex::new(None),
                published: Mutex::new(head),
                released: Arc::new(tokio::sync::Notify::new()),
                commits: AtomicU64::new(0),
                node: node_id(),
                cluster,
                notices: OnceLock::new(),
                timings: Mutex::new(timings::Timings::default()),
                closing: AtomicBool::new(false),
                follower: Mutex::new(None),
            }),
        };
        let inner = Arc::clone(&store.inner);
        let writer = std::thread::Builder::new()
            .name("parlor-pg-writer".into())
            .spawn(move || writer::writer_loop(db, rx, &inner))
            .map_err(|e| StoreError::CommitFailed(format!("cannot start the writer: {e}")))?;
        if let Ok(mut w) = store.inner.writer.lock() {
            *w = Some(writer);
        }
        let inner = Arc::clone(&store.inner);
        let follower = std::thread::Builder::new()
            .name("parlor-pg-follower".into())
            .spawn(move || follow::follow(inner))
            .map_err(|e| StoreError::CommitFailed(format!("cannot start the follower: {e}")))?;
        if let Ok(mut f) = store.inner.follower.lock() {
            *f = Some(follower);
        }
        Ok(store)
    }

    /// Runs `f` on a pooled read connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Db) -> Result<T, StoreError> + Send + 'static,
    {
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut r| r.pop());
            let mut db = match pooled {
                Some(db) if !db.is_closed() => db,
                _ => connect(&inner.config)?,
            };
            let result = f(&mut db);
            if !db.is_closed() {
                if let Ok(mut r) = inner.readers.lock() {
                    if r.len() < READERS {
                        r.push(db);
                    }
                }
            }
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// Commits counted so far (tests and benchmarks).
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }

    /// Stops taking jobs, lets the writer commit what it has, and waits for it.
    pub fn shut(&self) {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.inner.closing.store(true, Ordering::Relaxed);
        let handle = self.inner.follower.lock().ok().and_then(|mut f| f.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        if let Ok(timings) = self.inner.timings.lock() {
            timings.log();
        }
    }
}

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    schema::CURRENT
}

#[cfg(test)]
mod tests;
