//! Copies of the database. [`copy_into`] writes a consistent snapshot while other
//! connections (the running server's writer) go on committing: `VACUUM INTO` reads
//! the whole database in one read transaction, so the copy is the database as of one
//! commit, and the writer never waits for it (WAL). SQLite's online backup API was the
//! other choice; it copies a few pages per step and starts again whenever another
//! connection commits between two steps, so under a steady write load it may never
//! finish (measured in `docs/backup.md`). `VACUUM INTO` also leaves out free pages:
//! nothing a delete freed travels in a copy.
//!
//! [`before_migration`] keeps such a copy under `--data/backups` before a schema
//! migration rewrites a database that holds data, so that an upgrade that goes wrong
//! can be undone by hand; the last [`KEEP`] are kept.

use super::schema;
use crate::store::StoreError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The directory under `--data` that holds the snapshots taken before migrations.
pub const BACKUPS_DIR: &str = "backups";
/// How many snapshots taken before migrations are kept (the newest).
pub const KEEP: usize = 3;
/// How their names begin.
const PREFIX: &str = "before-schema-";

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::DataDir {
        path: path.to_owned(),
        source,
    }
}

/// Writes a consistent, compacted copy of `conn`'s database to `target`, an
/// owner-only file that must not exist yet.
pub fn copy_into(conn: &Connection, target: &Path) -> Result<(), StoreError> {
    let name = target.to_str().ok_or_else(|| StoreError::DataDir {
        path: target.to_owned(),
        source: std::io::Error::other("the path is not UTF-8, which SQLite needs"),
    })?;
    // Made empty and owner-only first: SQLite would make it readable by others.
    crate::private::options()
        .write(true)
        .create_new(true)
        .open(target)
        .map_err(io_error(target))?;
    conn.execute("VACUUM INTO ?1", [name])?;
    Ok(())
}

/// Before migrating a database that holds data (schema version from 1 to below
/// [`schema::CURRENT`]), copies it to `DATA/backups/before-schema-N-TIME.db` and
/// keeps the newest [`KEEP`] of those; answers the copy's path, or `None` when no
/// migration is due.
pub fn before_migration(conn: &Connection, data_dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if !(1..schema::CURRENT).contains(&version) {
        return Ok(None);
    }
    let dir = data_dir.join(BACKUPS_DIR);
    crate::private::dir(&dir).map_err(io_error(&dir))?;
    let stamp: String = crate::domain::iso8601(crate::domain::now_ms(), false)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let path = dir.join(format!("{PREFIX}{version}-{stamp}.db"));
    // The same version copied in the same second (a migration that failed and was
    // tried again at once): that copy is of the same database.
    if !path.exists() {
        copy_into(conn, &path)?;
        tracing::info!(
            path = %path.display(),
            from = version,
            to = schema::CURRENT,
            "copied the database before migrating its schema"
        );
    }
    prune(&dir, KEEP).map_err(io_error(&dir))?;
    Ok(Some(path))
}

/// Removes all but the newest `keep` snapshots taken before migrations in `dir`.
fn prune(dir: &Path, keep: usize) -> std::io::Result<()> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(PREFIX) && name.ends_with(".db") && entry.file_type()?.is_file() {
            found.push((entry.metadata()?.modified()?, entry.path()));
        }
    }
    found.sort();
    let extra = found.len().saturating_sub(keep);
    for (_, path) in found.into_iter().take(extra) {
        std::fs::remove_file(&path)?;
        tracing::info!(path = %path.display(), "removed an old snapshot taken before a migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::{SqliteStore, DB_FILE};
    use std::time::{Duration, SystemTime};

    /// A database one schema version behind, holding a message: opening it migrates
    /// it, and first leaves a copy under `backups/` that opens at the old version
    /// and holds the message. A current database gets no copy.
    #[test]
    fn an_older_database_is_copied_before_its_migration() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let data = tmp.path().join("data");
        std::fs::create_dir(&data).expect("data dir");
        let old = schema::CURRENT - 1;
        {
            let mut conn = Connection::open(data.join(DB_FILE)).expect("db");
            schema::migrate_to(&mut conn, old).expect("old schema");
            conn.execute(
                "INSERT INTO messages (chat, sender, sender_key, body, created_at, updated_at)
                 VALUES ('r:1', 'alice', 'alice', 'before the upgrade', 1, 1)",
                [],
            )
            .expect("a message");
        }
        let store = SqliteStore::open(&data).expect("open and migrate");
        store.shut();
        let copies: Vec<PathBuf> = std::fs::read_dir(data.join(BACKUPS_DIR))
            .expect("backups dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(copies.len(), 1, "{copies:?}");
        let name = copies[0]
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name");
        assert!(name.starts_with(&format!("before-schema-{old}-")), "{name}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&copies[0])
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let copy = Connection::open(&copies[0]).expect("the copy opens");
        let version: i64 = copy
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, old);
        let body: String = copy
            .query_row("SELECT body FROM messages", [], |r| r.get(0))
            .expect("the message");
        assert_eq!(body, "before the upgrade");
        drop(copy);

        // Now current: opening again copies nothing.
        let store = SqliteStore::open(&data).expect("open again");
        store.shut();
        let count = std::fs::read_dir(data.join(BACKUPS_DIR))
            .expect("dir")
            .count();
        assert_eq!(count, 1);
    }

    /// A new data directory has nothing to keep: no copy, no `backups/`.
    #[test]
    fn a_new_database_is_not_copied() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(tmp.path()).expect("open");
        store.shut();
        assert!(!tmp.path().join(BACKUPS_DIR).exists());
    }

    #[test]
    fn only_the_newest_copies_are_kept() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let base = SystemTime::now() - Duration::from_secs(3600);
        for i in 0..5u64 {
            let path = tmp.path().join(format!("{PREFIX}{i}-2026.db"));
            let file = std::fs::File::create(&path).expect("file");
            file.set_modified(base + Duration::from_secs(i))
                .expect("mtime");
        }
        std::fs::write(tmp.path().join("mine.db"), b"not ours").expect("other file");
        prune(tmp.path(), 3).expect("prune");
        let mut left: Vec<String> = std::fs::read_dir(tmp.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "before-schema-2-2026.db",
                "before-schema-3-2026.db",
                "before-schema-4-2026.db",
                "mine.db"
            ]
        );
    }
}
