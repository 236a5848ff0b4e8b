//! Owner-only files. Everything Parlor keeps under `--data` (the database and its WAL,
//! uploads, secrets and keys) is for the account that runs it: directories are made
//! `0700` and files `0600` whatever the umask of whoever starts Parlor, and a directory
//! or file found readable by others at start (made by an older Parlor, or by hand) is
//! tightened, with a log line saying so (or an error in the log when it cannot be: a
//! directory of another user given as `--data`).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// The mode of Parlor's directories.
pub const DIR_MODE: u32 = 0o700;
/// The mode of Parlor's files.
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` (and missing parents) as an owner-only directory, or tightens it if
/// it exists and others may use it.
pub fn dir(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(path)?;
        tighten(path, DIR_MODE)
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(path)
}

/// Tightens an existing file to owner-only; a missing file is not an error.
pub fn file(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => tighten(path, FILE_MODE),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Tightens every regular file directly inside `dir` (which may be missing).
pub fn files_in(dir: &Path) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        file(&entry?.path())?;
    }
    Ok(())
}

/// Options that create a file owner-only (the mode applies when the file is created).
pub fn options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options
}

/// Creates (or truncates) `path` as an owner-only file for writing.
pub fn create(path: &Path) -> io::Result<File> {
    let file = options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    tighten(path, FILE_MODE)?;
    Ok(file)
}

/// Sets `mode` on `path` when others have any access to it, and says so.
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if current & 0o077 != 0 {
            match std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)) {
                Ok(()) => tracing::warn!(
                    path = %path.display(),
                    was = format!("{current:o}"),
                    now = format!("{mode:o}"),
                    "made owner-only"
                ),
                // Not ours to change (a directory of another user given as --data):
                // serving goes on, and the operator is told.
                Err(e) if e.kind() == io::ErrorKind::PermissionDenied => tracing::error!(
                    path = %path.display(),
                    mode = format!("{current:o}"),
                    error = %e,
                    "readable by others, and cannot be made owner-only"
                ),
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn open_directories_and_files_are_tightened() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let d = tmp.path().join("a/b");
        dir(&d).expect("dir");
        assert_eq!(mode(&d), 0o700);
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let f = d.join("f");
        std::fs::write(&f, b"x").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        dir(&d).expect("dir");
        files_in(&d).expect("files");
        assert_eq!((mode(&d), mode(&f)), (0o700, 0o600));
        let g = d.join("g");
        drop(create(&g).expect("create"));
        assert_eq!(mode(&g), 0o600);
        file(&d.join("missing")).expect("a missing file is fine");
    }
}
