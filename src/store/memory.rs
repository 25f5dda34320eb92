//! In-memory stores: [`MemoryUserStore`] and [`MemoryRevocationStore`].

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::revocation::{RevState, check_jti};
use super::users::Users;
use super::{RevocationStore, Rotation, StoreError, User, UserStore};
use crate::password::PasswordHasher;
use crate::verify::Clock;
use crate::verify::UserId;

/// Users kept in memory (lost at exit): for tests, demos, and users loaded from elsewhere.
///
/// Ids are strings of sequential integers from `"1"`, like Django's. Usernames are unique and
/// case-sensitive. Passwords are hashed with the store's [`PasswordHasher`]; a Django
/// `pbkdf2_sha256` hash (from [`import_django`](Self::import_django)) is replaced by argon2id
/// at the user's next successful login unless [`upgrade_on_login`](Self::upgrade_on_login) is
/// turned off.
///
/// ```
/// use tower_jwt_auth::password::PasswordHasher;
/// use tower_jwt_auth::store::{MemoryUserStore, UserStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let users = MemoryUserStore::new();
/// let alice = users.add_user("alice", "s3cret-passw0rd", true).await?;
/// assert_eq!(alice.id.as_str(), "1");
///
/// let found = users.authenticate("alice", "s3cret-passw0rd").await?;
/// assert_eq!(found.map(|u| u.id), Some(alice.id.clone()));
/// assert!(users.authenticate("alice", "wrong").await?.is_none());
/// assert!(users.authenticate("nobody", "s3cret-passw0rd").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemoryUserStore {
    users: Arc<RwLock<Users>>,
    hasher: PasswordHasher,
    upgrade: bool,
}

impl fmt::Debug for MemoryUserStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryUserStore")
            .field("users", &self.read().len())
            .field("hasher", &self.hasher)
            .field("upgrade_on_login", &self.upgrade)
            .finish()
    }
}

impl Default for MemoryUserStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryUserStore {
    /// An empty store with the default [`PasswordHasher`] (argon2id, OWASP parameters).
    pub fn new() -> Self {
        Self::with_hasher(PasswordHasher::new())
    }

    /// An empty store hashing with `hasher` (share one hasher between stores to share its
    /// concurrency bound).
    pub fn with_hasher(hasher: PasswordHasher) -> Self {
        Self {
            users: Arc::new(RwLock::new(Users::new())),
            hasher,
            upgrade: true,
        }
    }

    /// Whether a successful login re-hashes a password whose hash
    /// [needs an upgrade](PasswordHasher::needs_upgrade) (Django's pbkdf2, older argon2
    /// parameters). On by default, as in Django.
    #[must_use]
    pub fn upgrade_on_login(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// The store's password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    fn read(&self) -> RwLockReadGuard<'_, Users> {
        self.users.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Users> {
        self.users.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a user with the next id, hashing `password` with argon2id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the username exists; [`StoreError::Invalid`] for an empty
    /// username, one over 150 characters or with control characters, or a password over 4 KiB.
    pub async fn add_user(
        &self,
        username: &str,
        password: &str,
        is_active: bool,
    ) -> Result<User, StoreError> {
        super::users::check_username(username)?;
        if self.read().get_by_username(username).is_some() {
            // Fail fast before hashing; checked again under the lock.
            return Err(StoreError::Conflict(format!(
                "username {username:?} already exists"
            )));
        }
        let hash = self.hasher.hash(password).await?;
        self.write().add(username, hash, is_active)
    }

    /// Sets a user's password (hashed with argon2id). `Ok(false)` if there is no such user.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a password over 4 KiB.
    pub async fn set_password(&self, id: &UserId, password: &str) -> Result<bool, StoreError> {
        let hash = self.hasher.hash(password).await?;
        Ok(self
            .write()
            .get_mut(id)
            .map(|u| u.password_hash = hash)
            .is_some())
    }

    /// Activates or deactivates a user. `Ok(false)` if there is no such user.
    ///
    /// # Errors
    /// None for this store (the `Result` matches [`FileUserStore`](super::FileUserStore)).
    pub async fn set_active(&self, id: &UserId, is_active: bool) -> Result<bool, StoreError> {
        Ok(self
            .write()
            .get_mut(id)
            .map(|u| u.is_active = is_active)
            .is_some())
    }

    /// Replaces the extra claims put in every token issued to the user. `Ok(false)` if there is
    /// no such user.
    ///
    /// # Errors
    /// None for this store.
    pub async fn set_extra_claims(
        &self,
        id: &UserId,
        claims: serde_json::Map<String, serde_json::Value>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .write()
            .get_mut(id)
            .map(|u| u.extra_claims = claims)
            .is_some())
    }

    /// Removes a user. `Ok(false)` if there was no such user. Its id is never reused.
    ///
    /// # Errors
    /// None for this store.
    pub async fn remove(&self, id: &UserId) -> Result<bool, StoreError> {
        Ok(self.write().remove(id))
    }

    /// All users, by id.
    ///
    /// # Errors
    /// None for this store.
    pub async fn list(&self) -> Result<Vec<User>, StoreError> {
        Ok(self.read().list())
    }

    /// Looks a user up by username (case-sensitive, as Django).
    ///
    /// # Errors
    /// None for this store.
    pub async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        Ok(self.read().get_by_username(username).cloned())
    }

