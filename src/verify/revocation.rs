//! [`RevocationCheck`]: the synchronous "is this `jti` revoked?" question the verifier (and the
//! layer's [`TokenCache`](crate::TokenCache)) asks on every verification that carries a `jti`.

use std::fmt;
use std::sync::Arc;

/// A synchronous revocation check, consulted by [`Verifier`](crate::Verifier) on every verification that carries
/// a `jti` (configure it with [`Verifier::revocation`](crate::Verifier::revocation)) and by [`TokenCache`](crate::TokenCache) on every hit.
///
/// It must be fast and must not block: keep the revoked ids in memory (a `HashSet` behind a lock,
/// refreshed from your store). Implemented for closures `Fn(&str) -> bool`.
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::{Arc, RwLock};
/// use tower_jwt_auth::{Keys, Verifier};
///
/// let revoked: Arc<RwLock<HashSet<String>>> = Arc::default();
/// let r = Arc::clone(&revoked);
/// let verifier = Verifier::new(Keys::hs256([7u8; 32])?).revocation(move |jti: &str| {
///     r.read().map(|set| set.contains(jti)).unwrap_or(true) // a poisoned lock fails closed
/// });
/// revoked.write().unwrap().insert("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f".into());
/// # let _ = verifier;
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// Whether the token with this `jti` is revoked.
    fn is_revoked(&self, jti: &str) -> bool;
}

impl<F> RevocationCheck for F
where
    F: Fn(&str) -> bool + Send + Sync + 'static,
{
    #[inline]
    fn is_revoked(&self, jti: &str) -> bool {
        self(jti)
    }
}

/// The configured [`RevocationCheck`], shared.
#[derive(Clone)]
pub(crate) struct Revocation(pub(crate) Arc<dyn RevocationCheck>);

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevocationCheck(..)")
    }
}
