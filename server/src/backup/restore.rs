//! `parlor restore FILE --data DIR`: makes `DIR` a data directory from an archive of
//! `parlor backup`, or leaves it as it was.
//!
//! `DIR` must be new or empty: a restore never mixes with, nor replaces, a data
//! directory in use. The archive is read once, front to back, into `DIR/.restoring`:
//! the manifest first (format and schema this build can read), then only the entries
//! a backup writes, each to a path made here from a checked name (the archive's paths
//! are never joined to `DIR`: no `..`, no absolute path, no link leaves it), every file
//! owner-only; its checksums last, compared with what was written. The database must
//! pass `PRAGMA integrity_check` and hold the manifest's schema and messages. Only then
//! are the uploads and, last, the database moved into `DIR`; on any error the scratch
//! directory goes (and `DIR`, if the restore made it).

use super::{
    io_at, sync_parent, BackupError, Checksums, Digesting, FileSum, Manifest, CHECKSUMS, FORMAT,
    MANIFEST,
};
use crate::domain::is_upload_name;
use crate::progress::{self, Progress};
use crate::store::sqlite::DB_FILE;
use crate::uploads::UPLOADS_DIR;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The scratch directory inside `DIR` while a restore runs.
const SCRATCH: &str = ".restoring";
/// The largest manifest or checksums entry read (they are read into memory).
const MAX_JSON: u64 = 64 << 20;

/// What a restore made.
#[derive(Debug)]
pub struct RestoreReport {
    pub data: PathBuf,
    pub manifest: Manifest,
    pub uploads: u64,
    pub upload_bytes: u64,
    /// Uploads that were already gone when the backup was made.
    pub missing: usize,
    pub elapsed: Duration,
}

impl RestoreReport {
    /// The one-line summary.
    pub fn summary(&self) -> String {
        let m = &self.manifest;
        let mut line = format!(
            "restore: {}, {}, {}, {} ({}) from the backup of {} into {} in {}",
            progress::count(m.messages, "message"),
            progress::count(m.users, "user"),
            progress::count(m.rooms, "room"),
            progress::count(self.uploads, "upload"),
            progress::size(self.upload_bytes),
            m.created,
            self.data.display(),
            progress::duration(self.elapsed),
        );
        if self.missing > 0 {
            line.push_str(&format!(
                "; {} already gone when the backup was made",
                progress::count(self.missing as u64, "upload")
            ));
        }
        line
    }
}

/// Makes the new or empty directory `data` from the archive `file`.
pub fn restore<W: Write>(
    file: &Path,
    data: &Path,
    progress: &mut Progress<W>,
) -> Result<RestoreReport, BackupError> {
    let started = Instant::now();
    let made = check_target(data)?;
    crate::private::dir(data).map_err(io_at(data))?;
    let scratch = data.join(SCRATCH);
    match fill(file, &scratch, data, progress) {
        Ok(unpacked) => Ok(RestoreReport {
            data: data.to_owned(),
            uploads: unpacked.uploads,
            upload_bytes: unpacked.upload_bytes,
            missing: unpacked.missing,
            manifest: unpacked.manifest,
            elapsed: started.elapsed(),
        }),
        Err(e) => {
            // `data` was new or empty: whatever is in it now is this restore's.
            for path in [scratch, data.join(UPLOADS_DIR)] {
                match std::fs::remove_dir_all(&path) {
                    Ok(()) => {}
                    Err(gone) if gone.kind() == io::ErrorKind::NotFound => {}
                    Err(gone) => {
                        tracing::warn!(path = %path.display(), error = %gone, "cannot remove")
                    }
                }
            }
            if made {
                let _ = std::fs::remove_dir(data);
            }
            Err(e)
        }
    }
}

/// Unpacks into `scratch`, checks, and moves into `data`.
fn fill<W: Write>(
    file: &Path,
    scratch: &Path,
    data: &Path,
    progress: &mut Progress<W>,
) -> Result<Unpacked, BackupError> {
    crate::private::dir(scratch).map_err(io_at(scratch))?;
    let unpacked = unpack(file, scratch, progress)?;
    progress.phase("checking the database", None, None);
    check_database(file, &scratch.join(DB_FILE), &unpacked.manifest)?;
    move_into_place(scratch, data)?;
    Ok(unpacked)
}

