//! Opening SQLite connections with the settings every write relies on (WAL, FULL
//! sync, secure delete), the one-time scrub of what an older or crashed Parlor left
//! in the files, and the checkpointer thread that keeps the WAL small off the commit
//! path. Kept apart from the store's operations: this is how the files are handled,
//! not what is in them.

use super::{schema, Inner, StoreError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the checkpointer looks whether anything was committed since its last run.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// How long an erasing checkpoint waits for the writer's batch and for readers before
/// it gives up until the next round.
pub(super) const ERASING_CHECKPOINT_WAIT: Duration = Duration::from_millis(200);

/// Prepared statements the writer keeps (rusqlite's default is 16).
pub(super) const WRITER_STATEMENTS: usize = 128;

pub(super) fn open_conn(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
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
        // Deleted content is overwritten with zeros in the database file, not left in
        // free space (deleted means gone). It costs nothing on the path of a new
        // message, which frees nothing.
        conn.pragma_update(None, "secure_delete", "ON")?;
    }
    Ok(conn)
}

/// At start, before anything else uses the database: a database last written by a
/// Parlor that did not scrub deleted messages (before schema version 3) may hold their
/// text in free pages, rewritten once (`VACUUM`); and the WAL a crash left behind may
/// hold erased text in older frames, emptied here.
pub(super) fn erase_leftovers(conn: &Connection, found: i64) -> Result<(), StoreError> {
    if (1..schema::SCRUBBED_FROM).contains(&found) {
        let deleted: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE deleted = 1)",
            [],
            |r| r.get(0),
        )?;
        if deleted {
            tracing::info!("rewriting the database once so that deleted messages leave no trace");
            conn.execute_batch("VACUUM")?;
        }
    }
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Checkpoints the WAL (PASSIVE: it never waits for, nor blocks, the writer or the
/// readers) whenever something was committed since the last run, until the store closes.
/// After an erasure the checkpoint is TRUNCATE instead: it copies every frame and
/// empties the WAL file, so the older frames that held the erased text are gone; it
/// briefly holds off the writer (at most [`ERASING_CHECKPOINT_WAIT`] to begin), and if
/// a reader keeps it from finishing, it is tried again at the next round.
pub(super) fn checkpoint_loop(conn: &Connection, inner: &Inner) {
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
        let erasing = inner.erased.swap(false, Ordering::Relaxed);
        if commits == seen && !erasing {
            continue;
        }
        seen = commits;
        let sql = if erasing {
            "PRAGMA wal_checkpoint(TRUNCATE)"
        } else {
            "PRAGMA wal_checkpoint(PASSIVE)"
        };
        // The first column says whether the checkpoint could not finish (busy).
        match conn.query_row(sql, [], |r| r.get::<_, i64>(0)) {
            Ok(busy) => {
                inner.stats.checkpoints.fetch_add(1, Ordering::Relaxed);
                if erasing && busy != 0 {
                    inner.erased.store(true, Ordering::Relaxed);
                }
            }
            Err(e) => {
                if erasing {
                    inner.erased.store(true, Ordering::Relaxed);
                }
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    }
}
