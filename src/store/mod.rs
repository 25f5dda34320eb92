//! Stores behind traits: users ([`UserStore`]) and revoked tokens ([`RevocationStore`]), each
//! with an in-memory and a file-backed implementation, and shared ones behind features.
//!
//! | | in memory | in a file |
//! |---|---|---|
//! | users | [`MemoryUserStore`] | [`FileUserStore`]: JSON replaced atomically, safe for several processes |
//! | revoked tokens | [`MemoryRevocationStore`] | [`FileRevocationStore`]: append-only log, one process |
//!
//! With the `sqlx` feature, `SqlUserStore` (Django's `auth_user`) and `SqlRevocationStore`
//! (simplejwt's blacklist tables) on PostgreSQL or SQLite serve any number of processes.
//!
//! The traits use return-position `impl Future` (no `async-trait`). Implement them over your own
//! database to plug it in. [`write_file_atomic`] is the crash-safe file replacement the file
//! stores use, for your own files.
//!
//! ```
//! use tower_jwt_auth::store::{MemoryRevocationStore, MemoryUserStore, RevocationStore, UserStore};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), tower_jwt_auth::store::StoreError> {
//! let users = MemoryUserStore::new();
//! // Users moved over from Django keep their ids and password hashes.
//! users.import_django(r#"[{"model": "auth.user", "pk": 7, "fields": {
//!     "username": "ada", "is_active": true,
//!     "password": "pbkdf2_sha256$1000$NC7VbmIU4v0VNnJClAeiOy$n2pw/pG4lS64SBLixE9izGOHzKT45K6uQWD6diXEZ3g="}}]"#).await?;
//! let ada = users.authenticate("ada", "secret").await?.expect("right password");
//! assert_eq!(ada.id.as_str(), "7");
//! assert!(ada.password_hash.starts_with("$argon2id$"), "upgraded at login");
//! assert_eq!(users.add_user("bob", "another-secret", true).await?.id.as_str(), "8");
//!
//! let revoked = MemoryRevocationStore::new();
//! assert!(revoked.revoke_if_absent("a1b2c3", 4_102_444_800).await?);
//! assert!(revoked.is_revoked("a1b2c3").await?);
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::password::PasswordError;
use crate::verify::UserId;

pub(crate) mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;
pub(crate) mod revocation;
#[cfg(feature = "sqlx")]
mod sql;
pub(crate) mod users;

#[cfg(feature = "redis")]
pub use self::redis::{
    RedisConnection, RedisRevocationSet, RedisRevocationStore, RedisThrottle, RevocationFailMode,
};
pub use file::{FileRevocationStore, FileUserStore, write_file_atomic};
pub use memory::{MemoryRevocationStore, MemoryUserStore};
#[cfg(feature = "sqlx")]
pub use sql::{SqlDatabase, SqlRevocationStore, SqlUserStore};

/// A user as the token services see it.
///
/// `Debug` never shows the password hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id: strings of sequential integers from `"1"` by default, like Django's ids.
    pub id: UserId,
    /// The login name.
    pub username: String,
    /// Inactive users cannot log in, refresh, or pass the layer's user check.
    pub is_active: bool,
    /// The password hash in PHC form (`$argon2id$…`) or Django's `pbkdf2_sha256$…` form.
    pub password_hash: String,
    /// Extra claims added to every token issued to this user.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra_claims: serde_json::Map<String, serde_json::Value>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .field("password_hash", &"[redacted]")
            .field("extra_claims", &self.extra_claims)
            .finish()
    }
}

/// A store failure (I/O, a corrupt file, a lock). Its text never contains secrets.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O error.
    Io(std::io::Error),
    /// Stored data could not be parsed or has an unsupported schema version.
    Corrupt(String),
    /// The operation conflicts with stored data (for example, a username that already exists).
    Conflict(String),
    /// The input was refused (an empty or over-long username or `jti`, a password over 4 KiB,
    /// an unsupported hash in an import).
    Invalid(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "store I/O error: {e}"),
            Self::Corrupt(why) => write!(f, "store data is corrupt: {why}"),
            Self::Conflict(why) => write!(f, "conflict: {why}"),
            Self::Invalid(why) => write!(f, "invalid input: {why}"),
            Self::Other(why) => write!(f, "store error: {why}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<PasswordError> for StoreError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::TooLong => Self::Invalid(e.to_string()),
            other => Self::Other(other.to_string()),
        }
    }
}

/// Where users live.
pub trait UserStore: Clone + Send + Sync + 'static {
    /// Checks a username and password. Returns the user (active or not) when the password is
    /// right, `None` for an unknown user or a wrong password. Implementations must take the same
    /// time for an unknown user as for a wrong password (verify against a dummy hash), and must
    /// hash off the async worker threads.
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;

    /// Looks a user up by id.
    fn get(&self, id: &UserId) -> impl Future<Output = Result<Option<User>, StoreError>> + Send;
}

/// What happened when a refresh token was rotated. See [`RevocationStore::rotate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// The old token was live and is now revoked; the new one joined its family.
    Rotated,
    /// The old token had already been revoked: a reuse. Its whole family is now revoked.
    Reused,
}

/// Where revoked token ids (`jti`) live until their tokens expire.
///
/// Every check-and-set here is atomic: of N concurrent calls of [`revoke_if_absent`] or
/// [`rotate`] with the same `jti`, exactly one sees it live.
///
/// A store may forget a `jti` once its `exp` has passed by more than the verifier's largest
/// leeway ([`MAX_LEEWAY_SECS`](crate::verify::MAX_LEEWAY_SECS)): the token is dead by then.
///
/// [`revoke_if_absent`]: RevocationStore::revoke_if_absent
/// [`rotate`]: RevocationStore::rotate
pub trait RevocationStore: Clone + Send + Sync + 'static {
    /// Whether `jti` is revoked (directly or through its family).
    fn is_revoked(&self, jti: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes `jti` until `exp` (Unix seconds). Returns `true` if it was live before, `false` if
    /// it was already revoked. Atomic.
    fn revoke_if_absent(
        &self,
        jti: &str,
        exp: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Rotation in one atomic step: if `old_jti` is live, revoke it (until `old_exp`) and record
    /// `new_jti` (expiring at `new_exp`) in the same family, returning [`Rotation::Rotated`];
    /// if `old_jti` is already revoked, revoke its whole family (RFC 9700 §4.14) and return
    /// [`Rotation::Reused`].
    fn rotate(
        &self,
        old_jti: &str,
        old_exp: i64,
        new_jti: &str,
        new_exp: i64,
    ) -> impl Future<Output = Result<Rotation, StoreError>> + Send;
}
