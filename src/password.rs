//! Password hashing: argon2id for new hashes, Django's `pbkdf2_sha256` (and Django's `argon2`
//! form) verified too, so a Django `auth_user` table moves over unchanged.
//!
//! Hashing is slow on purpose, so every hash and verification runs on tokio's blocking pool
//! (`spawn_blocking`) behind a semaphore that bounds how many run at once (by default one less
//! than the number of CPUs, at least one, so a login storm leaves a core to the async workers). [`PasswordHasher::verify_or_dummy`] verifies a precomputed dummy argon2id hash when
//! the user is unknown, so an unknown user costs the same time as a wrong password.
//!
//! ```
//! use tower_jwt_auth::password::PasswordHasher;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hasher = PasswordHasher::new();
//! let hash = hasher.hash("correct horse battery staple").await?;
//! assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
//! assert!(hasher.verify("correct horse battery staple", &hash).await?);
//! assert!(!hasher.verify("wrong", &hash).await?);
//!
//! // A hash made by Django's PBKDF2PasswordHasher verifies as well, and asks for an upgrade.
//! let django = "pbkdf2_sha256$1000$NC7VbmIU4v0VNnJClAeiOy$n2pw/pG4lS64SBLixE9izGOHzKT45K6uQWD6diXEZ3g=";
//! assert!(hasher.verify("secret", django).await?);
//! assert!(hasher.needs_upgrade(django));
//! assert!(!hasher.needs_upgrade(&hash));
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use subtle::ConstantTimeEq;
use tokio::sync::Semaphore;

/// The longest password accepted, in bytes. Longer ones never verify and cannot be hashed.
pub const MAX_PASSWORD_LEN: usize = 4096;

/// The default ceiling on a stored `pbkdf2_sha256` hash's iterations (Django 5.2 uses
/// 1 000 000, Django 6.0 1 200 000): see [`HashCostLimits`].
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;

/// OWASP's argon2id memory cost, in KiB (19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// OWASP's argon2id iteration count.
pub const ARGON2_ITERATIONS: u32 = 2;
/// OWASP's argon2id parallelism.
pub const ARGON2_PARALLELISM: u32 = 1;

/// The ceiling on what one stored hash may cost to verify.
///
/// A stored hash is data: a user imported from another system, or a row written by someone with
/// access to the user table, could otherwise ask for 10 million PBKDF2 rounds or gigabytes of
/// argon2 memory and tie up the hashing pool (every other login waits behind it). A hash over the
/// ceiling is refused when it is imported ([`PasswordHasher::check_stored`] says why) and, if it
/// is already stored, verifies as a wrong password (after the dummy hash, so at the usual cost)
/// with a warning in the log.
///
/// The defaults admit Django's own hashers (PBKDF2 at 1 000 000–1 200 000 iterations, argon2 at
/// m = 100 MiB, t = 2, p = 8) and OWASP's argon2id settings with room to grow, and bound the
/// worst case to about twice Django's argon2 default:
///
/// ```
/// use tower_jwt_auth::password::{HashCostLimits, PasswordHasher};
///
/// let limits = HashCostLimits::default();
/// assert_eq!(limits.pbkdf2_iterations, 2_000_000);
/// assert_eq!(limits.argon2_memory_kib, 128 * 1024);
///
/// let hasher = PasswordHasher::new();
/// let costly = "pbkdf2_sha256$5000000$salt$N/8/eXn1y0lb+ETtL4tXyfi53z3BXJ99tNTKsXWLnk8=";
/// let err = hasher.check_stored(costly).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "password hash over the cost ceiling: pbkdf2_sha256 with 5000000 iterations \
///      (the ceiling is 2000000)"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCostLimits {
    /// Most `pbkdf2_sha256` iterations.
    pub pbkdf2_iterations: u32,
    /// Most argon2 memory, in KiB (`m`).
    pub argon2_memory_kib: u32,
    /// Most argon2 passes (`t`).
    pub argon2_iterations: u32,
    /// Most argon2 lanes (`p`).
    pub argon2_parallelism: u32,
    /// Most argon2 work, memory × passes in KiB (`m × t`): what one verification costs in time.
    pub argon2_work_kib: u64,
}

