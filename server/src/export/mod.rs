//! `parlor export`: the conversations of a data directory (one room, or every room and
//! direct chat) as a JSON document ([`json`]) or a readable HTML page ([`html`]), for
//! people to keep, read or move elsewhere. See `docs/backup.md` ("Export").
//!
//! The database is opened read-only, as the running server leaves it (WAL: the
//! server's writer goes on), and read in one read transaction, so the export is the
//! database as of one commit. Messages are written as they are read, chat by chat,
//! never gathered in memory. What an export holds is chosen here, column by column:
//! never a password hash, a session token, an invitation or a notification setting,
//! and of a deleted message only that it was there (its text and files are gone from
//! the database anyway).

pub mod html;
pub mod json;
mod read;

use crate::domain::{iso8601, now_ms};
use crate::progress::{self, Progress};
use crate::store::sqlite::{schema_version, DB_FILE};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use serde::Serialize;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The version of the export's shape (the JSON `version` field).
pub const VERSION: u32 = 1;

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

impl Format {
    /// `json` or `html`.
    pub fn parse(text: &str) -> Option<Format> {
        match text.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }

    /// The format a file's name implies: `.html` and `.htm` are HTML, anything else
    /// (stdout included) JSON.
    pub fn of_file(file: &Path) -> Format {
        file.extension()
            .and_then(|e| e.to_str())
            .and_then(Format::parse)
            .unwrap_or(Format::Json)
    }
}

/// What `parlor export` was asked for.
#[derive(Debug, Clone)]
pub struct Request {
    pub data: PathBuf,
    /// One room (by name, any case, `#` optional), or everything.
    pub room: Option<String>,
    pub format: Format,
    /// The file to write; `-` is stdout.
    pub file: PathBuf,
}

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no Parlor database in {0} (is --data the server's data directory?)")]
    NoDatabase(PathBuf),
    #[error("{path} was written by a newer Parlor (schema version {found}; this build knows up to {known}); export it with that version")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{path} is at schema version {found}, older than this Parlor's {known}; start `parlor serve` on it once to upgrade it, then export")]
    TooOld {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("no room named {name:?} in {data} (rooms: {rooms})")]
    NoRoom {
        name: String,
        data: PathBuf,
        rooms: String,
    },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database holds something unexpected: {0}")]
    Corrupt(String),
}

/// What the export is of (the document's `scope`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every room and every direct chat.
    Everything,
    /// One room, by its name.
    Room(String),
}

/// The document's head: what it is, when, and of what.
#[derive(Debug, Clone, Serialize)]
pub struct Head {
    pub format: &'static str,
    pub version: u32,
    pub exported_at: String,
    pub parlor: String,
    pub schema: i64,
    pub scope: Scope,
}

/// A room or a direct chat, without its messages.
#[derive(Debug, Clone, Serialize)]
pub struct ChatHead {
    /// The database's key of the chat (`r:1`, `d:alice:bob`); not exported.
    #[serde(skip)]
    pub key: String,
    /// The room's name; `None` for a direct chat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Display names, in name order.
    pub members: Vec<String>,
    pub pins: Vec<Pin>,
    /// Messages, deleted ones included.
    pub message_count: u64,
}

impl ChatHead {
    pub fn is_direct(&self) -> bool {
        self.name.is_none()
    }

    /// `#General`, or `alice & bob`.
    pub fn title(&self) -> String {
        match &self.name {
            Some(name) => format!("#{name}"),
            None => self.members.join(" & "),
        }
    }
}

/// A pinned message of a chat.
#[derive(Debug, Clone, Serialize)]
pub struct Pin {
    pub message: u64,
    pub by: String,
    pub at: String,
}

/// One message as exported. A deleted one is a tombstone: id, author, time and
/// `deleted`, nothing else.
#[derive(Debug, Clone, Serialize)]
pub struct ExportMessage {
    pub id: u64,
    pub author: String,
    pub time: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
    /// Emoji → who reacted with it (display names), the first used first.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_map")]
    pub reactions: Vec<(String, Vec<String>)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ExportAttachment>,
}

