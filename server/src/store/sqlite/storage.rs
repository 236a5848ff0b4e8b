//! The owner's view of storage (`getStorage`): file sizes in the data directory (the
//! database and its write-ahead log, the automatic pre-migration copies), the free
//! space of its disk, and from the database where the bytes go (messages per room,
//! upload bytes per person). Read on a reader connection: a full count of the messages
//! takes a moment on a large database but never holds the writer.

use super::snapshot::BACKUPS_DIR;
use crate::store::StoreError;
use app::protocol::{PersonUsage, RoomUsage, StorageReport};
use rusqlite::Connection;
use std::path::Path;

/// People listed by upload bytes.
const TOP_PEOPLE: u32 = 20;

pub fn report(conn: &Connection, db_file: &Path) -> Result<StorageReport, StoreError> {
    let data_dir = db_file.parent().unwrap_or(Path::new("."));
    let mut report = StorageReport {
        database: ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| file_size(&with_suffix(db_file, suffix)))
            .sum(),
        backups: dir_size(&data_dir.join(BACKUPS_DIR)),
        ..StorageReport::default()
    };
    (report.free, report.total) = match disk_space(data_dir) {
        Some((free, total)) => (Some(free), Some(total)),
        None => (None, None),
    };
    let (bytes, files): (i64, i64) = conn.query_row(
        "SELECT COALESCE(SUM(bytes), 0), COUNT(*) FROM uploads",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    (report.uploads, report.upload_files) = (bytes as u64, files as u64);
    let mut stmt = conn.prepare(
        "SELECT r.name, COUNT(m.id) FROM rooms r
         LEFT JOIN messages m ON m.chat = 'r:' || r.id AND m.deleted = 0
         GROUP BY r.id ORDER BY COUNT(m.id) DESC, r.name_key",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (name, messages) = row?;
        report.messages += messages as u64;
        report.rooms.push(RoomUsage {
            chat_id: format!("#{name}"),
            messages: messages as u64,
        });
    }
    report.direct_messages = conn.query_row(
        "SELECT COUNT(*) FROM messages WHERE chat LIKE 'd:%' AND deleted = 0",
        [],
        |r| r.get::<_, i64>(0),
    )? as u64;
    let mut stmt = conn.prepare(
        "SELECT COALESCE(u.name, p.owner_key), p.total FROM
            (SELECT owner_key, SUM(bytes) AS total FROM uploads GROUP BY owner_key
             ORDER BY total DESC LIMIT ?1) p
         LEFT JOIN users u ON u.key = p.owner_key
         ORDER BY p.total DESC",
    )?;
    for row in stmt.query_map([TOP_PEOPLE], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (user_id, uploads) = row?;
        report.people.push(PersonUsage {
            user_id,
            uploads: uploads as u64,
        });
    }
    Ok(report)
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// A file's size; 0 when it is not there (the WAL between checkpoints, say).
fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The bytes of the files directly in `dir` (0 when there is no such directory).
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Free (for an unprivileged user) and total bytes of the disk holding `dir`.
fn disk_space(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid NUL-terminated string and `stat` a buffer of the right
    // type that statvfs fills when it answers 0.
    let rc = unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs answered 0, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    // The fields are 32 bits wide on 32-bit ARM (the Pi's armv7 build), 64 on others.
    #[allow(clippy::unnecessary_cast)]
    let (block, free, total) = (
        stat.f_frsize as u64,
        stat.f_bavail as u64,
        stat.f_blocks as u64,
    );
    Some((free.saturating_mul(block), total.saturating_mul(block)))
}