impl Default for HashCostLimits {
    fn default() -> Self {
        Self {
            pbkdf2_iterations: MAX_PBKDF2_ITERATIONS,
            argon2_memory_kib: 128 * 1024,
            argon2_iterations: 8,
            argon2_parallelism: 16,
            argon2_work_kib: 256 * 1024,
        }
    }
}

impl HashCostLimits {
    /// No ceiling: what stores use to check a stored hash's form when they load it (a hash over
    /// the ceiling stays loadable and is refused at login).
    const NONE: Self = Self {
        pbkdf2_iterations: u32::MAX,
        argon2_memory_kib: u32::MAX,
        argon2_iterations: u32::MAX,
        argon2_parallelism: u32::MAX,
        argon2_work_kib: u64::MAX,
    };

    fn check_argon2(&self, m: u32, t: u32, p: u32) -> Result<(), StoredHashError> {
        let over = |what: String, ceiling: String| {
            Err(StoredHashError::OverCostCeiling(format!(
                "argon2 with {what} (the ceiling is {ceiling})"
            )))
        };
        if m > self.argon2_memory_kib {
            return over(
                format!("m = {m} KiB"),
                format!("{} KiB", self.argon2_memory_kib),
            );
        }
        if t > self.argon2_iterations {
            return over(format!("t = {t}"), self.argon2_iterations.to_string());
        }
        if p > self.argon2_parallelism {
            return over(format!("p = {p}"), self.argon2_parallelism.to_string());
        }
        let work = u64::from(m) * u64::from(t);
        if work > self.argon2_work_kib {
            return over(
                format!("m × t = {work} KiB"),
                format!("{} KiB", self.argon2_work_kib),
            );
        }
        Ok(())
    }
}

/// Why a stored hash cannot be verified, from [`PasswordHasher::check_stored`]. Its text names
/// the hasher and its costs, never the hash or the salt.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredHashError {
    /// A form this crate does not verify (bcrypt, md5, …); holds the hasher's name as the hash
    /// gives it (the text before the first `$`).
    Unsupported(String),
    /// A supported hasher, but the hash does not parse (fields, base64, lengths).
    Malformed,
    /// Well formed but over the [`HashCostLimits`]; says which cost.
    OverCostCeiling(String),
}

impl fmt::Display for StoredHashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported(name) => write!(
                f,
                "unsupported password hasher {name:?} (supported: pbkdf2_sha256, argon2, unusable)"
            ),
            Self::Malformed => f.write_str("malformed password hash"),
            Self::OverCostCeiling(what) => write!(f, "password hash over the cost ceiling: {what}"),
        }
    }
}

impl std::error::Error for StoredHashError {}

const DJANGO_PBKDF2_PREFIX: &str = "pbkdf2_sha256$";
const DJANGO_ARGON2_PREFIX: &str = "argon2$";

/// A password hashing or verification failure. Its text never contains the password or a hash.
#[derive(Debug)]
#[non_exhaustive]
pub enum PasswordError {
    /// The password is longer than [`MAX_PASSWORD_LEN`] bytes.
    TooLong,
    /// Invalid argon2 parameters were given to [`PasswordHasher::with_params`].
    InvalidParams(String),
    /// The hashing task failed (no tokio runtime, or the task panicked).
    Internal(String),
}

impl fmt::Display for PasswordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(f, "password longer than {MAX_PASSWORD_LEN} bytes"),
            Self::InvalidParams(why) => write!(f, "invalid argon2 parameters: {why}"),
            Self::Internal(why) => write!(f, "password hashing failed: {why}"),
        }
    }
}

impl std::error::Error for PasswordError {}

/// The kind of a stored password hash, as told by [`HashKind::of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashKind {
    /// A PHC string `$argon2id$…` (or `$argon2i$`/`$argon2d$`), what this crate writes.
    Argon2,
    /// Django's `argon2$argon2id$…` (Django's `Argon2PasswordHasher`).
    DjangoArgon2,
    /// Django's `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>`.
    DjangoPbkdf2Sha256,
    /// Django's unusable password (`set_unusable_password`): starts with `!`. Never verifies.
    Unusable,
}

