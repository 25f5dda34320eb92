//! File-backed stores: [`FileUserStore`] (a JSON file replaced atomically) and
//! [`FileRevocationStore`] (an append-only log), plus [`write_file_atomic`].

use std::fmt;
use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use fs4::fs_std::FileExt;

use super::revocation::{Change, RevState, check_jti};
use super::users::{UserFile, Users};
use super::{RevocationStore, Rotation, StoreError, User, UserStore};
use crate::password::PasswordHasher;
use crate::verify::Clock;
use crate::verify::UserId;

/// The largest user file read (64 MiB); a larger one is refused as corrupt.
const MAX_USER_FILE_SIZE: u64 = 64 * 1024 * 1024;
/// The largest revocation log read (1 GiB); a larger one is refused as corrupt.
const MAX_REVOCATION_LOG_SIZE: u64 = 1024 * 1024 * 1024;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> io::Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))
}

fn temp_prefix(name: &str) -> String {
    format!(".{name}.")
}

const TEMP_SUFFIX: &str = ".tmp";

/// Replaces the file at `path` with `bytes` atomically: readers (and a crash at any point) see
/// either the old contents or the new, never a mix or a truncated file.
///
/// Writes a temporary file in the same directory (`.<name>.XXXXXX.tmp`, mode 0600), `fsync`s
/// it, renames it over `path`, then `fsync`s the directory so the rename survives a power loss.
/// A new file gets mode 0600; an existing file is replaced by one with mode 0600. A temporary
/// file left by a crash is never read; the stores remove them at open.
///
/// This does not serialise writers: two concurrent calls leave one of the two versions whole.
/// Read-modify-write cycles need a lock (the [`FileUserStore`] holds one).
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("schedules.json");
/// tower_jwt_auth::store::write_file_atomic(&path, b"{\"v\":1}")?;
/// tower_jwt_auth::store::write_file_atomic(&path, b"{\"v\":2}")?;
/// assert_eq!(std::fs::read(&path)?, b"{\"v\":2}");
/// # Ok(()) }
/// ```
///
/// # Errors
/// Any I/O error; `path` is then unchanged (a leftover temporary file is removed when possible).
pub fn write_file_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> io::Result<()> {
    let path = path.as_ref();
    let dir = parent_dir(path);
    let name = file_name(path)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(&name))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)?;
    set_private(tmp.as_file())?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

#[cfg(unix)]
fn set_private(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn set_private(_file: &File) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

fn open_private(path: &Path, append: bool) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    if append {
        opts.append(true);
    } else {
        opts.read(true).write(true);
    }
    opts.create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

fn lock_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// Removes `.<name>.*.tmp` files left in `path`'s directory by a crash. Call only under the
/// store's lock (every writer holds it while its temporary file exists).
fn remove_stale_temps(path: &Path) {
    let (Ok(name), dir) = (file_name(path), parent_dir(path)) else {
        return;
    };
    let prefix = temp_prefix(&name);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let n = entry.file_name();
        let n = n.to_string_lossy();
        if n.starts_with(&prefix) && n.ends_with(TEMP_SUFFIX) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// What identifies one version of a file: replaced files get a new inode.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Ident {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: Option<std::time::SystemTime>,
}

impl Ident {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let (dev, ino) = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        #[cfg(not(unix))]
        let (dev, ino) = (0, 0);
        Self {
            dev,
            ino,
            len: meta.len(),
            mtime: meta.modified().ok(),
        }
    }
}

