//! Persistence: one SQLite database in WAL mode under `--data`, holding accounts, rooms,
//! messages, receipts and the append-only event log.
//!
//! Writes go through one writer thread that commits in groups: it takes every job that
//! is waiting, runs each inside its own savepoint, commits once (fsync), then hands the
//! committed log events to the [`EventSink`] in id order and only then answers the jobs.
//! So an acknowledged write is durable, fan-out order is log order, and one fsync
//! carries as many messages as arrived while the previous one was running.
//!
//! Reads run on a small pool of read-only connections on the blocking thread pool.

mod ops;
mod reads;
mod schema;

pub use ops::*;
pub use reads::*;

use crate::domain::{LogEvent, Refusal, SessionId};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{mpsc, oneshot};

/// The database file's name inside `--data`.
pub const DB_FILE: &str = "parlor.db";
/// Most jobs committed together.
const MAX_BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Refused(#[from] Refusal),
    #[error(
        "the database was written by a newer Parlor (schema version {found}; this build knows up to {known})"
    )]
    TooNew { found: i64, known: i64 },
    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the store is shut down")]
    Closed,
    #[error("commit failed: {0}")]
    CommitFailed(String),
}

impl StoreError {
    /// What a client is told: refusals as they are, anything else as an internal error.
    pub fn into_refusal(self) -> Refusal {
        match self {
            StoreError::Refused(r) => r,
            other => {
                tracing::error!(error = %other, "store failure");
                Refusal::Internal("the server could not store this; try again".into())
            }
        }
    }
}

/// Receives committed events, in log order, right after their commit.
pub trait EventSink: Send + Sync {
    fn publish(&self, events: &[LogEvent], origin: Option<SessionId>);
}

/// What a write job produced: its answer, the events it appended, and who asked.
pub struct Applied<T> {
    pub value: T,
    pub events: Vec<LogEvent>,
    pub origin: Option<SessionId>,
}

impl<T> Applied<T> {
    pub fn quiet(value: T) -> Applied<T> {
        Applied {
            value,
            events: Vec::new(),
            origin: None,
        }
    }
}

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
type JobFn = Box<dyn FnOnce(&Connection) -> JobOutcome + Send>;

/// A job after it ran in the writer: `finish` answers its caller once the batch's
/// fate is known (a failed job is rolled back to its savepoint and answered at once).
struct JobOutcome {
    ok: bool,
    events: Vec<LogEvent>,
    origin: Option<SessionId>,
    finish: Finish,
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::UnboundedSender<JobFn>>>,
    readers: Mutex<Vec<Connection>>,
    sink: OnceLock<Arc<dyn EventSink>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    stats: Stats,
}

/// Counters of the writer, for tests and benchmarks.
#[derive(Default)]
pub struct Stats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Jobs that ran (committed or refused).
    pub jobs: AtomicU64,
}

impl Store {
    /// Opens (creating if needed) the database under `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let probe = data_dir.join(".parlor-write-test");
        std::fs::write(&probe, b"ok")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|source| StoreError::DataDir {
                path: data_dir.to_owned(),
                source,
            })?;
        let mut conn = open_conn(&path, false)?;
        schema::migrate(&mut conn)?;
        ops::ensure_general(&conn)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let store = Store {
            inner: Arc::new(Inner {
                path,
                jobs: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                sink: OnceLock::new(),
                writer: Mutex::new(None),
                stats: Stats::default(),
            }),
        };
        let inner = Arc::clone(&store.inner);
        let handle = std::thread::Builder::new()
            .name("parlor-store-writer".into())
            .spawn(move || writer_loop(conn, rx, &inner))
            .map_err(|source| StoreError::DataDir {
                path: data_dir.to_owned(),
                source,
            })?;
        if let Ok(mut w) = store.inner.writer.lock() {
            *w = Some(handle);
        }
        Ok(store)
    }

    /// Sets where committed events go. Call once, before the first write.
    pub fn set_sink(&self, sink: Arc<dyn EventSink>) {
        let _ = self.inner.sink.set(sink);
    }

    /// Runs `job` in the writer thread inside the next group commit; resolves after the
    /// commit (and the publication of its events).
    pub async fn write<T, F>(&self, job: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<Applied<T>, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, StoreError>>();
        let boxed: JobFn = Box::new(move |conn| match job(conn) {
            Ok(applied) => {
                let value = applied.value;
                JobOutcome {
                    ok: true,
                    events: applied.events,
                    origin: applied.origin,
                    finish: Box::new(move |result| {
                        let _ = tx.send(result.map(|()| value));
                    }),
                }
            }
            Err(e) => JobOutcome {
                ok: false,
                events: Vec::new(),
                origin: None,
                finish: Box::new(move |_| {
                    let _ = tx.send(Err(e));
                }),
            },
        });
        let sent = {
            let guard = self.inner.jobs.lock().map_err(|_| StoreError::Closed)?;
            match guard.as_ref() {
                Some(jobs) => jobs.send(boxed).is_ok(),
                None => false,
            }
        };
        if !sent {
            return Err(StoreError::Closed);
        }
        rx.await.unwrap_or(Err(StoreError::Closed))
    }

    /// Runs `f` on a read connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut r| r.pop());
            let conn = match pooled {
                Some(c) => c,
                None => open_conn(&inner.path, true)?,
            };
            let result = f(&conn);
            if let Ok(mut r) = inner.readers.lock() {
                if r.len() < 4 {
                    r.push(conn);
                }
            }
            result
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    /// The writer's counters.
    pub fn stats(&self) -> &Stats {
        &self.inner.stats
    }

    /// Stops taking jobs, lets the writer commit what it has, and waits for it.
    pub fn close(&self) {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
    }
}

fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: every commit syncs the WAL, so an acknowledged write survives a crash.
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(conn)
}

fn writer_loop(conn: Connection, mut rx: mpsc::UnboundedReceiver<JobFn>, inner: &Inner) {
    let mut batch: Vec<JobFn> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(&conn, &mut batch, inner);
    }
    tracing::debug!("store writer stopped");
}

fn run_batch(conn: &Connection, batch: &mut Vec<JobFn>, inner: &Inner) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Dropping the jobs drops their answer channels: callers see `Closed`.
        tracing::error!(error = %e, jobs = batch.len(), "cannot begin a write transaction");
        batch.clear();
        return;
    }
    let mut done: Vec<JobOutcome> = Vec::with_capacity(batch.len());
    for job in batch.drain(..) {
        if let Err(e) = conn.execute_batch("SAVEPOINT job") {
            tracing::error!(error = %e, "savepoint failed");
            continue;
        }
        let outcome = job(conn);
        if outcome.ok {
            let _ = conn.execute_batch("RELEASE job");
            done.push(outcome);
        } else {
            let _ = conn.execute_batch("ROLLBACK TO job; RELEASE job");
            (outcome.finish)(Ok(()));
        }
    }
    inner
        .stats
        .jobs
        .fetch_add(done.len() as u64, Ordering::Relaxed);
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            inner.stats.commits.fetch_add(1, Ordering::Relaxed);
            if let Some(sink) = inner.sink.get() {
                for job in &done {
                    if !job.events.is_empty() {
                        sink.publish(&job.events, job.origin);
                    }
                }
            }
            for job in done {
                (job.finish)(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "commit failed; the batch is rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            for job in done {
                (job.finish)(Err(StoreError::CommitFailed(e.to_string())));
            }
        }
    }
}

#[cfg(test)]
mod tests;