impl HashKind {
    /// Classifies a stored hash by its form (without checking that it parses). `None` for forms
    /// this crate cannot verify (bcrypt, md5, sha1, …).
    pub fn of(hash: &str) -> Option<Self> {
        if hash.starts_with('!') {
            Some(Self::Unusable)
        } else if hash.starts_with("$argon2") {
            Some(Self::Argon2)
        } else if hash.starts_with(DJANGO_ARGON2_PREFIX) {
            Some(Self::DjangoArgon2)
        } else if hash.starts_with(DJANGO_PBKDF2_PREFIX) {
            Some(Self::DjangoPbkdf2Sha256)
        } else {
            None
        }
    }
}

/// Hashes and verifies passwords. Cheap to clone (an `Arc`); clones share the concurrency bound.
///
/// See the [module docs](crate::password) for an example.
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    semaphore: Arc<Semaphore>,
    max_concurrent: usize,
    dummy: String,
    limits: HashCostLimits,
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.inner.params.m_cost())
            .field("t_cost", &self.inner.params.t_cost())
            .field("p_cost", &self.inner.params.p_cost())
            .field("max_concurrent", &self.inner.max_concurrent)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    /// argon2id with OWASP's parameters (m = 19456 KiB, t = 2, p = 1), at most `max(1, CPUs - 1)`
    /// hashes at once.
    ///
    /// The bound trades login throughput for request latency. Each argon2id hash keeps one core
    /// busy for its whole duration; with as many hashes at once as CPUs, a login storm occupies
    /// every core and the async workers serving every other route wait for the OS scheduler. One
    /// hash fewer leaves them a core. On a shared 2-CPU machine, during a full-rate login storm the
    /// protected route's p99 was 1.23× its idle p99 with this bound (one hash at a time) against
    /// 1.79× with two, and 1.87× against 5.90× when the machine was busier; logins/s fell by about
    /// a fifth (49 against 61) and can fall by up to half on an otherwise idle 2-CPU machine.
    /// Queued logins wait on the semaphore, never on an async worker. BENCHMARKS.md ("Login
    /// storm") has the runs; choose another bound with [`with_params`](Self::with_params).
    ///
    /// Computes the dummy hash for unknown users right away (one argon2id hash, tens of
    /// milliseconds), synchronously.
    pub fn new() -> Self {
        // The constants are valid; the fallback (argon2's default, the same OWASP
        // recommendation) only avoids a panic path.
        let params = Params::new(
            ARGON2_MEMORY_KIB,
            ARGON2_ITERATIONS,
            ARGON2_PARALLELISM,
            None,
        )
        .unwrap_or_default();
        Self::build(params, default_concurrency())
    }

    /// Custom argon2id costs and concurrency bound.
    ///
    /// # ⚠️ Warning
    /// Costs below OWASP's (m = 19456 KiB, t = 2, p = 1) make stolen hashes cheaper to crack;
    /// use them for tests only. Hashes with other parameters than these count as needing an
    /// upgrade ([`needs_upgrade`](Self::needs_upgrade)).
    ///
    /// # Errors
    /// [`PasswordError::InvalidParams`] if argon2 rejects the costs or `max_concurrent` is 0.
    pub fn with_params(
        memory_kib: u32,
        iterations: u32,
        parallelism: u32,
        max_concurrent: usize,
    ) -> Result<Self, PasswordError> {
        if max_concurrent == 0 {
            return Err(PasswordError::InvalidParams(
                "max_concurrent must be at least 1".into(),
            ));
        }
        HashCostLimits::default()
            .check_argon2(memory_kib, iterations, parallelism)
            .map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
        let params = Params::new(memory_kib, iterations, parallelism, None)
            .map_err(|e| PasswordError::InvalidParams(e.to_string()))?;
        Ok(Self::build(params, max_concurrent))
    }

    fn build(params: Params, max_concurrent: usize) -> Self {
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let dummy = argon2_hash(&params, &secret).unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                params,
                semaphore: Arc::new(Semaphore::new(max_concurrent)),
                max_concurrent,
                dummy,
                limits: HashCostLimits::default(),
            }),
        }
    }

    /// This hasher with another ceiling on stored hashes' costs (see [`HashCostLimits`]).
    ///
    /// # Errors
    /// [`PasswordError::InvalidParams`] if the hasher's own argon2id costs are over `limits`
    /// (its fresh hashes would be refused).
    pub fn with_cost_limits(self, limits: HashCostLimits) -> Result<Self, PasswordError> {
        let p = &self.inner.params;
        limits
            .check_argon2(p.m_cost(), p.t_cost(), p.p_cost())
            .map_err(|e| PasswordError::InvalidParams(format!("this hasher's own costs: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                params: p.clone(),
                semaphore: Arc::clone(&self.inner.semaphore),
                max_concurrent: self.inner.max_concurrent,
                dummy: self.inner.dummy.clone(),
                limits,
            }),
        })
    }

    /// The ceiling on stored hashes' costs.
    pub fn cost_limits(&self) -> HashCostLimits {
        self.inner.limits
    }

    /// Whether [`verify`](Self::verify) can check `hash` within this hasher's
    /// [`HashCostLimits`], and if not, why: what stores ask before they import a user. A Django
    /// unusable password (`!…`) is fine (it never verifies).
    ///
    /// # Errors
    /// [`StoredHashError`], naming the hasher and the cost that is over the ceiling.
    pub fn check_stored(&self, hash: &str) -> Result<(), StoredHashError> {
        if HashKind::of(hash) == Some(HashKind::Unusable) {
            return Ok(());
        }
        Stored::parse_within(hash, &self.inner.limits).map(drop)
    }

    /// The most hashes or verifications that run at once.
    pub fn max_concurrent(&self) -> usize {
        self.inner.max_concurrent
    }

    /// Hashes `password` with argon2id and a fresh random salt, in PHC form
    /// (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
    ///
    /// # Errors
    /// [`PasswordError::TooLong`] above [`MAX_PASSWORD_LEN`] bytes; [`PasswordError::Internal`]
    /// outside a tokio runtime.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Err(PasswordError::TooLong);
        }
        let params = self.inner.params.clone();
        let password = Zeroizing(password.as_bytes().to_vec());
        self.run(move || argon2_hash(&params, &password.0)).await?
    }

    /// Whether `password` matches `hash` (argon2 PHC, Django `argon2$…` or `pbkdf2_sha256$…`).
    ///
    /// `Ok(false)` for a wrong password, a password over [`MAX_PASSWORD_LEN`] bytes, an unusable
    /// (`!…`) or malformed hash, an unsupported algorithm, or absurd costs (pbkdf2 iterations of
    /// 0 or over [`MAX_PBKDF2_ITERATIONS`]). For malformed, unusable and unsupported hashes the
    /// dummy hash is verified instead, so they cost the same time as a wrong password.
    ///
    /// # Errors
    /// [`PasswordError::Internal`] outside a tokio runtime or if the hashing task panicked.
    pub async fn verify(&self, password: &str, hash: &str) -> Result<bool, PasswordError> {
        self.verify_or_dummy(password, Some(hash)).await
    }

    /// [`verify`](Self::verify) for a known user (`Some(hash)`), or for an unknown user (`None`)
    /// a verification of the dummy hash that always answers `false`, taking the same time as a
    /// wrong password.
    ///
    /// The dummy is an argon2id hash with this hasher's parameters, so an unknown user costs
    /// what a user with a current hash costs. A user still on a Django `pbkdf2_sha256` hash costs
    /// PBKDF2's time instead (about 0.1 s at Django 5.2's 1 000 000 iterations, several times
    /// argon2id's): that difference reveals that the account exists and has a legacy hash, until
    /// its next login upgrades it.
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub async fn verify_or_dummy(
        &self,
        password: &str,
        hash: Option<&str>,
    ) -> Result<bool, PasswordError> {
        if password.len() > MAX_PASSWORD_LEN {
            // Same answer and (no) cost for every user: this reveals nothing about the account.
            return Ok(false);
        }
        let parsed = hash.map(|h| match Stored::parse_within(h, &self.inner.limits) {
            Ok(stored) => Some(stored),
            Err(StoredHashError::OverCostCeiling(what)) => {
                tracing::warn!(
                    "a stored password hash is over the cost ceiling ({what}): the login is \
                     refused; re-hash that user's password or raise PasswordHasher's HashCostLimits"
                );
                None
            }
            Err(_) => None,
        });
        let inner = Arc::clone(&self.inner);
        let password = Zeroizing(password.as_bytes().to_vec());
        self.run(move || match parsed {
            Some(Some(stored)) => stored.verify(&password.0),
            Some(None) | None => {
                // Unknown user or an unusable hash: spend the same time, answer no.
                let _ = verify_argon2_phc(&inner.dummy, &password.0);
                false
            }
        })
        .await
    }

    /// Whether `hash` should be replaced by a fresh [`hash`](Self::hash): anything that is not
    /// argon2id (version 0x13) with this hasher's parameters, including Django's forms. An
    /// unusable (`!…`) hash never needs an upgrade (there is no password to re-hash).
    pub fn needs_upgrade(&self, hash: &str) -> bool {
        if hash.starts_with('!') {
            return false;
        }
        let Ok(phc) = PasswordHash::new(hash) else {
            return true;
        };
        if phc.algorithm.as_str() != "argon2id" || phc.version != Some(0x13) {
            return true;
        }
        let Ok(params) = Params::try_from(&phc) else {
            return true;
        };
        let current = &self.inner.params;
        params.m_cost() != current.m_cost()
            || params.t_cost() != current.t_cost()
            || params.p_cost() != current.p_cost()
            || phc.hash.map(|h| h.len()) != Some(Params::DEFAULT_OUTPUT_LEN)
    }

    /// Whether `hash` is in a form [`verify`](Self::verify) can check within the default
    /// [`HashCostLimits`] (or is a Django unusable password). [`check_stored`](Self::check_stored)
    /// says why not, with a hasher's own limits.
    pub fn is_supported(hash: &str) -> bool {
        HashKind::of(hash) == Some(HashKind::Unusable)
            || Stored::parse_within(hash, &HashCostLimits::default()).is_ok()
    }

    /// Whether `hash` is well formed, whatever its costs: what stores check when they load
    /// their own files (a hash over the ceiling stays loadable and is refused at login).
    pub(crate) fn is_well_formed(hash: &str) -> bool {
        HashKind::of(hash) == Some(HashKind::Unusable)
            || matches!(
                Stored::parse_within(hash, &HashCostLimits::NONE),
                // Even `NONE` refuses a PBKDF2 iteration count beyond `u32`: still a cost.
                Ok(_) | Err(StoredHashError::OverCostCeiling(_))
            )
    }

    async fn run<T, F>(&self, f: F) -> Result<T, PasswordError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| PasswordError::Internal("no tokio runtime".into()))?;
        let permit = Arc::clone(&self.inner.semaphore)
            .acquire_owned()
            .await
            .map_err(|_| PasswordError::Internal("semaphore closed".into()))?;
        handle
            .spawn_blocking(move || {
                // Held until the work is done, even if the caller's future is dropped.
                let _permit = permit;
                f()
            })
            .await
            .map_err(|_| PasswordError::Internal("hashing task failed".into()))
    }
}