/// Opens and reads a store file with the checks every load does: a regular file, not
/// world-writable, at most `max` bytes.
fn read_checked(path: &Path, max: u64) -> Result<(Vec<u8>, Ident), StoreError> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(StoreError::Corrupt(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o002 != 0 {
            return Err(StoreError::Other(format!(
                "{} is world-writable; refusing to load it (chmod 600 it)",
                path.display()
            )));
        }
    }
    if meta.len() > max {
        return Err(StoreError::Corrupt(format!(
            "{} is larger than {max} bytes",
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(StoreError::Corrupt(format!(
            "{} is larger than {max} bytes",
            path.display()
        )));
    }
    Ok((bytes, Ident::of(&meta)))
}

/// A JSON error without the offending value (which could be a password hash).
fn json_error(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end of file",
    };
    format!("{kind} at line {} column {}", e.line(), e.column())
}

fn load_users(path: &Path) -> Result<(Users, Ident), StoreError> {
    let (bytes, ident) = read_checked(path, MAX_USER_FILE_SIZE)?;
    Ok((parse_users(&bytes, path)?, ident))
}

/// A user file's bytes as a validated table (`path` only names the file in errors).
pub(crate) fn parse_users(bytes: &[u8], path: &Path) -> Result<Users, StoreError> {
    let file: UserFile = serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt(format!("{}: {}", path.display(), json_error(&e))))?;
    Users::from_file(file)
}

fn blocking<T, F>(f: F) -> impl Future<Output = Result<T, StoreError>> + Send
where
    F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    T: Send + 'static,
{
    let handle = tokio::runtime::Handle::try_current();
    async move {
        let handle = handle.map_err(|_| StoreError::Other("no tokio runtime".into()))?;
        handle
            .spawn_blocking(f)
            .await
            .map_err(|_| StoreError::Other("store task failed".into()))?
    }
}

/// Users in a JSON file, `{"version":1,"next_id":N,"users":[…]}`, safe for several processes.
///
/// * **Atomic**: every change rewrites the whole file with [`write_file_atomic`], so a crash
///   leaves the old or the new version, never a torn one.
/// * **No lost updates**: a change takes an in-process mutex and an advisory lock on the
///   sidecar `<file>.lock` (other processes), re-reads the file under the lock, applies the
///   change and writes. If writing fails, the change is not applied in memory either.
/// * **Fail closed**: [`open`](Self::open) refuses a corrupt file, an unknown version,
///   duplicate ids or usernames, an unsupported hash, a file over 64 MiB or a world-writable
///   file, rather than starting empty. A missing file is created empty (mode 0600).
/// * **Fresh reads**: each lookup `stat`s the file and reloads it when another process replaced
///   it (lookups do this small blocking I/O on the calling thread; hashing runs on the blocking
///   pool).
///
/// The management API is [`MemoryUserStore`](super::MemoryUserStore)'s.
///
/// ```
/// use tower_jwt_auth::store::{FileUserStore, UserStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("users.json");
/// let users = FileUserStore::open(&path)?;
/// let bob = users.add_user("bob", "hunter2-but-longer", true).await?;
///
/// // Another process (or a restart) sees bob.
/// let again = FileUserStore::open(&path)?;
/// let found = again.authenticate("bob", "hunter2-but-longer").await?;
/// assert_eq!(found.map(|u| u.id), Some(bob.id));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileUserStore {
    inner: Arc<FileUsers>,
    hasher: PasswordHasher,
    upgrade: bool,
}

struct FileUsers {
    path: PathBuf,
    lock_path: PathBuf,
    current: Mutex<Snapshot>,
    writer: Mutex<()>,
}

struct Snapshot {
    users: Arc<Users>,
    ident: Option<Ident>,
}

impl fmt::Debug for FileUserStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileUserStore")
            .field("path", &self.inner.path)
            .field("hasher", &self.hasher)
            .field("upgrade_on_login", &self.upgrade)
            .finish_non_exhaustive()
    }
}

