//! The owner's view of storage (`getStorage`): file sizes in the data directory (the
//! database and its write-ahead log, the automatic pre-migration copies), the free
//! space of its disk, and from the database where the bytes go (messages per room,
//! upload bytes per person). Read on a reader connection: a full count of the messages
//! takes a moment on a large database but never holds the writer.

use super::db::Db;

use crate::store::StoreError;
use app::protocol::{PersonUsage, RoomUsage, StorageReport};
use std::path::Path;

// PORT: report
pub fn report(db: &mut Db) -> Result<StorageReport, StoreError> {
    Err(super::not_ported("report"))
}