/// Refuses a directory that holds anything; answers whether it has to be made.
fn check_target(data: &Path) -> Result<bool, BackupError> {
    let mut entries = match std::fs::read_dir(data) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(io_at(data)(e)),
    };
    if std::fs::symlink_metadata(data.join(DB_FILE)).is_ok() {
        return Err(BackupError::HasDatabase(data.to_owned()));
    }
    if entries.next().is_some() {
        return Err(BackupError::NotEmpty(data.to_owned()));
    }
    Ok(false)
}

/// What was read from the archive.
struct Unpacked {
    manifest: Manifest,
    uploads: u64,
    upload_bytes: u64,
    missing: usize,
}

/// A reader that counts the bytes read from the archive (for progress).
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads the archive `file` into `scratch`, checking each entry and the checksums.
fn unpack<W: Write>(
    file: &Path,
    scratch: &Path,
    progress: &mut Progress<W>,
) -> Result<Unpacked, BackupError> {
    let damaged = |why: String| BackupError::Damaged {
        file: file.to_owned(),
        why,
    };
    let archive_file = std::fs::File::open(file).map_err(io_at(file))?;
    let total = archive_file.metadata().map_err(io_at(file))?.len();
    let read = Arc::new(AtomicU64::new(0));
    let mut archive = tar::Archive::new(Counting {
        inner: BufReader::new(archive_file),
        read: Arc::clone(&read),
    });
    let mut entries = archive
        .entries()
        .map_err(|e| damaged(format!("not a tar archive ({e})")))?;

    let mut first = match entries.next() {
        Some(Ok(entry)) => entry,
        Some(Err(e)) => return Err(damaged(format!("not a tar archive ({e})"))),
        None => return Err(damaged("it is empty".into())),
    };
    if entry_path(&first).as_deref() != Some(MANIFEST) {
        return Err(damaged(format!("its first entry is not {MANIFEST}")));
    }
    let manifest: Manifest = read_json(&mut first, MANIFEST).map_err(damaged)?;
    drop(first);
    if manifest.format > FORMAT {
        return Err(BackupError::TooNew {
            file: file.to_owned(),
            what: format!(
                "archive format {}, this build reads {FORMAT}",
                manifest.format
            ),
        });
    }
    if manifest.format != FORMAT {
        return Err(damaged(format!(
            "unknown archive format {}",
            manifest.format
        )));
    }
    let known = crate::store::sqlite::schema_version();
    if manifest.schema > known {
        return Err(BackupError::TooNew {
            file: file.to_owned(),
            what: format!(
                "schema version {}, this build knows up to {known}",
                manifest.schema
            ),
        });
    }

    progress.phase(
        "reading the archive",
        Some(1 + manifest.uploads),
        Some(total),
    );
    let uploads_dir = scratch.join(UPLOADS_DIR);
    crate::private::dir(&uploads_dir).map_err(io_at(&uploads_dir))?;
    let mut written: BTreeMap<String, FileSum> = BTreeMap::new();
    let mut sums: Option<Checksums> = None;
    for entry in entries {
        let mut entry = entry.map_err(|e| damaged(format!("an entry cannot be read ({e})")))?;
        let Some(path) = entry_path(&entry) else {
            return Err(damaged("an entry's name is not UTF-8".into()));
        };
        if sums.is_some() {
            return Err(damaged(format!("{path:?} follows {CHECKSUMS}")));
        }
        if !entry.header().entry_type().is_file() {
            return Err(damaged(format!("{path:?} is not a plain file")));
        }
        if path == CHECKSUMS {
            sums = Some(read_json(&mut entry, CHECKSUMS).map_err(damaged)?);
            continue;
        }
        let target = match path.as_str() {
            DB_FILE => scratch.join(DB_FILE),
            _ => match path.strip_prefix("uploads/").filter(|n| is_upload_name(n)) {
                Some(name) => uploads_dir.join(name),
                None => {
                    return Err(damaged(format!(
                        "unexpected entry {path:?}; nothing is written outside the data directory"
                    )))
                }
            },
        };
        if written.contains_key(&path) {
            return Err(damaged(format!("{path:?} appears twice")));
        }
        let size = entry.header().size().map_err(|e| damaged(e.to_string()))?;
        let sum = write_file(&mut entry, &target, &mut |_| {
            progress.set_bytes(read.load(Ordering::Relaxed))
        })
        .map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData => {
                damaged(format!("{path} cannot be read ({e})"))
            }
            _ => io_at(&target)(e),
        })?;
        if sum.bytes != size {
            return Err(damaged(format!(
                "it ends inside {path} (truncated: {} of {size} bytes)",
                sum.bytes
            )));
        }
        progress.advance(1, 0);
        written.insert(path, sum);
    }
    let Some(sums) = sums else {
        return Err(damaged(format!("it ends before {CHECKSUMS} (truncated?)")));
    };
    for (path, expected) in &sums.files {
        match written.get(path) {
            Some(got) if got == expected => {}
            Some(_) => return Err(damaged(format!("{path} does not match its checksum"))),
            None => return Err(damaged(format!("{path} is missing"))),
        }
    }
    if let Some(extra) = written.keys().find(|p| !sums.files.contains_key(*p)) {
        return Err(damaged(format!("{extra} has no checksum")));
    }
    if !written.contains_key(DB_FILE) {
        return Err(damaged(format!("it holds no {DB_FILE}")));
    }
    let uploads = written.keys().filter(|p| p.as_str() != DB_FILE).count() as u64;
    let upload_bytes = written
        .iter()
        .filter(|(p, _)| p.as_str() != DB_FILE)
        .map(|(_, s)| s.bytes)
        .sum();
    Ok(Unpacked {
        manifest,
        uploads,
        upload_bytes,
        missing: sums.missing_uploads.len(),
    })
}

