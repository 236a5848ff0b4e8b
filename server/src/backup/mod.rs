//! `parlor backup` and `parlor restore`: everything of a data directory that Parlor
//! cannot make again (the database and the uploads) as one file, written while the
//! server runs (or not), and a new data directory made from such a file
//! ([`restore`]). See `docs/backup.md`.
//!
//! The file is a tar archive of owner-only files:
//!
//! 1. `manifest.json`: the format, the schema version, when, and what it holds;
//! 2. `parlor.db`: the database as of one commit (`VACUUM INTO`, one read
//!    transaction, while the server's writer goes on);
//! 3. `uploads/NAME`: each upload that snapshot lists (not those already released,
//!    whose messages were deleted). The database is copied first, so every upload it
//!    refers to was stored before; one swept after the snapshot (its last message
//!    deleted meanwhile) may be gone, and is counted, never an error;
//! 4. `checksums.json`, last: each file's size and SHA-256, and the uploads that were
//!    gone. An archive without it ends early: truncated.

pub mod restore;

use crate::domain::{is_upload_name, iso8601, now_ms};
use crate::progress::{self, Progress};
use crate::store::sqlite::{snapshot, DB_FILE};
use crate::store::StoreError;
use crate::uploads::UPLOADS_DIR;
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The archive format this build writes and reads.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const CHECKSUMS: &str = "checksums.json";

/// What an archive holds, its first entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The archive format ([`FORMAT`]).
    pub format: u32,
    /// The database's schema version (`PRAGMA user_version`).
    pub schema: i64,
    /// When the database was copied, UTC.
    pub created: String,
    /// The Parlor that wrote it.
    pub parlor: String,
    pub users: u64,
    pub rooms: u64,
    /// Messages not deleted.
    pub messages: u64,
    /// Uploads the database lists (not released).
    pub uploads: u64,
}

/// Every file's size and digest, and the uploads that were gone: the last entry.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Checksums {
    pub files: BTreeMap<String, FileSum>,
    pub missing_uploads: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub sha256: String,
}

/// Why a backup or a restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("no Parlor database in {0} (is --data the server's data directory?)")]
    NoDatabase(PathBuf),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0} already holds a Parlor database; restore into a new or empty directory")]
    HasDatabase(PathBuf),
    #[error("{0} is not empty; restore into a new or empty directory")]
    NotEmpty(PathBuf),
    #[error("{file} is not a usable Parlor backup: {why}")]
    Damaged { file: PathBuf, why: String },
    #[error("{file} was written by a newer Parlor ({what}); restore it with that version")]
    TooNew { file: PathBuf, what: String },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// What a backup wrote.
#[derive(Debug)]
pub struct BackupReport {
    pub file: PathBuf,
    pub manifest: Manifest,
    pub upload_bytes: u64,
    /// Uploads the snapshot listed whose files were gone.
    pub missing: Vec<String>,
    pub archive_bytes: u64,
    pub elapsed: Duration,
}

impl BackupReport {
    /// The one-line summary.
    pub fn summary(&self) -> String {
        let m = &self.manifest;
        let mut line = format!(
            "backup: {}, {}, {}, {} ({}) written to {} ({}) in {} ({})",
            progress::count(m.messages, "message"),
            progress::count(m.users, "user"),
            progress::count(m.rooms, "room"),
            progress::count(
                m.uploads.saturating_sub(self.missing.len() as u64),
                "upload"
            ),
            progress::size(self.upload_bytes),
            self.file.display(),
            progress::size(self.archive_bytes),
            progress::duration(self.elapsed),
            progress::rate(self.archive_bytes, self.elapsed),
        );
        if !self.missing.is_empty() {
            line.push_str(&format!(
                "; {} listed but removed since (their messages deleted): not in the backup",
                progress::count(self.missing.len() as u64, "upload")
            ));
        }
        line
    }
}

/// `parlor backup`: writes the archive of `data` to `file`, progress on stderr and
/// the summary on stdout.
pub async fn run_backup(data: PathBuf, file: PathBuf) -> anyhow::Result<()> {
    let report = tokio::task::spawn_blocking(move || {
        let mut progress = Progress::stderr("backup");
        let report = backup(&data, &file, &mut progress);
        progress.finish();
        report
    })
    .await??;
    say(&report.summary());
    Ok(())
}

