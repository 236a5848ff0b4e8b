//! The uploaded files of the embedded store: one file each under `--data/uploads`,
//! written to a temporary name, synced and renamed into place, so that a crash leaves
//! either the whole file or none under its name.

use crate::store::StoreError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A file operation that failed, as the data directory's error it is.
fn io(dir: &Path, name: &str, source: std::io::Error) -> StoreError {
    StoreError::DataDir {
        path: dir.join(name),
        source,
    }
}

pub async fn put(dir: PathBuf, name: String, bytes: bytes::Bytes) -> Result<(), StoreError> {
    tokio::task::spawn_blocking(move || {
        crate::private::dir(&dir).map_err(|e| io(&dir, &name, e))?;
        let tmp = dir.join(format!(".{name}.part"));
        let mut file = crate::private::create(&tmp).map_err(|e| io(&dir, &name, e))?;
        file.write_all(&bytes).map_err(|e| io(&dir, &name, e))?;
        file.sync_all().map_err(|e| io(&dir, &name, e))?;
        std::fs::rename(&tmp, dir.join(&name)).map_err(|e| io(&dir, &name, e))
    })
    .await
    .map_err(|_| StoreError::Closed)?
}

pub async fn read(dir: &Path, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
    match tokio::fs::read(dir.join(name)).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(dir, name, e)),
    }
}

pub async fn remove(dir: &Path, name: &str) -> Result<(), StoreError> {
    match tokio::fs::remove_file(dir.join(name)).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(dir, name, e)),
    }
}