/// An entry's path as written in the archive (never normalized).
fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> Option<String> {
    std::str::from_utf8(&entry.path_bytes())
        .ok()
        .map(str::to_owned)
}

/// Reads a small JSON entry.
fn read_json<T: serde::de::DeserializeOwned, R: Read>(
    entry: &mut tar::Entry<'_, R>,
    name: &str,
) -> Result<T, String> {
    let size = entry.header().size().map_err(|e| e.to_string())?;
    if size > MAX_JSON {
        return Err(format!("{name} is too large ({size} bytes)"));
    }
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{name} cannot be read ({e})"))?;
    if bytes.len() as u64 != size {
        return Err(format!("it ends inside {name} (truncated)"));
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("{name} is not what a backup writes ({e})"))
}

/// Copies `data` to the new owner-only file `target`, synced; its size and digest.
fn write_file(
    data: &mut impl Read,
    target: &Path,
    copied: &mut dyn FnMut(u64),
) -> io::Result<FileSum> {
    let mut out = crate::private::options()
        .write(true)
        .create_new(true)
        .open(target)?;
    let mut reader = Digesting {
        inner: data,
        hasher: Sha256::new(),
        bytes: 0,
        copied,
    };
    io::copy(&mut reader, &mut out)?;
    out.sync_all()?;
    Ok(reader.sum())
}

/// The restored database is sound and is the one the manifest describes.
fn check_database(file: &Path, db: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let damaged = |why: String| BackupError::Damaged {
        file: file.to_owned(),
        why,
    };
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| damaged(format!("its database cannot be opened ({e})")))?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut stmt| {
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>();
            rows
        })
        .map_err(|e| damaged(format!("its database cannot be read ({e})")))?;
    if problems != ["ok"] {
        return Err(damaged(format!(
            "its database fails the integrity check: {}",
            problems.join("; ")
        )));
    }
    let read = |sql: &str| -> Result<i64, BackupError> {
        conn.query_row(sql, [], |r| r.get(0))
            .map_err(|e| damaged(format!("its database cannot be read ({e})")))
    };
    let schema = read("PRAGMA user_version")?;
    if schema != manifest.schema {
        return Err(damaged(format!(
            "its database is at schema {schema}, its manifest says {}",
            manifest.schema
        )));
    }
    let messages = read("SELECT COUNT(*) FROM messages WHERE deleted = 0")?;
    if u64::try_from(messages).ok() != Some(manifest.messages) {
        return Err(damaged(format!(
            "its database holds {messages} messages, its manifest says {}",
            manifest.messages
        )));
    }
    Ok(())
}

/// Moves the uploads, then the database, from `scratch` into `data`.
fn move_into_place(scratch: &Path, data: &Path) -> Result<(), BackupError> {
    let uploads = data.join(UPLOADS_DIR);
    std::fs::rename(scratch.join(UPLOADS_DIR), &uploads).map_err(io_at(&uploads))?;
    let db = data.join(DB_FILE);
    std::fs::rename(scratch.join(DB_FILE), &db).map_err(io_at(&db))?;
    sync_parent(&db);
    // Restored now: an empty scratch directory left behind is only untidy.
    if let Err(e) = std::fs::remove_dir(scratch) {
        tracing::warn!(path = %scratch.display(), error = %e, "cannot remove");
    }
    Ok(())
}
