//! Storage wiring: where schedules live, where the signing secret comes from, and the data
//! directory layout.
//!
//! ```text
//! DIR/users.json        users (the crate's FileUserStore)
//! DIR/revoked.json      revoked refresh tokens (the crate's FileRevocationStore)
//! DIR/schedules.json    schedules, one per user id (this file's ScheduleStore)
//! DIR/jwt_secret        the HS256 signing secret, generated once, mode 0600
//! ```
//!
//! Every file is replaced atomically (temp file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves the old or the new version, never a torn one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use tower_jwt_auth::store::write_file_atomic;

use crate::domain::Schedule;

/// The users file under a data directory.
pub(crate) fn users_path(dir: &Path) -> PathBuf {
    dir.join("users.json")
}

/// The revocation file under a data directory.
pub(crate) fn revocations_path(dir: &Path) -> PathBuf {
    dir.join("revoked.json")
}

/// The schedules file under a data directory.
pub(crate) fn schedules_path(dir: &Path) -> PathBuf {
    dir.join("schedules.json")
}

/// The signing secret file under a data directory.
pub(crate) fn secret_path(dir: &Path) -> PathBuf {
    dir.join("jwt_secret")
}

/// A storage failure, worded for an operator (never contains a secret).
#[derive(Debug)]
pub(crate) struct StorageError(pub String);

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StorageError {}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> StorageError {
    StorageError(format!("{what} {}: {e}", path.display()))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Schedules
// ------------------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct SchedulesFile {
    version: u32,
    schedules: BTreeMap<String, Schedule>,
}

const SCHEDULES_VERSION: u32 = 1;

/// One schedule per user id, in memory, optionally persisted to a JSON file.
///
/// Writes are serialised by one lock; a change is applied in memory only after it reached the
/// disk, so a failed write leaves both unchanged.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScheduleStore {
    inner: Arc<Mutex<BTreeMap<String, Schedule>>>,
    path: Option<Arc<Path>>,
}

impl ScheduleStore {
    /// An in-memory store.
    pub(crate) fn memory() -> Self {
        Self::default()
    }