/// The reactions as a JSON object in their order (a map would sort the emoji).
fn as_map<S: serde::Serializer>(
    reactions: &[(String, Vec<String>)],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(reactions.iter().map(|(emoji, names)| (emoji, names)))
}

/// A file sent with a message: its name, type, size and the path the server serves
/// it at (the file itself is not in the export; `parlor backup` holds it).
#[derive(Debug, Clone, Serialize)]
pub struct ExportAttachment {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub url: String,
}

/// A writer of one export format, told the document piece by piece.
pub trait Sink {
    fn start(&mut self, head: &Head, chats: &[ChatHead]) -> io::Result<()>;
    fn begin_chat(&mut self, chat: &ChatHead) -> io::Result<()>;
    fn message(&mut self, message: &ExportMessage) -> io::Result<()>;
    fn end_chat(&mut self) -> io::Result<()>;
    /// Ends the document and flushes it.
    fn finish(&mut self) -> io::Result<()>;
    /// Bytes written so far.
    fn written(&self) -> u64;
}

/// A writer that counts the bytes through it.
pub struct Counted<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Counted<W> {
    pub fn new(inner: W) -> Counted<W> {
        Counted { inner, bytes: 0 }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// What an export wrote.
#[derive(Debug)]
pub struct Report {
    pub file: PathBuf,
    pub messages: u64,
    pub rooms: u64,
    pub direct: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Report {
    /// The one-line summary.
    pub fn summary(&self) -> String {
        let mut chats = progress::count(self.rooms, "room");
        if self.direct > 0 {
            chats.push_str(&format!(
                " and {}",
                progress::count(self.direct, "direct chat")
            ));
        }
        let file = if self.file.as_os_str() == "-" {
            "stdout".to_owned()
        } else {
            self.file.display().to_string()
        };
        format!(
            "export: exported {} in {chats}, {}, to {file} in {} ({})",
            progress::count(self.messages, "message"),
            progress::size(self.bytes),
            progress::duration(self.elapsed),
            progress::rate(self.bytes, self.elapsed),
        )
    }
}

/// `parlor export`: writes the export, progress on stderr, the summary on stdout (on
/// stderr when the export itself goes to stdout).
pub async fn run_export(request: Request) -> anyhow::Result<()> {
    let to_stdout = request.file.as_os_str() == "-";
    let report = tokio::task::spawn_blocking(move || {
        let mut progress = Progress::stderr("export").counting("message");
        let report = export(&request, &mut progress);
        progress.finish();
        report
    })
    .await??;
    let line = report.summary();
    // Done is done: a closed stdout or stderr does not turn it into a failure.
    if to_stdout {
        let _ = writeln!(io::stderr().lock(), "{line}");
    } else {
        let _ = writeln!(io::stdout().lock(), "{line}");
    }
    Ok(())
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes the export `request` asks for. A file is written owner-only as `FILE.part`,
/// renamed once complete and synced: a failed export leaves no half file.
pub fn export<W: Write + Send>(
    request: &Request,
    progress: &mut Progress<W>,
) -> Result<Report, ExportError> {
    let started = Instant::now();
    let conn = open(&request.data)?;
    if request.file.as_os_str() == "-" {
        let out = Counted::new(BufWriter::new(io::stdout().lock()));
        let (messages, rooms, direct, bytes) =
            write_to(&conn, request, out, progress).map_err(io_or(Path::new("stdout")))?;
        return Ok(Report {
            file: request.file.clone(),
            messages,
            rooms,
            direct,
            bytes,
            elapsed: started.elapsed(),
        });
    }
    let file = &request.file;
    let part = with_suffix(file, ".part");
    let mut done = false;
    let result = (|| -> Result<(u64, u64, u64, u64), ExportError> {
        let out = crate::private::create(&part).map_err(io_at(&part))?;
        let synced = out.try_clone().map_err(io_at(&part))?;
        let counts = write_to(&conn, request, Counted::new(BufWriter::new(out)), progress)
            .map_err(io_or(&part))?;
        synced.sync_all().map_err(io_at(&part))?;
        std::fs::rename(&part, file).map_err(io_at(file))?;
        done = true;
        Ok(counts)
    })();
    if !done {
        match std::fs::remove_file(&part) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(path = %part.display(), error = %e, "cannot remove"),
        }
    }
    let (messages, rooms, direct, bytes) = result?;
    Ok(Report {
        file: file.clone(),
        messages,
        rooms,
        direct,
        bytes,
        elapsed: started.elapsed(),
    })
}

/// An error of [`write_to`]: the database's as it is, the writer's at `path`.
fn io_or(path: &Path) -> impl FnOnce(WriteError) -> ExportError + '_ {
    move |e| match e {
        WriteError::Export(e) => e,
        WriteError::Io(source) => ExportError::Io {
            path: path.to_owned(),
            source,
        },
    }
}

enum WriteError {
    Export(ExportError),
    Io(io::Error),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> WriteError {
        WriteError::Io(e)
    }
}

impl From<ExportError> for WriteError {
    fn from(e: ExportError) -> WriteError {
        WriteError::Export(e)
    }
}

impl From<rusqlite::Error> for WriteError {
    fn from(e: rusqlite::Error) -> WriteError {
        WriteError::Export(e.into())
    }
}

/// Opens the database of `data` read-only, at this build's schema.
fn open(data: &Path) -> Result<Connection, ExportError> {
    let db = data.join(DB_FILE);
    if !db.is_file() {
        return Err(ExportError::NoDatabase(data.to_owned()));
    }
    let conn = Connection::open_with_flags(
        &db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = schema_version();
    if found > known {
        return Err(ExportError::TooNew {
            path: db,
            found,
            known,
        });
    }
    if found < known {
        return Err(ExportError::TooOld {
            path: db,
            found,
            known,
        });
    }
    Ok(conn)
}

/// Reads and writes the whole export in one read transaction; answers the messages,
/// rooms and direct chats written, and the bytes.
fn write_to<W: Write + Send, O: Write>(
    conn: &Connection,
    request: &Request,
    out: Counted<BufWriter<O>>,
    progress: &mut Progress<W>,
) -> Result<(u64, u64, u64, u64), WriteError> {
    // Deferred: the snapshot is taken at the first read below and kept to the end.
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Deferred)?;
    let (scope, chats) = read::chats(&tx, request)?;
    let head = Head {
        format: "parlor-export",
        version: VERSION,
        exported_at: iso8601(now_ms(), false),
        parlor: env!("CARGO_PKG_VERSION").into(),
        schema: schema_version(),
        scope,
    };
    let total: u64 = chats.iter().map(|c| c.message_count).sum();
    let mut sink: Box<dyn Sink + '_> = match request.format {
        Format::Json => Box::new(json::JsonSink::new(out)),
        Format::Html => Box::new(html::HtmlSink::new(out)),
    };
    progress.phase("writing messages", Some(total), None);
    sink.start(&head, &chats)?;
    let mut messages = 0;
    for chat in &chats {
        sink.begin_chat(chat)?;
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {} FROM messages WHERE chat = ?1 ORDER BY id",
            read::MESSAGE_COLUMNS
        ))?;
        let mut reactions_stmt = tx.prepare_cached(read::REACTIONS_OF_CHAT)?;
        let mut reactions = read::Reactions::of(&mut reactions_stmt, &chat.key)?;
        let mut rows = stmt.query([&chat.key])?;
        while let Some(row) = rows.next()? {
            let mut message = read::message_of(row)?;
            if !message.deleted {
                reactions.fill(&mut message)?;
            }
            let before = sink.written();
            sink.message(&message)?;
            messages += 1;
            progress.advance(1, sink.written() - before);
        }
        sink.end_chat()?;
    }
    sink.finish()?;
    let bytes = sink.written();
    drop(sink);
    tx.finish()?;
    let direct = chats.iter().filter(|c| c.is_direct()).count() as u64;
    Ok((messages, chats.len() as u64 - direct, direct, bytes))
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
