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

/// The highest `pbkdf2_sha256` iteration count verified (Django 5.2 uses 1 000 000). A stored
/// hash asking for more is treated as unusable rather than burning CPU.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// OWASP's argon2id memory cost, in KiB (19 MiB).
pub const ARGON2_MEMORY_KIB: u32 = 19_456;
/// OWASP's argon2id iteration count.
pub const ARGON2_ITERATIONS: u32 = 2;
/// OWASP's argon2id parallelism.
pub const ARGON2_PARALLELISM: u32 = 1;

// Caps on the cost of a stored argon2 hash we agree to verify (a hash is data; it must not be
// able to ask for gigabytes of memory or minutes of CPU).
const MAX_STORED_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
const MAX_STORED_ARGON2_ITERATIONS: u32 = 64;
const MAX_STORED_ARGON2_PARALLELISM: u32 = 64;

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
}

impl fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("m_cost", &self.inner.params.m_cost())
            .field("t_cost", &self.inner.params.t_cost())
            .field("p_cost", &self.inner.params.p_cost())
            .field("max_concurrent", &self.inner.max_concurrent)
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
        if memory_kib > MAX_STORED_ARGON2_MEMORY_KIB
            || iterations > MAX_STORED_ARGON2_ITERATIONS
            || parallelism > MAX_STORED_ARGON2_PARALLELISM
        {
            return Err(PasswordError::InvalidParams(
                "costs above what stored hashes may ask for".into(),
            ));
        }
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
            }),
        }
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
        let parsed = hash.map(Stored::parse);
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

    /// Whether `hash` is in a form [`verify`](Self::verify) can check (or is a Django unusable
    /// password): what stores validate when they load or import users.
    pub fn is_supported(hash: &str) -> bool {
        match HashKind::of(hash) {
            Some(HashKind::Unusable) => true,
            Some(_) => Stored::parse(hash).is_some(),
            None => false,
        }
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
    fn parse(hash: &str) -> Option<Self> {
        match HashKind::of(hash)? {
            HashKind::Unusable => None,
            HashKind::Argon2 => Self::parse_argon2(hash),
            HashKind::DjangoArgon2 => Self::parse_argon2(&hash[DJANGO_ARGON2_PREFIX.len() - 1..]),
            HashKind::DjangoPbkdf2Sha256 => {
                let mut parts = hash[DJANGO_PBKDF2_PREFIX.len()..].split('$');
                let (Some(iterations), Some(salt), Some(b64), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return None;
                };
                // Digits only: no sign, no spaces, no leading `+`.
                if iterations.is_empty() || !iterations.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let iterations: u32 = iterations.parse().ok()?;
                if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS || salt.is_empty() {
                    return None;
                }
                let hash = STANDARD.decode(b64).ok()?;
                // Django's PBKDF2PasswordHasher always derives SHA-256's 32 bytes.
                if hash.len() != 32 {
                    return None;
                }
                Some(Self::Pbkdf2 {
                    iterations,
                    salt: salt.to_owned(),
                    hash,
                })
            }
        }
    }

    fn parse_argon2(phc: &str) -> Option<Self> {
        let parsed = PasswordHash::new(phc).ok()?;
        Algorithm::try_from(parsed.algorithm).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        if params.m_cost() > MAX_STORED_ARGON2_MEMORY_KIB
            || params.t_cost() > MAX_STORED_ARGON2_ITERATIONS
            || params.p_cost() > MAX_STORED_ARGON2_PARALLELISM
        {
            return None;
        }
        parsed.salt?;
        parsed.hash?;
        Some(Self::Argon2(phc.to_owned()))
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
        for it in ["0", "10000001", "4294967296", "-1", "+5", " 5", "", "1e3"] {
            assert!(
                Stored::parse(&format!("pbkdf2_sha256${it}$salt${h}")).is_none(),
                "{it}"
            );
        }
        assert!(Stored::parse(&format!("pbkdf2_sha256$10000000$salt${h}")).is_some());
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