    /// A store persisted to `path`, loading it if it exists.
    ///
    /// # Errors
    /// The file exists but cannot be read or parsed (the server then refuses to start rather
    /// than start empty and overwrite it).
    pub(crate) fn open(path: &Path) -> Result<Self, StorageError> {
        let map = match std::fs::read(path) {
            Ok(bytes) => {
                let file: SchedulesFile = serde_json::from_slice(&bytes)
                    .map_err(|e| StorageError(format!("{} is corrupt: {e}", path.display())))?;
                if file.version != SCHEDULES_VERSION {
                    return Err(StorageError(format!(
                        "{} has unsupported version {}",
                        path.display(),
                        file.version
                    )));
                }
                file.schedules
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(io_err("cannot read", path, e)),
        };
        Ok(Self {
            inner: Arc::new(Mutex::new(map)),
            path: Some(path.into()),
        })
    }

    /// The schedule of `user`, if one was stored.
    pub(crate) async fn get(&self, user: &str) -> Option<Schedule> {
        self.inner.lock().await.get(user).cloned()
    }

    /// Replaces the schedule of `user`.
    ///
    /// # Errors
    /// The file could not be written.
    pub(crate) async fn put(&self, user: &str, schedule: Schedule) -> Result<(), StorageError> {
        self.update(|m| {
            m.insert(user.to_owned(), schedule);
        })
        .await
    }

    /// Removes the schedule of `user` (a no-op if there is none).
    ///
    /// # Errors
    /// The file could not be written.
    pub(crate) async fn delete(&self, user: &str) -> Result<(), StorageError> {
        self.update(|m| {
            m.remove(user);
        })
        .await
    }

    async fn update(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Schedule>),
    ) -> Result<(), StorageError> {
        let mut guard = self.inner.lock().await;
        let mut next = guard.clone();
        f(&mut next);
        if let Some(path) = &self.path {
            let file = SchedulesFile {
                version: SCHEDULES_VERSION,
                schedules: next,
            };
            let bytes = serde_json::to_vec_pretty(&file)
                .map_err(|e| StorageError(format!("cannot serialise schedules: {e}")))?;
            let path = Arc::clone(path);
            // The crate's helper: temp file in the same directory, fsync, rename, fsync the
            // directory, mode 0600.
            tokio::task::spawn_blocking(move || {
                write_file_atomic(&*path, &bytes).map_err(|e| io_err("cannot write", &path, e))
            })
            .await
            .map_err(|e| StorageError(format!("schedule writer failed: {e}")))??;
            next = file.schedules;
        }
        *guard = next;
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// The signing secret
// ------------------------------------------------------------------------------------------------

/// Where the signing secret came from (for the startup message; never the secret itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SecretSource {
    /// The `JWT_SECRET` environment variable.
    Env,
    /// Read from `DIR/jwt_secret`.
    File,
    /// Generated now into `DIR/jwt_secret`.
    Created,
    /// Generated now, in memory only: tokens die with the process.
    Ephemeral,
}

/// A wrapper that never prints its contents.
#[derive(Clone)]
pub(crate) struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// 64 random bytes as 128 hex digits: a printable secret, like Django's `SECRET_KEY`.
///
/// # Errors
/// The operating system's random source failed.
pub(crate) fn random_secret() -> Result<Secret, StorageError> {
    Ok(Secret(random_hex(64)?.into_bytes()))
}

/// `n` random bytes, hex-encoded.
///
/// # Errors
/// The operating system's random source failed.
pub(crate) fn random_hex(n: usize) -> Result<String, StorageError> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(|e| StorageError(format!("no randomness: {e}")))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The signing secret: `JWT_SECRET` if set (it always wins), else `DIR/jwt_secret` (created
/// with mode 0600 on first start), else a fresh in-memory secret.
///
/// # Errors
/// `JWT_SECRET` is set but empty; the secret file cannot be read, created, or is empty.
pub(crate) fn signing_secret(
    env: Option<std::ffi::OsString>,
    dir: Option<&Path>,
) -> Result<(Secret, SecretSource), StorageError> {
    if let Some(v) = env {
        if v.is_empty() {
            return Err(StorageError("JWT_SECRET is set but empty".into()));
        }
        return Ok((Secret(os_bytes(v)), SecretSource::Env));
    }
    let Some(dir) = dir else {
        return Ok((random_secret()?, SecretSource::Ephemeral));
    };
    let path = secret_path(dir);
    match std::fs::read(&path) {
        Ok(mut bytes) => {
            while bytes.last().is_some_and(u8::is_ascii_whitespace) {
                bytes.pop();
            }
            if bytes.is_empty() {
                return Err(StorageError(format!("{} is empty", path.display())));
            }
            Ok((Secret(bytes), SecretSource::File))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret = random_secret()?;
            let mut contents = secret.0.clone();
            contents.push(b'\n');
            create_new_atomic(&path, &contents)?;
            // Another process may have won the race: use whatever is on disk now.
            match signing_secret(None, Some(dir))? {
                (s, SecretSource::File) if s.0 == secret.0 => Ok((s, SecretSource::Created)),
                other => Ok(other),
            }
        }
        Err(e) => Err(io_err("cannot read", &path, e)),
    }
}

/// Creates `path` with `bytes` (mode 0600) unless it already exists.
fn create_new_atomic(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| io_err("cannot create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io_err("cannot write", tmp.path(), e))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => sync_dir(dir).map_err(|e| io_err("cannot sync", dir, e)),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_err("cannot create", path, e.error)),
    }
}

#[cfg(unix)]
fn os_bytes(v: std::ffi::OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStringExt;
    v.into_vec()
}

#[cfg(not(unix))]
fn os_bytes(v: std::ffi::OsString) -> Vec<u8> {
    v.to_string_lossy().into_owned().into_bytes()
}
