//! The embedded store: one SQLite database in WAL mode under `--data`, holding accounts,
//! rooms, messages, receipts and the append-only event log.
//!
//! Writes go through one writer thread that commits in groups: it takes every job that
//! is waiting, runs each inside its own savepoint, commits once (fsync), then hands the
//! committed log events to the [`EventSink`] in id order and only then answers the jobs.
//! So an acknowledged write is durable, fan-out order is log order, and one fsync
//! carries as many messages as arrived while the previous one was running.
//!
//! The WAL is checkpointed by a thread of its own, never by a commit: a checkpoint
//! copies pages into the database file and syncs it, and on the writer it made the
//! whole room wait every so often. A writer thread that dies (a panic) ends the
//! process with a non-zero status, so that a supervisor restarts it: a server that
//! accepts connections but can never write again is worse than a restart.
//!
//! Reads run on a small pool of read-only connections on the blocking thread pool.

mod ops;
mod reads;
mod schema;
mod trait_impl;

pub use ops::*;
pub use reads::*;

use super::{EventSink, StoreError};
use crate::domain::{LogEvent, SessionId};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The database file's name inside `--data`.
pub const DB_FILE: &str = "parlor.db";
/// Most jobs committed together.
const MAX_BATCH: usize = 1024;

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

/// Reads running at once, each on a pooled read-only connection: a burst of reads (a
/// reconnect storm) waits for a connection instead of opening hundreds of them on as
/// many blocking threads.
const READERS: usize = 8;
/// How often the checkpointer looks whether anything was committed since its last run.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A job after it ran in the writer: `finish` answers its caller once the batch's
/// fate is known (a failed job is rolled back to its savepoint and answered at once).
struct JobOutcome {
    ok: bool,
    events: Vec<LogEvent>,
    origin: Option<SessionId>,
    finish: Finish,
}

/// What happens when the writer thread dies: by default the process exits with
/// status 70 (EX_SOFTWARE), so that systemd restarts it.
pub type OnWriterDeath = Arc<dyn Fn() + Send + Sync>;

/// Handle to the SQLite store; cheap to clone.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    jobs: Mutex<Option<mpsc::UnboundedSender<JobFn>>>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per read running ([`READERS`]).
    read_slots: tokio::sync::Semaphore,
    sink: OnceLock<Arc<dyn EventSink>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    checkpointer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Set (and signalled) when the store closes: the checkpointer stops.
    closing: (Mutex<bool>, Condvar),
    stats: Stats,
}

/// Counters of the writer, for tests and benchmarks.
#[derive(Default)]
pub struct Stats {
    /// Transactions committed.
    pub commits: AtomicU64,
    /// Jobs that ran (committed or refused).
    pub jobs: AtomicU64,
    /// WAL checkpoints run (off the writer).
    pub checkpoints: AtomicU64,
}

impl SqliteStore {
    /// Opens (creating if needed) the database under `data_dir` and migrates it. Should
    /// the writer thread die, the process exits.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(
            data_dir,
            Arc::new(|| {
                tracing::error!("the store's writer died; exiting so that Parlor is restarted");
                std::process::exit(70);
            }),
        )
    }

    /// [`SqliteStore::open`], with what to do when the writer thread dies.
    pub fn open_with(data_dir: &Path, on_death: OnWriterDeath) -> Result<SqliteStore, StoreError> {
        let data_error = |source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(data_error)?;
        let path = data_dir.join(DB_FILE);
        let probe = data_dir.join(".parlor-write-test");
        std::fs::write(&probe, b"ok")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(data_error)?;
        let mut conn = open_conn(&path, false)?;
        schema::migrate(&mut conn)?;
        ops::ensure_general(&conn)?;
        // Checkpoints run on their own thread (below), never inside a commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoint_conn = open_conn(&path, false)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let store = SqliteStore {
            inner: Arc::new(Inner {
                path,
                jobs: Mutex::new(Some(tx)),
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(READERS),
                sink: OnceLock::new(),
                writer: Mutex::new(None),
                checkpointer: Mutex::new(None),
                closing: (Mutex::new(false), Condvar::new()),
                stats: Stats::default(),
            }),
        };
        let inner = Arc::clone(&store.inner);
        let writer = std::thread::Builder::new()
            .name("parlor-store-writer".into())
            .spawn(move || {
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    writer_loop(conn, rx, &inner)
                }));
                if ran.is_err() {
                    tracing::error!("the store's writer thread panicked");
                    on_death();
                }
            })
            .map_err(data_error)?;
        let inner = Arc::clone(&store.inner);
        let checkpointer = std::thread::Builder::new()
            .name("parlor-store-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpoint_conn, &inner))
            .map_err(data_error)?;
        if let Ok(mut w) = store.inner.writer.lock() {
            *w = Some(writer);
        }
        if let Ok(mut c) = store.inner.checkpointer.lock() {
            *c = Some(checkpointer);
        }
        Ok(store)
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
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().ok().and_then(|mut r| r.pop());
            let conn = match pooled {
                Some(c) => c,
                None => open_conn(&inner.path, true)?,
            };
            let result = f(&conn);
            if let Ok(mut r) = inner.readers.lock() {
                if r.len() < READERS {
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

    /// Stops taking jobs, lets the writer commit what it has, and waits for it and for
    /// the checkpointer.
    pub fn shut(&self) {
        if let Ok(mut jobs) = self.inner.jobs.lock() {
            jobs.take();
        }
        let handle = self.inner.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        let (flag, wake) = &self.inner.closing;
        if let Ok(mut closing) = flag.lock() {
            *closing = true;
            wake.notify_all();
        }
        let handle = self
            .inner
            .checkpointer
            .lock()
            .ok()
            .and_then(|mut c| c.take());
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

/// Checkpoints the WAL (PASSIVE: it never waits for, nor blocks, the writer or the
/// readers) whenever something was committed since the last run, until the store closes.
fn checkpoint_loop(conn: &Connection, inner: &Inner) {
    let mut seen = 0;
    let (flag, wake) = &inner.closing;
    loop {
        let Ok(closing) = flag.lock() else { return };
        let Ok((closing, _)) = wake.wait_timeout_while(closing, CHECKPOINT_EVERY, |c| !*c) else {
            return;
        };
        if *closing {
            return;
        }
        drop(closing);
        let commits = inner.stats.commits.load(Ordering::Relaxed);
        if commits == seen {
            continue;
        }
        seen = commits;
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            Ok(()) => {
                inner.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
        }
    }
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
    // Closing: copy the whole WAL into the database and empty it, so that the next
    // start does not read (recover) a long WAL first.
    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())) {
        tracing::warn!(error = %e, "the closing WAL checkpoint failed");
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
