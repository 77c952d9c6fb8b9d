//! The SQLite file: opening it and its connections, its lock (one receiver per file, by the
//! file's identity), its write-ahead log, and the errors that name it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::store::contract::{StoreError, StoreFuture};

pub(super) fn fail(path: &Path, what: &str, error: &dyn std::fmt::Display) -> StoreError {
    StoreError(format!("{}: {what}: {error}", path.display()))
}

/// Opens a connection to `path` that waits `busy` for the others' locks.
pub(super) fn connect(path: &Path, flags: OpenFlags, busy: Duration) -> Result<Connection, StoreError> {
    let connection = Connection::open_with_flags(path, flags).map_err(|e| fail(path, "cannot open", &e))?;
    connection
        .busy_timeout(busy)
        .map_err(|e| fail(path, "busy_timeout", &e))?;
    Ok(connection)
}

/// Opens the database file itself (creating it, as SQLite would) and locks it: one receiver per
/// file, by its identity rather than its name. A second receiver is so refused through a hard link
/// or a symbolic link as through the same path: SQLite keeps a write-ahead log per name, and two
/// names written at once corrupt the file. Nothing is created when the file cannot be opened.
///
/// The lock is `flock(2)`, which on a local file system does not conflict with SQLite's own locks
/// (POSIX record locks): an operator's `sqlite3` and the administration commands work beside the
/// receiver. It ends with the process. The descriptor must stay open until every connection to
/// the file is closed: closing a descriptor of a file drops the POSIX locks the process holds on
/// it, SQLite's included.
pub(super) fn lock(path: &Path) -> Result<Arc<File>, StoreError> {
    let mut options = File::options();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o644); // as SQLite creates it
    let file = options.open(path).map_err(|e| fail(path, "cannot open", &e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(fail(
                path,
                "in use",
                &"another receiver serves this file, by this name or another (a hard or symbolic link); \
                  one process per SQLite file (use PostgreSQL for more)",
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(fail(path, "cannot lock", &e)),
    }
    let names = links(&file);
    if names > 1 {
        tracing::warn!(
            store = %path.display(),
            names,
            "the database file has other names (hard links): SQLite keeps a write-ahead log per name; \
             use this one only (administration commands through another are refused while this receiver runs)"
        );
    }
    Ok(Arc::new(file))
}

/// How many names (hard links) the file has.
fn links(file: &File) -> u64 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        file.metadata().map_or(1, |metadata| metadata.nlink())
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        1
    }
}

/// Refuses, for an administration command, a file that a receiver serves (it holds [`lock`]) and
/// that has other names (hard links): the command may be going through a name the receiver does
/// not use, with a write-ahead log of its own, and would read stale rows and corrupt the file by
/// writing. Called before any connection to the file is opened (see [`lock`] on closing
/// descriptors).
pub(super) fn refuse_other_names_beside_a_receiver(path: &Path) -> Result<(), StoreError> {
    let Ok(file) = File::open(path) else {
        return Ok(()); // opening the database says why
    };
    let names = links(&file);
    if names > 1 && matches!(file.try_lock_shared(), Err(std::fs::TryLockError::WouldBlock)) {
        return Err(fail(
            path,
            "served under other names",
            &format!(
                "a receiver serves this file, and the file has {names} names (hard links): SQLite \
                 keeps a write-ahead log per name; remove the other names, or stop the receiver first"
            ),
        ));
    }
    Ok(())
}

pub(super) fn spawn(name: &str, run: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(run)
        .map_err(|e| StoreError(format!("cannot start the {name} thread: {e}")))
}

/// The WAL file of the database at `path`, to sync, after its directory entry is synced.
pub(super) fn wal_file(path: &Path) -> std::io::Result<File> {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    let wal = File::open(PathBuf::from(name))?;
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    File::open(directory)?.sync_all()?;
    wal.sync_data()?;
    Ok(wal)
}

pub(super) fn closed() -> StoreError {
    StoreError("the store is closed".to_owned())
}

pub(super) fn sql_error(error: rusqlite::Error) -> StoreError {
    StoreError(error.to_string())
}

/// Runs `read` on the reader connection, away from the runtime's threads.
pub(super) fn blocking<T: Send + 'static>(
    connection: &Arc<Mutex<Connection>>,
    read: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
) -> StoreFuture<'static, T> {
    let connection = Arc::clone(connection);
    Box::pin(async move {
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            read(&mut connection).map_err(sql_error)
        })
        .await
        .map_err(|error| StoreError(format!("a read failed: {error}")))?
    })
}
