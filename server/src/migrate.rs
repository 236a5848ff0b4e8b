//! `parlor migrate --data DIR --to postgres://…`: copies a data directory's SQLite
//! database and uploads into PostgreSQL, keeping every id, so that a Parlor that
//! outgrew one machine moves to several nodes and its clients resume where they were
//! (`lastEventId`, message ids and read marks mean the same there). See
//! `docs/cluster.md` ("Moving from SQLite").
//!
//! It reads the SQLite database in one read transaction (the copy is the database as
//! of one commit; stop `parlor serve` first so that nothing is written after it) and
//! writes PostgreSQL table by table in batches, each batch in its own transaction
//! with the table's progress. It can be interrupted and run again: tables copied are
//! skipped, the one interrupted goes on after the last row it holds (rows are keyed
//! as in SQLite, and a row already there is left as it is). It refuses a PostgreSQL
//! database that already holds another Parlor's data. At the end the sequencer and
//! the room ids go on from SQLite's (never reusing an id), and the search index is
//! PostgreSQL's own (the `search` column), so FTS5's tables are not copied.

use crate::progress::{self, Progress};
use crate::store::postgres::prepare_database;
use crate::store::sqlite::{schema_version, DB_FILE};
use anyhow::{bail, Context};
use postgres::types::ToSql;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What `parlor migrate` was asked for.
pub struct Request {
    pub data: PathBuf,
    pub to: String,
}

/// How a column is written to PostgreSQL.
#[derive(Clone, Copy)]
enum Col {
    Int,
    Text,
    Bool,
    Bytes,
}

use Col::{Bool, Bytes, Int, Text};

/// A table copied: its name, its columns, and whether its key is one integer `id`
/// (copied in id order and resumed after the highest id copied).
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Col)],
    by_id: bool,
}