impl FileUserStore {
    /// Opens (or creates, empty, with mode 0600) the user file at `path`, with the default
    /// [`PasswordHasher`].
    ///
    /// # Errors
    /// I/O errors; [`StoreError::Corrupt`] for a file that does not parse or validate;
    /// [`StoreError::Other`] for a world-writable file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_hasher(path, PasswordHasher::new())
    }

    /// [`open`](Self::open) with your own hasher.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with_hasher(
        path: impl AsRef<Path>,
        hasher: PasswordHasher,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock_path = lock_path(&path);
        let lock_file = open_private(&lock_path, false)?;
        FileExt::lock_exclusive(&lock_file)?;
        let loaded = match load_users(&path) {
            Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                let empty = Users::new();
                write_file_atomic(&path, &to_json(&empty)?)?;
                load_users(&path)?
            }
            other => other?,
        };
        remove_stale_temps(&path);
        drop(lock_file);
        let (users, ident) = loaded;
        Ok(Self {
            inner: Arc::new(FileUsers {
                path,
                lock_path,
                current: Mutex::new(Snapshot {
                    users: Arc::new(users),
                    ident: Some(ident),
                }),
                writer: Mutex::new(()),
            }),
            hasher,
            upgrade: true,
        })
    }

    /// Whether a successful login re-hashes a password whose hash
    /// [needs an upgrade](PasswordHasher::needs_upgrade). On by default, as in Django.
    #[must_use]
    pub fn upgrade_on_login(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// The store's password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// The user file's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Adds a user with the next id, hashing `password` with argon2id.
    ///
    /// # Errors
    /// As [`MemoryUserStore::add_user`](super::MemoryUserStore::add_user), plus I/O errors
    /// (then nothing is added).
    pub async fn add_user(
        &self,
        username: &str,
        password: &str,
        is_active: bool,
    ) -> Result<User, StoreError> {
        super::users::check_username(username)?;
        if self.inner.current()?.get_by_username(username).is_some() {
            return Err(StoreError::Conflict(format!(
                "username {username:?} already exists"
            )));
        }
        let hash = self.hasher.hash(password).await?;
        let username = username.to_owned();
        self.mutate(move |u| u.add(&username, hash, is_active))
            .await
    }

    /// Sets a user's password (hashed with argon2id). `Ok(false)` if there is no such user.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a password over 4 KiB; I/O errors.
    pub async fn set_password(&self, id: &UserId, password: &str) -> Result<bool, StoreError> {
        let hash = self.hasher.hash(password).await?;
        let id = id.clone();
        self.mutate(move |u| Ok(u.get_mut(&id).map(|u| u.password_hash = hash).is_some()))
            .await
    }

    /// Activates or deactivates a user. `Ok(false)` if there is no such user.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn set_active(&self, id: &UserId, is_active: bool) -> Result<bool, StoreError> {
        let id = id.clone();
        self.mutate(move |u| Ok(u.get_mut(&id).map(|u| u.is_active = is_active).is_some()))
            .await
    }

    /// Replaces the extra claims put in every token issued to the user. `Ok(false)` if there is
    /// no such user.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn set_extra_claims(
        &self,
        id: &UserId,
        claims: serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.mutate(move |u| Ok(u.get_mut(&id).map(|u| u.extra_claims = claims).is_some()))
            .await
    }

    /// Removes a user. `Ok(false)` if there was no such user. Its id is never reused.
    ///
    /// # Errors
    /// I/O errors.
    pub async fn remove(&self, id: &UserId) -> Result<bool, StoreError> {
        let id = id.clone();
        self.mutate(move |u| Ok(u.remove(&id))).await
    }

    /// All users, by id.
    ///
    /// # Errors
    /// I/O errors, or a file another process left corrupt.
    pub async fn list(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.inner.current()?.list())
    }

    /// Looks a user up by username (case-sensitive, as Django).
    ///
    /// # Errors
    /// As [`list`](Self::list).
    pub async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.inner.current()?.get_by_username(username).cloned())
    }

    /// Imports `manage.py dumpdata auth.user` JSON; see
    /// [`MemoryUserStore::import_django`](super::MemoryUserStore::import_django). All or nothing.
    ///
    /// # Errors
    /// As [`MemoryUserStore::import_django`](super::MemoryUserStore::import_django), plus I/O
    /// errors.
    pub async fn import_django(&self, json: &str) -> Result<Vec<User>, StoreError> {
        let json = json.to_owned();
        let hasher = self.hasher.clone();
        self.mutate(move |u| u.import_django(&json, &hasher)).await
    }

    async fn mutate<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Users) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        blocking(move || inner.mutate(f)).await
    }
}

pub(crate) fn to_json(users: &Users) -> Result<Vec<u8>, StoreError> {
    let mut bytes = serde_json::to_vec_pretty(&users.to_file())
        .map_err(|e| StoreError::Other(format!("serialising users: {}", json_error(&e))))?;
    bytes.push(b'\n');
    Ok(bytes)
}

impl FileUsers {
    /// The users as on disk now: reloads when the file was replaced since the last look.
    fn current(&self) -> Result<Arc<Users>, StoreError> {
        let ident = std::fs::metadata(&self.path).map(|m| Ident::of(&m))?;
        let mut snap = lock(&self.current);
        if snap.ident == Some(ident) {
            return Ok(Arc::clone(&snap.users));
        }
        let (users, ident) = load_users(&self.path)?;
        let users = Arc::new(users);
        *snap = Snapshot {
            users: Arc::clone(&users),
            ident: Some(ident),
        };
        Ok(users)
    }