/// `parlor restore`: makes `data` from the archive `file`.
pub async fn run_restore(file: PathBuf, data: PathBuf) -> anyhow::Result<()> {
    let report = tokio::task::spawn_blocking(move || {
        let mut progress = Progress::stderr("restore");
        let report = restore::restore(&file, &data, &mut progress);
        progress.finish();
        report
    })
    .await??;
    say(&report.summary());
    Ok(())
}

/// Prints a command's summary on stdout. Done is done: a closed stdout (`| head -0`)
/// does not turn it into a failure, nor a panic as `println!` would.
fn say(line: &str) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}

/// `path` with `suffix` added to its file name.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Files removed when dropped (the parts of a backup that did not finish).
struct Scratch(Vec<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        for path in &self.0 {
            match std::fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove"),
            }
        }
    }
}

/// Writes the archive of the data directory `data` to `file` (replaced only once the
/// new archive is complete and synced).
pub fn backup<W: Write + Send>(
    data: &Path,
    file: &Path,
    progress: &mut Progress<W>,
) -> Result<BackupReport, BackupError> {
    let started = Instant::now();
    let db = data.join(DB_FILE);
    if !db.is_file() {
        return Err(BackupError::NoDatabase(data.to_owned()));
    }
    let part = with_suffix(file, ".part");
    let snap = with_suffix(file, ".db.part");
    let _scratch = Scratch(vec![part.clone(), snap.clone()]);
    for stale in [&part, &snap] {
        if stale.exists() {
            std::fs::remove_file(stale).map_err(io_at(stale))?;
        }
    }

    // 1. The database as of one commit.
    let source = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    source.busy_timeout(Duration::from_secs(10))?;
    let pages: u64 = source.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page_size: u64 = source.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let estimate = pages.saturating_mul(page_size);
    progress.phase("snapshot of the database", None, Some(estimate));
    let created = iso8601(now_ms(), false);
    copy_watched(&source, &snap, progress)?;
    drop(source);
    let (manifest, uploads) = describe(&snap, created)?;

    // 2. The archive: manifest, database, uploads, checksums.
    let out = crate::private::create(&part).map_err(io_at(&part))?;
    let mut tar = tar::Builder::new(BufWriter::new(out));
    let mut sums = Checksums::default();
    let manifest_json = serde_json::to_vec_pretty(&manifest).map_err(|e| io_at(&part)(e.into()))?;
    append(
        &mut tar,
        MANIFEST,
        &manifest_json[..],
        manifest_json.len() as u64,
        &mut |_| {},
    )
    .map_err(io_at(&part))?;
    let db_bytes = std::fs::metadata(&snap).map_err(io_at(&snap))?.len();
    progress.phase("copying the database", Some(1), Some(db_bytes));
    let reader = std::fs::File::open(&snap).map_err(io_at(&snap))?;
    let sum = append(&mut tar, DB_FILE, reader, db_bytes, &mut |n| {
        progress.advance(0, n)
    })
    .map_err(io_at(&part))?;
    progress.advance(1, 0);
    sums.files.insert(DB_FILE.into(), sum);

    let listed: u64 = uploads.iter().map(|(_, bytes)| *bytes).sum();
    progress.phase("copying uploads", Some(uploads.len() as u64), Some(listed));
    let dir = data.join(UPLOADS_DIR);
    let mut upload_bytes = 0;
    for (name, _) in &uploads {
        let path = dir.join(name);
        let opened = if is_upload_name(name) {
            std::fs::File::open(&path)
        } else {
            // A name no upload has (a damaged row) never becomes a path.
            tracing::warn!(name = %name, "an upload row with an impossible name");
            Err(io::ErrorKind::NotFound.into())
        };
        let reader = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                sums.missing_uploads.push(name.clone());
                progress.advance(1, 0);
                continue;
            }
            Err(e) => return Err(io_at(&path)(e)),
        };
        let len = reader.metadata().map_err(io_at(&path))?.len();
        let entry = format!("{UPLOADS_DIR}/{name}");
        let sum = append(&mut tar, &entry, reader, len, &mut |n| {
            progress.advance(0, n)
        })
        .map_err(io_at(&part))?;
        upload_bytes += sum.bytes;
        progress.advance(1, 0);
        sums.files.insert(entry, sum);
    }
    let sums_json = serde_json::to_vec_pretty(&sums).map_err(|e| io_at(&part)(e.into()))?;
    append(
        &mut tar,
        CHECKSUMS,
        &sums_json[..],
        sums_json.len() as u64,
        &mut |_| {},
    )
    .map_err(io_at(&part))?;
    let out = tar
        .into_inner()
        .and_then(|w| w.into_inner().map_err(io::IntoInnerError::into_error))
        .map_err(io_at(&part))?;
    out.sync_all().map_err(io_at(&part))?;
    let archive_bytes = out.metadata().map_err(io_at(&part))?.len();
    drop(out);
    std::fs::rename(&part, file).map_err(io_at(file))?;
    sync_parent(file);
    Ok(BackupReport {
        file: file.to_owned(),
        manifest,
        upload_bytes,
        missing: sums.missing_uploads,
        archive_bytes,
        elapsed: started.elapsed(),
    })
}