/// One less than the CPUs, at least one: see [`PasswordHasher::new`].
fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

fn argon2_hash(params: &Params, password: &[u8]) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    argon2::PasswordHasher::hash_password(&argon, password, &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Internal(e.to_string()))
}

fn verify_argon2_phc(phc: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2::PasswordVerifier::verify_password(&Argon2::default(), password, &parsed).is_ok()
}

/// Parses `hash` within `limits` and verifies `password` against it, synchronously (the fuzz
/// targets' entry).
#[cfg(feature = "fuzzing")]
pub(crate) fn verify_stored_sync(
    hash: &str,
    password: &[u8],
    limits: &HashCostLimits,
) -> Result<bool, StoredHashError> {
    Stored::parse_within(hash, limits).map(|s| s.verify(password))
}

/// A stored hash that parsed and whose costs are within bounds.
enum Stored {
    /// A PHC argon2 string (Django's `argon2` prefix already stripped).
    Argon2(String),
    Pbkdf2 {
        iterations: u32,
        salt: String,
        hash: Vec<u8>,
    },
}

impl Stored {
    #[cfg(test)]
    fn parse(hash: &str) -> Option<Self> {
        Self::parse_within(hash, &HashCostLimits::default()).ok()
    }

    fn parse_within(hash: &str, limits: &HashCostLimits) -> Result<Self, StoredHashError> {
        let Some(kind) = HashKind::of(hash) else {
            let name = hash.split('$').next().unwrap_or_default();
            // Only a short, printable name goes into the message, never a whole hash.
            let name = if name.len() <= 32 && name.bytes().all(|b| b.is_ascii_graphic()) {
                name
            } else {
                "?"
            };
            return Err(StoredHashError::Unsupported(name.to_owned()));
        };
        match kind {
            HashKind::Unusable => Err(StoredHashError::Malformed),
            HashKind::Argon2 => Self::parse_argon2(hash, limits),
            HashKind::DjangoArgon2 => {
                Self::parse_argon2(&hash[DJANGO_ARGON2_PREFIX.len() - 1..], limits)
            }
            HashKind::DjangoPbkdf2Sha256 => {
                let mut parts = hash[DJANGO_PBKDF2_PREFIX.len()..].split('$');
                let (Some(iterations), Some(salt), Some(b64), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(StoredHashError::Malformed);
                };
                // Digits only: no sign, no spaces, no leading `+`.
                if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(StoredHashError::Malformed);
                }
                let over = |it: &str| {
                    StoredHashError::OverCostCeiling(format!(
                        "pbkdf2_sha256 with {it} iterations (the ceiling is {})",
                        limits.pbkdf2_iterations
                    ))
                };
                // `None`: all digits, so only too large for a u32.
                let parsed: Option<u32> = match iterations.parse() {
                    Ok(n) => Some(n),
                    Err(_) if iterations.len() <= 20 => None,
                    Err(_) => return Err(StoredHashError::Malformed),
                };
                if parsed == Some(0) || salt.is_empty() {
                    return Err(StoredHashError::Malformed);
                }
                let hash = STANDARD
                    .decode(b64)
                    .map_err(|_| StoredHashError::Malformed)?;
                // Django's PBKDF2PasswordHasher always derives SHA-256's 32 bytes.
                if hash.len() != 32 {
                    return Err(StoredHashError::Malformed);
                }
                // The cost last: only a well-formed hash is "over the ceiling".
                let Some(iterations) = parsed.filter(|n| *n <= limits.pbkdf2_iterations) else {
                    return Err(over(
                        &parsed.map_or_else(|| iterations.to_owned(), |n| n.to_string()),
                    ));
                };
                Ok(Self::Pbkdf2 {
                    iterations,
                    salt: salt.to_owned(),
                    hash,
                })
            }
        }
    }

    fn parse_argon2(phc: &str, limits: &HashCostLimits) -> Result<Self, StoredHashError> {
        let parsed = PasswordHash::new(phc).map_err(|_| StoredHashError::Malformed)?;
        Algorithm::try_from(parsed.algorithm).map_err(|_| StoredHashError::Malformed)?;
        let params = Params::try_from(&parsed).map_err(|_| StoredHashError::Malformed)?;
        if parsed.salt.is_none() || parsed.hash.is_none() {
            return Err(StoredHashError::Malformed);
        }
        // The cost last: only a well-formed hash is "over the ceiling".
        limits.check_argon2(params.m_cost(), params.t_cost(), params.p_cost())?;
        Ok(Self::Argon2(phc.to_owned()))
    }

    fn verify(&self, password: &[u8]) -> bool {
        match self {
            Self::Argon2(phc) => verify_argon2_phc(phc, password),
            Self::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => {
                let mut derived = [0u8; 32];
                pbkdf2_sha256(password, salt.as_bytes(), *iterations, &mut derived);
                let ok = derived.ct_eq(hash.as_slice()).into();
                derived.fill(0);
                ok
            }
        }
    }
}