    /// Imports the JSON printed by Django's `manage.py dumpdata auth.user`: keeps each `pk` as the
    /// id, the username, `is_active` and the password hash (`pbkdf2_sha256`, `argon2` or an
    /// unusable `!…` password); new ids continue after the highest pk. All or nothing.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for JSON that is not a dump of users, an unsupported hasher
    /// (bcrypt, md5, …), a malformed hash or one over the hasher's
    /// [`HashCostLimits`](crate::password::HashCostLimits) (the message says which user and
    /// why); [`StoreError::Conflict`] if a pk or username already exists.
    pub async fn import_django(&self, json: &str) -> Result<Vec<User>, StoreError> {
        self.write().import_django(json, &self.hasher)
    }
}

impl UserStore for MemoryUserStore {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let user = self.read().get_by_username(username).cloned();
        let ok = self
            .hasher
            .verify_or_dummy(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let Some(mut user) = user.filter(|_| ok) else {
            return Ok(None);
        };
        if self.upgrade && self.hasher.needs_upgrade(&user.password_hash) {
            match self.hasher.hash(password).await {
                Ok(new_hash) => {
                    if self
                        .write()
                        .upgrade_hash(&user.id, &user.password_hash, new_hash.clone())
                    {
                        user.password_hash = new_hash;
                    }
                }
                Err(e) => {
                    tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed")
                }
            }
        }
        Ok(Some(user))
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.read().get(id).cloned())
    }
}

/// Revoked tokens kept in memory (lost at exit), for one process.
///
/// A mutex'd map `jti → (exp, family, revoked)`. Entries are forgotten once their token has
/// expired (plus the verifier's largest leeway), so memory is bounded by the live tokens.
/// Rotation records the new `jti` in the old one's family; reusing a revoked `jti` revokes the
/// whole family.
///
/// ```
/// use tower_jwt_auth::store::{MemoryRevocationStore, RevocationStore, Rotation};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_jwt_auth::store::StoreError> {
/// let store = MemoryRevocationStore::new();
/// let exp = 4_102_444_800; // 2100-01-01
/// assert_eq!(store.rotate("r1", exp, "r2", exp).await?, Rotation::Rotated);
/// assert!(store.is_revoked("r1").await?);
/// assert!(!store.is_revoked("r2").await?);
///
/// // r1 presented again: a stolen token. The whole family, r2 included, is revoked.
/// assert_eq!(store.rotate("r1", exp, "r3", exp).await?, Rotation::Reused);
/// assert!(store.is_revoked_sync("r2"));
///
/// assert!(store.revoke_if_absent("other", exp).await?);
/// assert!(!store.revoke_if_absent("other", exp).await?);
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct MemoryRevocationStore {
    state: Arc<Mutex<RevState>>,
    clock: Clock,
}

impl fmt::Debug for MemoryRevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRevocationStore")
            .field("tracked", &self.len())
            .field("clock", &self.clock)
            .finish()
    }
}

impl MemoryRevocationStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses `clock` to decide which entries have expired (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn lock(&self) -> MutexGuard<'_, RevState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `jti` is revoked, without awaiting (one short lock): for a synchronous cache.
    pub fn is_revoked_sync(&self, jti: &str) -> bool {
        self.lock().is_revoked(jti)
    }

    /// How many tokens (revoked, or live members of a rotation family) are tracked.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no token is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn revoke_now(&self, jti: &str, exp: i64) -> Result<bool, StoreError> {
        check_jti(jti)?;
        let mut state = self.lock();
        state.prune(self.clock.now());
        let (was_live, changes) = state.plan_revoke(jti, exp);
        changes.iter().for_each(|c| state.apply(c));
        Ok(was_live)
    }

    fn rotate_now(
        &self,
        old_jti: &str,
        old_exp: i64,
        new_jti: &str,
        new_exp: i64,
    ) -> Result<Rotation, StoreError> {
        check_jti(old_jti)?;
        check_jti(new_jti)?;
        let mut state = self.lock();
        state.prune(self.clock.now());
        let (rotation, changes) = state.plan_rotate(old_jti, old_exp, new_jti, new_exp)?;
        changes.iter().for_each(|c| state.apply(c));
        Ok(rotation)
    }
}

impl RevocationStore for MemoryRevocationStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.is_revoked_sync(jti))
    }

    async fn revoke_if_absent(&self, jti: &str, exp: i64) -> Result<bool, StoreError> {
        self.revoke_now(jti, exp)
    }

    async fn rotate(
        &self,
        old_jti: &str,
        old_exp: i64,
        new_jti: &str,
        new_exp: i64,
    ) -> Result<Rotation, StoreError> {
        self.rotate_now(old_jti, old_exp, new_jti, new_exp)
    }
}