/// Every table of the embedded store, in an order that respects references.
const TABLES: &[Table] = &[
    Table {
        name: "users",
        columns: &[
            ("key", Text),
            ("name", Text),
            ("password_hash", Text),
            ("created_at", Int),
            ("acked_event", Int),
            ("role", Text),
            ("banned_by", Text),
            ("banned_at", Int),
            ("display_name", Text),
            ("about", Text),
            ("avatar", Text),
        ],
        by_id: false,
    },
    Table {
        name: "rooms",
        columns: &[
            ("id", Int),
            ("name", Text),
            ("name_key", Text),
            ("creator", Text),
            ("created_at", Int),
            ("creator_guest", Bool),
            ("topic", Text),
            ("retention_days", Int),
            ("private", Bool),
            ("announce", Bool),
        ],
        by_id: true,
    },
    Table {
        name: "room_mutes",
        columns: &[("room", Int), ("user_key", Text)],
        by_id: false,
    },
    Table {
        name: "chat_members",
        columns: &[
            ("user_key", Text),
            ("chat", Text),
            ("joined_event", Int),
            ("delivered_upto", Int),
            ("read_upto", Int),
        ],
        by_id: false,
    },
    Table {
        name: "messages",
        columns: &[
            ("id", Int),
            ("chat", Text),
            ("sender", Text),
            ("sender_key", Text),
            ("client_message_id", Text),
            ("body", Text),
            ("attachments", Text),
            ("created_at", Int),
            ("updated_at", Int),
            ("deleted", Bool),
            ("reply_to", Int),
            ("mentions", Text),
            ("mentions_room", Bool),
        ],
        by_id: true,
    },
    Table {
        name: "receipts",
        columns: &[
            ("chat", Text),
            ("user_key", Text),
            ("kind", Text),
            ("upto", Int),
            ("at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "events",
        columns: &[
            ("id", Int),
            ("at", Int),
            ("chat", Text),
            ("data", Text),
            ("message_id", Int),
        ],
        by_id: true,
    },
    Table {
        name: "tokens",
        columns: &[
            ("hash", Text),
            ("user_key", Text),
            ("created_at", Int),
            ("used_at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "uploads",
        columns: &[
            ("name", Text),
            ("owner_key", Text),
            ("bytes", Int),
            ("created_at", Int),
            ("released", Bool),
            ("filename", Text),
        ],
        by_id: false,
    },
    Table {
        name: "upload_refs",
        columns: &[("name", Text), ("message_id", Int)],
        by_id: false,
    },
    Table {
        name: "reactions",
        columns: &[
            ("message_id", Int),
            ("emoji", Text),
            ("user_key", Text),
            ("user_name", Text),
            ("at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "pins",
        columns: &[
            ("chat", Text),
            ("message_id", Int),
            ("pinned_by", Text),
            ("at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "notify_levels",
        columns: &[("user_key", Text), ("chat", Text), ("level", Text)],
        by_id: false,
    },
    Table {
        name: "settings",
        columns: &[("name", Text), ("value", Text)],
        by_id: false,
    },
    Table {
        name: "invites",
        columns: &[
            ("id", Text),
            ("code_hash", Text),
            ("role", Text),
            ("uses_left", Int),
            ("expires_at", Int),
            ("created_by", Text),
            ("created_at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "blocks",
        columns: &[("user_key", Text), ("blocked_key", Text), ("at", Int)],
        by_id: false,
    },
    Table {
        name: "resets",
        columns: &[
            ("user_key", Text),
            ("code_hash", Text),
            ("expires_at", Int),
            ("created_by", Text),
            ("created_at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "push_subscriptions",
        columns: &[
            ("endpoint", Text),
            ("user_key", Text),
            ("p256dh", Bytes),
            ("auth", Bytes),
            ("previews", Bool),
            ("created_at", Int),
        ],
        by_id: false,
    },
    Table {
        name: "ntfy_topics",
        columns: &[("user_key", Text), ("topic", Text), ("previews", Bool)],
        by_id: false,
    },
];

/// Rows written per PostgreSQL transaction.
const BATCH: usize = 500;

/// One SQLite value as a PostgreSQL parameter of the column's type.
fn param(
    value: Value,
    col: Col,
    table: &str,
    column: &str,
) -> anyhow::Result<Box<dyn ToSql + Sync>> {
    Ok(match (col, value) {
        (Int, Value::Null) => Box::new(None::<i64>),
        (Int, Value::Integer(i)) => Box::new(i),
        (Text, Value::Null) => Box::new(None::<String>),
        (Text, Value::Text(t)) => Box::new(t),
        (Bool, Value::Integer(i)) => Box::new(i != 0),
        (Bytes, Value::Blob(b)) => Box::new(b),
        (_, other) => bail!("{table}.{column} holds {other:?}, which this column cannot"),
    })
}

/// Runs `parlor migrate`: prints progress on stderr and a one-line summary on stdout.
pub fn run(request: Request) -> anyhow::Result<()> {
    let started = Instant::now();
    let db_file = request.data.join(DB_FILE);
    if !db_file.exists() {
        bail!(
            "{} holds no Parlor database ({DB_FILE})",
            request.data.display()
        );
    }
    let source = Connection::open_with_flags(&db_file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", db_file.display()))?;
    let version: i64 = source.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != schema_version() {
        bail!(
            "the database is at schema {version}, this Parlor copies schema {}: start this version of `parlor serve` on it once first",
            schema_version()
        );
    }
    source.execute_batch("BEGIN")?;
    let mut target =
        prepare_database(&request.to).context("cannot prepare the PostgreSQL database")?;
    let identity = source_identity(&source, &request.data)?;
    claim(&mut target, &identity)?;
    let mut progress = Progress::stderr("migrate").counting("row");
    let mut rows = 0u64;
    for table in TABLES {
        rows += copy_table(&source, &mut target, table, &mut progress)?;
    }
    let (files, bytes) = copy_uploads(&source, &mut target, &request.data, &mut progress)?;
    finish(&source, &mut target)?;
    source.execute_batch("COMMIT")?;
    progress.finish();
    println!(
        "migrated {} and {} ({}) from {} to PostgreSQL in {:.1} s",
        progress::count(rows, "row"),
        progress::files(files),
        progress::size(bytes),
        request.data.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Which SQLite database this is: its path and first event, so that a run again
/// after an interruption is recognised and another Parlor's data refused.
fn source_identity(source: &Connection, data: &Path) -> anyhow::Result<String> {
    let first: Option<i64> = source.query_row("SELECT MIN(at) FROM events", [], |r| r.get(0))?;
    let path = std::fs::canonicalize(data).unwrap_or_else(|_| data.to_owned());
    Ok(format!("{}#{}", path.display(), first.unwrap_or(0)))
}

/// Makes sure the target is empty or a copy of this same source begun before.
fn claim(target: &mut postgres::Client, identity: &str) -> anyhow::Result<()> {
    let mut tx = target.transaction()?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS parlor_migration (
             source TEXT NOT NULL,
             table_name TEXT PRIMARY KEY,
             done BOOLEAN NOT NULL DEFAULT FALSE
         )",
    )?;
    let earlier: Option<String> = tx
        .query_opt("SELECT source FROM parlor_migration LIMIT 1", &[])?
        .map(|r| r.get(0));
    match earlier {
        Some(s) if s == identity => {}
        Some(s) => {
            bail!("this PostgreSQL database is being filled from another data directory ({s})")
        }
        None => {
            let busy: i64 = tx
                .query_one(
                    "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM events)",
                    &[],
                )?
                .get(0);
            if busy > 0 {
                bail!("this PostgreSQL database already holds a Parlor: migrate into a new, empty database");
            }
            // Nothing may start in it meanwhile: PgStore::open would make General.
            tx.execute("DELETE FROM rooms", &[])?;
            for t in TABLES {
                tx.execute(
                    "INSERT INTO parlor_migration (source, table_name) VALUES ($1, $2)",
                    &[&identity, &t.name],
                )?;
            }
            tx.execute(
                "INSERT INTO parlor_migration (source, table_name) VALUES ($1, 'upload files')",
                &[&identity],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

fn is_done(target: &mut postgres::Client, name: &str) -> anyhow::Result<bool> {
    Ok(target
        .query_one(
            "SELECT done FROM parlor_migration WHERE table_name = $1",
            &[&name],
        )?
        .get(0))
}

/// Copies one table (what is left of it); answers the rows written.
fn copy_table(
    source: &Connection,
    target: &mut postgres::Client,
    table: &Table,
    progress: &mut Progress<std::io::Stderr>,
) -> anyhow::Result<u64> {
    if is_done(target, table.name)? {
        return Ok(0);
    }
    let names: Vec<&str> = table.columns.iter().map(|(n, _)| *n).collect();
    let list = names.join(", ");
    let after: i64 = if table.by_id {
        target
            .query_one(
                &format!("SELECT COALESCE(MAX(id), 0) FROM {}", table.name),
                &[],
            )?
            .get(0)
    } else {
        0
    };
    let (select, count) = if table.by_id {
        (
            format!(
                "SELECT {list} FROM {} WHERE id > ?1 ORDER BY id",
                table.name
            ),
            format!("SELECT COUNT(*) FROM {} WHERE id > ?1", table.name),
        )
    } else {
        (
            format!("SELECT {list} FROM {} WHERE ?1 = ?1", table.name),
            format!("SELECT COUNT(*) FROM {} WHERE ?1 = ?1", table.name),
        )
    };
    let total: i64 = source.query_row(&count, [after], |r| r.get(0))?;
    progress.phase(table.name, Some(total.max(0) as u64), None);
    let mut stmt = source.prepare(&select)?;
    let mut rows = stmt.query([after])?;
    let mut batch: Vec<Vec<Box<dyn ToSql + Sync>>> = Vec::with_capacity(BATCH);
    let mut written = 0u64;
    while let Some(row) = rows.next()? {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, (column, col)) in table.columns.iter().enumerate() {
            values.push(param(row.get::<_, Value>(i)?, *col, table.name, column)?);
        }
        batch.push(values);
        if batch.len() == BATCH {
            written += write_batch(target, table, &list, &mut batch, false)?;
            progress.advance(BATCH as u64, 0);
        }
    }
    let last = batch.len() as u64;
    written += write_batch(target, table, &list, &mut batch, true)?;
    progress.advance(last, 0);
    Ok(written)
}

/// Inserts `batch` (a row already there is kept), and when `last`, marks the table
/// done, in one transaction.
fn write_batch(
    target: &mut postgres::Client,
    table: &Table,
    list: &str,
    batch: &mut Vec<Vec<Box<dyn ToSql + Sync>>>,
    last: bool,
) -> anyhow::Result<u64> {
    let mut tx = target.transaction()?;
    let mut written = 0;
    if !batch.is_empty() {
        let width = table.columns.len();
        let tuples: Vec<String> = (0..batch.len())
            .map(|r| {
                let cells: Vec<String> =
                    (1..=width).map(|c| format!("${}", r * width + c)).collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {} ({list}) VALUES {} ON CONFLICT DO NOTHING",
            table.name,
            tuples.join(", ")
        );
        let params: Vec<&(dyn ToSql + Sync)> = batch.iter().flatten().map(|b| b.as_ref()).collect();
        written = tx.execute(&sql, &params)?;
    }
    if last {
        tx.execute(
            "UPDATE parlor_migration SET done = TRUE WHERE table_name = $1",
            &[&table.name],
        )?;
    }
    tx.commit()?;
    batch.clear();
    Ok(written)
}

/// Copies the uploaded files the database lists (and avatars) into `upload_files`.
fn copy_uploads(
    source: &Connection,
    target: &mut postgres::Client,
    data: &Path,
    progress: &mut Progress<std::io::Stderr>,
) -> anyhow::Result<(u64, u64)> {
    if is_done(target, "upload files")? {
        return Ok((0, 0));
    }
    let mut stmt = source.prepare("SELECT name, bytes FROM uploads ORDER BY name")?;
    let uploads: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let total: i64 = uploads.iter().map(|(_, b)| *b).sum();
    progress.phase(
        "upload files",
        Some(uploads.len() as u64),
        Some(total.max(0) as u64),
    );
    let dir = data.join(crate::uploads::UPLOADS_DIR);
    let (mut files, mut bytes) = (0u64, 0u64);
    for (name, _) in &uploads {
        if !crate::domain::is_upload_name(name) {
            bail!("the uploads table names {name:?}, which is not an upload's name");
        }
        let content = match std::fs::read(dir.join(name)) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // A file the sweeper removed before its row went: nothing to serve.
                tracing::warn!(file = %name, "an upload listed in the database has no file; skipped");
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read upload {name}")),
        };
        target.execute(
            "INSERT INTO upload_files (name, content) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[name, &content],
        )?;
        files += 1;
        bytes += content.len() as u64;
        progress.advance(1, content.len() as u64);
    }
    target.execute(
        "UPDATE parlor_migration SET done = TRUE WHERE table_name = 'upload files'",
        &[],
    )?;
    Ok((files, bytes))
}

/// Ids go on from SQLite's: the sequencer from the highest event id ever given
/// (`sqlite_sequence`: a cleared room's events are gone but their ids stay used) and
/// message id, the rooms' sequence from the highest room id.
fn finish(source: &Connection, target: &mut postgres::Client) -> anyhow::Result<()> {
    let last_event: i64 = source.query_row(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
                    COALESCE((SELECT MAX(id) FROM events), 0))",
        [],
        |r| r.get(0),
    )?;
    let last_message: i64 =
        source.query_row("SELECT COALESCE(MAX(id), 0) FROM messages", [], |r| {
            r.get(0)
        })?;
    let mut tx = target.transaction()?;
    tx.execute(
        "UPDATE sequencer SET last_event = GREATEST(last_event, $1), last_message = GREATEST(last_message, $2)",
        &[&last_event, &last_message],
    )?;
    tx.batch_execute(
        "SELECT setval(pg_get_serial_sequence('rooms', 'id'), GREATEST((SELECT COALESCE(MAX(id), 0) FROM rooms), 1))",
    )?;
    tx.commit()?;
    Ok(())
}
