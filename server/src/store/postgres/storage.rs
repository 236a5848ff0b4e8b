//! The owner's view of storage (`getStorage`) on PostgreSQL: the size of the database
//! (`pg_database_size`, everything PostgreSQL keeps for it: tables, indexes, TOAST,
//! the uploaded files in `upload_files`), and from the database where the bytes go
//! (messages per room, upload bytes per person). There are no files of Parlor's to
//! measure: the uploads live in the database, and migrations take no copies (so
//! `backups` is 0); the disk is the PostgreSQL server's, which a node cannot see, so
//! `free` and `total` are absent. Read on a reader connection: a full count of the
//! messages takes a moment on a large database but never holds the writer.

use super::db::{unsigned, Db};
use crate::store::StoreError;
use app::protocol::{PersonUsage, RoomUsage, StorageReport};

/// People listed by upload bytes.
const TOP_PEOPLE: i64 = 20;

pub fn report(db: &mut Db) -> Result<StorageReport, StoreError> {
    let row = db.one("SELECT pg_database_size(current_database())", &[])?;
    let mut report = StorageReport {
        database: unsigned(&row, 0)?,
        ..StorageReport::default()
    };
    let row = db.one(
        "SELECT COALESCE(SUM(bytes), 0)::BIGINT, COUNT(*) FROM uploads",
        &[],
    )?;
    (report.uploads, report.upload_files) = (unsigned(&row, 0)?, unsigned(&row, 1)?);
    let rows = db.query(
        "SELECT r.name, COUNT(m.id) FROM rooms r
         LEFT JOIN messages m ON m.chat = 'r:' || r.id AND NOT m.deleted
         GROUP BY r.id ORDER BY COUNT(m.id) DESC, r.name_key",
        &[],
    )?;
    for row in rows {
        let name: String = row.try_get(0)?;
        let messages = unsigned(&row, 1)?;
        report.messages += messages;
        report.rooms.push(RoomUsage {
            chat_id: format!("#{name}"),
            messages,
        });
    }
    let row = db.one(
        "SELECT COUNT(*) FROM messages WHERE chat LIKE 'd:%' AND NOT deleted",
        &[],
    )?;
    report.direct_messages = unsigned(&row, 0)?;
    let rows = db.query(
        "SELECT COALESCE(u.name, p.owner_key), p.total FROM
            (SELECT owner_key, SUM(bytes)::BIGINT AS total FROM uploads GROUP BY owner_key
             ORDER BY total DESC LIMIT $1) p
         LEFT JOIN users u ON u.key = p.owner_key
         ORDER BY p.total DESC",
        &[&TOP_PEOPLE],
    )?;
    for row in rows {
        report.people.push(PersonUsage {
            user_id: row.try_get(0)?,
            uploads: unsigned(&row, 1)?,
        });
    }
    Ok(report)
}