    /// One read-modify-write under the in-process mutex and the cross-process file lock.
    fn mutate<T>(
        &self,
        f: impl FnOnce(&mut Users) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _writer = lock(&self.writer);
        let lock_file = open_private(&self.lock_path, false)?;
        FileExt::lock_exclusive(&lock_file)?;
        // Re-read under the lock: another process may have written since our last look.
        let (disk, ident) = load_users(&self.path)?;
        let mut next = disk.clone();
        let result = f(&mut next);
        *lock(&self.current) = Snapshot {
            users: Arc::new(disk),
            ident: Some(ident),
        };
        let out = result?;
        write_file_atomic(&self.path, &to_json(&next)?)?;
        let ident = std::fs::metadata(&self.path).ok().map(|m| Ident::of(&m));
        *lock(&self.current) = Snapshot {
            users: Arc::new(next),
            ident,
        };
        drop(lock_file);
        Ok(out)
    }
}

impl UserStore for FileUserStore {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let user = self.inner.current()?.get_by_username(username).cloned();
        let ok = self
            .hasher
            .verify_or_dummy(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let Some(mut user) = user.filter(|_| ok) else {
            return Ok(None);
        };
        if self.upgrade && self.hasher.needs_upgrade(&user.password_hash) {
            let upgraded = match self.hasher.hash(password).await {
                Ok(new_hash) => {
                    let (id, old) = (user.id.clone(), user.password_hash.clone());
                    let stored = new_hash.clone();
                    self.mutate(move |u| Ok(u.upgrade_hash(&id, &old, stored)))
                        .await
                        .map(|done| done.then_some(new_hash))
                }
                Err(e) => Err(e.into()),
            };
            match upgraded {
                Ok(Some(new_hash)) => user.password_hash = new_hash,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed");
                }
            }
        }
        Ok(Some(user))
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.inner.current()?.get(id).cloned())
    }
}

/// Revoked tokens in an append-only log that survives a restart, for one process.
///
/// Each change (a revocation, a rotation, a family revoked on reuse) is one JSON line appended
/// and `fsync`ed before the call returns, so a revocation costs one small write whatever the
/// number of revoked tokens. [`open`](Self::open) replays the log, forgets expired entries and
/// rewrites it compacted (atomically); the log is compacted again whenever it grows past twice
/// the live entries. A line torn by a crash at the end of the log is ignored; a bad line
/// anywhere else makes `open` fail (fail closed). Lookups never touch the disk.
///
/// The store holds an advisory lock on `<file>.lock` while open: a second store on the same
/// file (in this process or another) fails to open.
///
/// ```
/// use tower_jwt_auth::store::{FileRevocationStore, RevocationStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("revoked.jsonl");
/// let store = FileRevocationStore::open(&path)?;
/// assert!(store.revoke_if_absent("0dbd3733a1a44c6c", 4_102_444_800).await?);
/// drop(store);
///
/// let store = FileRevocationStore::open(&path)?; // after a restart
/// assert!(store.is_revoked("0dbd3733a1a44c6c").await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FileRevocationStore {
    inner: Arc<FileRev>,
}

struct FileRev {
    path: PathBuf,
    state: Mutex<RevState>,
    log: Mutex<Log>,
    clock: Clock,
    // Held (locked) for the store's lifetime.
    _lock: File,
}

struct Log {
    file: File,
    lines: usize,
    /// A failed append may have left a partial line: compact before the next append.
    broken: bool,
}

impl fmt::Debug for FileRevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRevocationStore")
            .field("path", &self.inner.path)
            .field("tracked", &self.len())
            .finish_non_exhaustive()
    }
}

const MIN_COMPACT_LINES: usize = 1024;