/// PBKDF2-HMAC-SHA256. With the `aws-lc-rs` feature this is AWS-LC's (optimised C even in debug
/// builds, where the generic RustCrypto code, instantiated in this crate, is ~50× slower: an 8 s
/// Django login in `cargo run`); otherwise RustCrypto's `pbkdf2`.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8; 32]) {
    #[cfg(feature = "aws-lc-rs")]
    {
        if let Some(n) = std::num::NonZeroU32::new(iterations) {
            aws_lc_rs::pbkdf2::derive(
                aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
                n,
                salt,
                password,
                out,
            );
        }
    }
    #[cfg(not(feature = "aws-lc-rs"))]
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out);
}

/// A byte buffer overwritten with zeros when dropped (best effort; no `zeroize` dependency).
struct Zeroizing(Vec<u8>);

impl Drop for Zeroizing {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> PasswordHasher {
        PasswordHasher::with_params(64, 1, 1, 2).expect("valid test params")
    }

    #[test]
    fn hash_kind_is_told_by_prefix() {
        assert_eq!(HashKind::of("!abc"), Some(HashKind::Unusable));
        assert_eq!(HashKind::of("$argon2id$v=19$…"), Some(HashKind::Argon2));
        assert_eq!(
            HashKind::of("argon2$argon2id$…"),
            Some(HashKind::DjangoArgon2)
        );
        assert_eq!(
            HashKind::of("pbkdf2_sha256$1$a$b"),
            Some(HashKind::DjangoPbkdf2Sha256)
        );
        assert_eq!(HashKind::of("bcrypt_sha256$$2b$12$…"), None);
        assert_eq!(HashKind::of(""), None);
    }