/// `VACUUM INTO` `target`, while a thread reports how much of it is written.
fn copy_watched<W: Write + Send>(
    source: &Connection,
    target: &Path,
    progress: &mut Progress<W>,
) -> Result<(), BackupError> {
    let (done, stop) = std::sync::mpsc::channel::<()>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                stop.recv_timeout(Duration::from_millis(100))
            {
                if let Ok(meta) = std::fs::metadata(target) {
                    progress.set_bytes(meta.len());
                }
            }
        });
        let copied = snapshot::copy_into(source, target);
        drop(done);
        copied
    })?;
    Ok(())
}

/// Reads what the snapshot at `snap` holds: its manifest, and the uploads it lists
/// (name and bytes). The snapshot is left in rollback-journal mode, so that it is one
/// file wherever it is opened.
fn describe(snap: &Path, created: String) -> Result<(Manifest, Vec<(String, u64)>), BackupError> {
    let conn = Connection::open_with_flags(snap, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.pragma_update(None, "journal_mode", "DELETE")?;
    let count = |sql: &str| -> Result<u64, rusqlite::Error> {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
    };
    let tracked: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'uploads')",
        [],
        |r| r.get(0),
    )?;
    let uploads = if tracked {
        let mut stmt =
            conn.prepare("SELECT name, bytes FROM uploads WHERE released = 0 ORDER BY name")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .map(|r| r.map(|(name, bytes)| (name, u64::try_from(bytes).unwrap_or(0))))
            .collect::<Result<Vec<_>, _>>()?;
        rows
    } else {
        Vec::new()
    };
    let manifest = Manifest {
        format: FORMAT,
        schema: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        created,
        parlor: env!("CARGO_PKG_VERSION").into(),
        users: count("SELECT COUNT(*) FROM users")?,
        rooms: count("SELECT COUNT(*) FROM rooms")?,
        messages: count("SELECT COUNT(*) FROM messages WHERE deleted = 0")?,
        uploads: uploads.len() as u64,
    };
    Ok((manifest, uploads))
}

/// Appends `len` bytes of `data` as the owner-only file `path`; answers their size
/// and digest. `copied` is told the bytes as they go.
fn append<T: Write, R: Read>(
    tar: &mut tar::Builder<T>,
    path: &str,
    data: R,
    len: u64,
    copied: &mut dyn FnMut(u64),
) -> io::Result<FileSum> {
    let mut header = tar::Header::new_gnu();
    header.set_size(len);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mtime(u64::try_from(now_ms() / 1000).unwrap_or(0));
    let mut reader = Digesting {
        inner: data.take(len),
        hasher: Sha256::new(),
        bytes: 0,
        copied,
    };
    tar.append_data(&mut header, path, &mut reader)?;
    if reader.bytes != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{path} changed while it was copied"),
        ));
    }
    Ok(reader.sum())
}

/// A reader that digests and counts what goes through it.
pub(crate) struct Digesting<'a, R> {
    pub inner: R,
    pub hasher: Sha256,
    pub bytes: u64,
    pub copied: &'a mut dyn FnMut(u64),
}

impl<R: Read> Read for Digesting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        (self.copied)(n as u64);
        Ok(n)
    }
}

impl<R> Digesting<'_, R> {
    /// The size and digest of what was read.
    pub fn sum(self) -> FileSum {
        FileSum {
            bytes: self.bytes,
            sha256: data_encoding::HEXLOWER.encode(&self.hasher.finalize()),
        }
    }
}

/// Syncs the directory holding `path`, so that a rename in it is durable.
fn sync_parent(path: &Path) {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if let Err(e) = std::fs::File::open(parent).and_then(|d| d.sync_all()) {
        tracing::warn!(path = %parent.display(), error = %e, "cannot sync the directory");
    }
}