impl FileRevocationStore {
    /// Opens (or creates, mode 0600) the log at `path`, replays and compacts it.
    ///
    /// # Errors
    /// I/O errors; [`StoreError::Corrupt`] for a bad line before the last; [`StoreError::Other`]
    /// for a world-writable file; [`StoreError::Conflict`] if another store has it open.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_clock(path, Clock::system())
    }

    /// [`open`](Self::open) with the clock that decides which entries have expired (tests).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Clock) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let lock_file = open_private(&lock_path(&path), false)?;
        if !FileExt::try_lock_exclusive(&lock_file)? {
            return Err(StoreError::Conflict(format!(
                "{} is in use by another revocation store",
                path.display()
            )));
        }
        let mut state = RevState::default();
        match read_checked(&path, MAX_REVOCATION_LOG_SIZE) {
            Ok((bytes, _)) => replay(&bytes, &mut state)?,
            Err(StoreError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        state.prune(clock.now());
        remove_stale_temps(&path);
        let log = compact(&path, &state)?;
        Ok(Self {
            inner: Arc::new(FileRev {
                path,
                state: Mutex::new(state),
                log: Mutex::new(log),
                clock,
                _lock: lock_file,
            }),
        })
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Whether `jti` is revoked, without awaiting or touching the disk (one short lock): for a
    /// synchronous cache.
    pub fn is_revoked_sync(&self, jti: &str) -> bool {
        lock(&self.inner.state).is_revoked(jti)
    }

    /// How many tokens (revoked, or live members of a rotation family) are tracked.
    pub fn len(&self) -> usize {
        lock(&self.inner.state).len()
    }

    /// Whether no token is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

pub(crate) fn replay(bytes: &[u8], state: &mut RevState) -> Result<(), StoreError> {
    let mut lines = bytes.split(|b| *b == b'\n').enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let last = lines.peek().is_none();
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Vec<Change>>(line) {
            Ok(changes) => changes.iter().for_each(|c| state.apply(c)),
            // The last line without its newline: torn by a crash mid-append, never acknowledged.
            Err(_) if last => {
                tracing::warn!("ignoring a torn last line in the revocation log");
            }
            Err(e) => {
                return Err(StoreError::Corrupt(format!(
                    "revocation log line {}: {}",
                    i + 1,
                    json_error(&e)
                )));
            }
        }
    }
    Ok(())
}

/// Rewrites the log as the state's snapshot (atomically) and opens it for appending.
fn compact(path: &Path, state: &RevState) -> Result<Log, StoreError> {
    let (bytes, lines) = snapshot_bytes(state)?;
    write_file_atomic(path, &bytes)?;
    Ok(Log {
        file: open_private(path, true)?,
        lines,
        broken: false,
    })
}

/// The compacted log for `state`, one change per line, and its number of lines.
pub(crate) fn snapshot_bytes(state: &RevState) -> Result<(Vec<u8>, usize), StoreError> {
    let snapshot = state.snapshot();
    let mut bytes = Vec::with_capacity(snapshot.len() * 96);
    for change in &snapshot {
        serde_json::to_writer(&mut bytes, std::slice::from_ref(change))
            .map_err(|e| StoreError::Other(json_error(&e)))?;
        bytes.push(b'\n');
    }
    Ok((bytes, snapshot.len()))
}

impl FileRev {
    /// Plans under the state lock, makes the changes durable, then applies them. Writers are
    /// serialised by the log mutex, so plan-then-apply is one atomic step; readers see a change
    /// only once it is on disk.
    fn commit<T>(
        &self,
        plan: impl FnOnce(&RevState) -> Result<(T, Vec<Change>), StoreError>,
    ) -> Result<T, StoreError> {
        let mut log = lock(&self.log);
        let (out, changes) = {
            let mut state = lock(&self.state);
            state.prune(self.clock.now());
            plan(&state)?
        };
        if changes.is_empty() {
            return Ok(out);
        }
        let live = lock(&self.state).len();
        if log.broken || (log.lines > MIN_COMPACT_LINES && log.lines > 2 * live) {
            let state = lock(&self.state);
            *log = compact(&self.path, &state)?;
        }
        let mut line =
            serde_json::to_vec(&changes).map_err(|e| StoreError::Other(json_error(&e)))?;
        line.push(b'\n');
        if let Err(e) = log
            .file
            .write_all(&line)
            .and_then(|()| log.file.sync_data())
        {
            log.broken = true;
            return Err(e.into());
        }
        log.lines += 1;
        let mut state = lock(&self.state);
        changes.iter().for_each(|c| state.apply(c));
        Ok(out)
    }
}

impl RevocationStore for FileRevocationStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.is_revoked_sync(jti))
    }

    async fn revoke_if_absent(&self, jti: &str, exp: i64) -> Result<bool, StoreError> {
        check_jti(jti)?;
        let (inner, jti) = (Arc::clone(&self.inner), jti.to_owned());
        blocking(move || inner.commit(|s| Ok(s.plan_revoke(&jti, exp)))).await
    }

    async fn rotate(
        &self,
        old_jti: &str,
        old_exp: i64,
        new_jti: &str,
        new_exp: i64,
    ) -> Result<Rotation, StoreError> {
        check_jti(old_jti)?;
        check_jti(new_jti)?;
        let inner = Arc::clone(&self.inner);
        let (old_jti, new_jti) = (old_jti.to_owned(), new_jti.to_owned());
        blocking(move || inner.commit(|s| s.plan_rotate(&old_jti, old_exp, &new_jti, new_exp)))
            .await
    }
}