    #[test]
    fn absurd_pbkdf2_iterations_do_not_parse() {
        let h = "N/8/eXn1y0lb+ETtL4tXyfi53z3BXJ99tNTKsXWLnk8=";
        for it in ["0", "2000001", "4294967296", "-1", "+5", " 5", "", "1e3"] {
            assert!(
                Stored::parse(&format!("pbkdf2_sha256${it}$salt${h}")).is_none(),
                "{it}"
            );
        }
        assert!(Stored::parse(&format!("pbkdf2_sha256$2000000$salt${h}")).is_some());
        // Wrong hash length, bad base64, missing or extra fields.
        assert!(Stored::parse("pbkdf2_sha256$1000$salt$AAAA").is_none());
        assert!(Stored::parse("pbkdf2_sha256$1000$salt$!!!").is_none());
        assert!(Stored::parse("pbkdf2_sha256$1000$salt").is_none());
        assert!(Stored::parse(&format!("pbkdf2_sha256$1000$salt${h}$x")).is_none());
        assert!(Stored::parse(&format!("pbkdf2_sha256$1000$${h}")).is_none());
    }

    #[test]
    fn argon2_costs_above_the_caps_do_not_parse() {
        let h = "$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(Stored::parse(h).is_none());
        let h = "$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(Stored::parse(h).is_none());
        // Django's argon2 default (m = 100 MiB, t = 2, p = 8) is within the ceiling; m × t caps
        // the work even when each cost alone is allowed.
        let django = "$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(Stored::parse(django).is_some());
        let h = "$argon2id$v=19$m=131072,t=8,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert_eq!(
            Stored::parse_within(h, &HashCostLimits::default()).err(),
            Some(StoredHashError::OverCostCeiling(
                "argon2 with m × t = 1048576 KiB (the ceiling is 262144 KiB)".into()
            ))
        );
    }

    /// Only a well-formed hash is "over the cost ceiling", and a well-formed one of any cost
    /// still loads from a store's file (it is refused at login).
    #[test]
    fn over_the_ceiling_only_when_well_formed() {
        let h = fast();
        let b64 = "N/8/eXn1y0lb+ETtL4tXyfi53z3BXJ99tNTKsXWLnk8=";
        let salt = "c2FsdHNhbHRzYWx0";
        for malformed in [
            "pbkdf2_sha256$10006000$salt$AAAA".to_owned(),
            "pbkdf2_sha256$99999999999$salt$!!!".to_owned(),
            format!("pbkdf2_sha256$99999999999$${b64}"),
            format!("$argon2id$v=19$m=1048576,t=2,p=1${salt}"),
        ] {
            assert_eq!(
                h.check_stored(&malformed),
                Err(StoredHashError::Malformed),
                "{malformed}"
            );
            assert!(!PasswordHasher::is_well_formed(&malformed), "{malformed}");
        }
        for costly in [
            format!("pbkdf2_sha256$10006000$salt${b64}"),
            format!("pbkdf2_sha256$99999999999$salt${b64}"),
            format!(
                "$argon2id$v=19$m=1048576,t=2,p=1${salt}$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            ),
        ] {
            assert!(
                matches!(
                    h.check_stored(&costly),
                    Err(StoredHashError::OverCostCeiling(_))
                ),
                "{costly}"
            );
            assert!(PasswordHasher::is_well_formed(&costly), "{costly}");
        }
    }

    #[test]
    fn check_stored_says_why() {
        let h = fast();
        let b64 = "N/8/eXn1y0lb+ETtL4tXyfi53z3BXJ99tNTKsXWLnk8=";
        assert_eq!(h.check_stored("!unusable"), Ok(()));
        assert_eq!(
            h.check_stored(&format!("pbkdf2_sha256$1000$salt${b64}")),
            Ok(())
        );
        assert_eq!(
            h.check_stored("bcrypt_sha256$$2b$12$abc")
                .map_err(|e| e.to_string()),
            Err(
                "unsupported password hasher \"bcrypt_sha256\" (supported: pbkdf2_sha256, \
                 argon2, unusable)"
                    .into()
            )
        );
        assert_eq!(
            h.check_stored("pbkdf2_sha256$1000$salt$AAAA"),
            Err(StoredHashError::Malformed)
        );
        assert_eq!(
            h.check_stored(&format!("pbkdf2_sha256$99999999999$salt${b64}")),
            Err(StoredHashError::OverCostCeiling(
                "pbkdf2_sha256 with 99999999999 iterations (the ceiling is 2000000)".into()
            ))
        );
        let h = h
            .with_cost_limits(HashCostLimits {
                pbkdf2_iterations: 1000,
                ..HashCostLimits::default()
            })
            .expect("the hasher's own costs are within");
        assert!(
            h.check_stored(&format!("pbkdf2_sha256$1001$salt${b64}"))
                .is_err()
        );
        assert_eq!(h.cost_limits().pbkdf2_iterations, 1000);
        let too_low = HashCostLimits {
            argon2_memory_kib: 32,
            ..HashCostLimits::default()
        };
        assert!(matches!(
            h.with_cost_limits(too_low),
            Err(PasswordError::InvalidParams(_))
        ));
    }

    #[test]
    fn debug_shows_costs_not_the_dummy() {
        let h = fast();
        let dbg = format!("{h:?}");
        assert!(dbg.contains("m_cost: 64"), "{dbg}");
        assert!(!dbg.contains("argon2id"), "{dbg}");
    }

    #[tokio::test]
    async fn unknown_user_never_verifies() {
        let h = fast();
        assert!(!h.verify_or_dummy("anything", None).await.expect("runs"));
        assert!(!h.verify_or_dummy("", None).await.expect("runs"));
    }

    #[tokio::test]
    async fn too_long_password_is_rejected() {
        let h = fast();
        let long = "a".repeat(MAX_PASSWORD_LEN + 1);
        assert!(matches!(h.hash(&long).await, Err(PasswordError::TooLong)));
        let ok = "a".repeat(MAX_PASSWORD_LEN);
        let hash = h.hash(&ok).await.expect("hashes");
        assert!(h.verify(&ok, &hash).await.expect("runs"));
        assert!(!h.verify(&long, &hash).await.expect("runs"));
    }

    #[test]
    fn outside_a_runtime_is_an_error_not_a_panic() {
        let h = fast();
        let res = futures_lite_block_on(h.hash("x"));
        assert!(matches!(res, Err(PasswordError::Internal(_))), "{res:?}");
    }

    fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
