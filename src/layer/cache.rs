//! An opt-in cache of verified tokens for the layer ([`JwtAuthLayer::cache`]).
//!
//! [`JwtAuthLayer::cache`]: crate::JwtAuthLayer::cache
//!
//! A token that is presented again (a client calling an API several times with one access token)
//! is answered from memory: no base64, no MAC or signature, no JSON. What is still checked on
//! every hit: the token bytes (the whole token is compared, a hash match alone never counts),
//! `exp`, `nbf` and `iat` against the verifier's clock and leeway, and the verifier's
//! [`RevocationCheck`]. Failures are never cached.
//!
//! A hit hands out the cached claims shared (an [`Arc<C>`](std::sync::Arc), and
//! [`Claims<C>`](crate::Claims) in the layer's request extensions): it never copies them, so it
//! costs the same for simplejwt's five claims and for an 8 KiB identity-provider token.
//!
//! ```
//! use tower_jwt_auth::{Keys, SimpleJwtClaims, TokenCache, Verifier};
//!
//! let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let token = keys.encode(&serde_json::json!({
//!     "token_type": "access", "exp": now + 300, "iat": now,
//!     "jti": "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", "user_id": "1",
//! }))?;
//!
//! let cache = TokenCache::<SimpleJwtClaims>::new(Verifier::new(keys), 10_000);
//! let first = cache.verify(token.as_bytes())?; // verified, then cached
//! let again = cache.verify(token.as_bytes())?; // from the cache: the same claims, shared
//! assert!(std::sync::Arc::ptr_eq(&first.claims, &again.claims));
//! assert_eq!(again.claims.user_id.as_str(), "1");
//! assert_eq!(cache.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Trade-offs
//!
//! * Memory: up to `capacity` entries, each the token bytes plus the decoded claims (typically
//!   0.5–1 KiB for simplejwt tokens).
//! * A revoked token is rejected on its next use only if your [`RevocationCheck`] says so; the
//!   cache never remembers "not revoked". Revocation through an *async* store that the layer's
//!   [`check`](crate::JwtAuthLayer::check) consults is unaffected (the check runs on every request).
//! * A key removed from a fixed ring does not evict tokens it signed: build a new cache (a new
//!   layer) when you rotate keys out, or keep the capacity and token lifetime small. With a
//!   [`RemoteKeys`](crate::RemoteKeys) source (the `remote-keys` feature) every entry is
//!   verified again after the key set changed, so a key that left the set stops verifying.
//! * A cache belongs to one [`Verifier`] (one policy): it is built from it and never shared with
//!   another.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::de::DeserializeOwned;

use crate::error::{AuthError, AuthErrorKind};
use crate::verify::{Verified, Verifier};

/// Re-exported here, where it lived before it moved to [`crate::verify`].
pub use crate::verify::RevocationCheck;

/// An identity hasher for keys that are already keyed hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else in, for completeness.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

struct Entry<C> {
    seq: u64,
    /// The verifier's key-set generation when it verified: another generation means the key
    /// may be gone, so the token is verified again.
    generation: u64,
    token: Box<[u8]>,
    nbf: Option<i64>,
    value: Verified<Arc<C>>,
}

struct Shard<C> {
    map: HashMap<u64, Entry<C>, BuildHasherDefault<PreHashed>>,
    /// Insertion order, for FIFO eviction; may hold stale `(hash, seq)` pairs, bounded below.
    order: VecDeque<(u64, u64)>,
    next_seq: u64,
}

const SHARDS: usize = 16;

/// A bounded, sharded cache of verified tokens for one [`Verifier`]. See the
/// [module docs](crate::cache) for what is re-checked on a hit and the trade-offs.
///
/// Thread-safe (sharded mutexes held for a lookup or an insert, never during verification);
/// share it with an `Arc`. Eviction is first-in first-out per shard.
pub struct TokenCache<C> {
    verifier: Verifier,
    shards: Box<[Mutex<Shard<C>>]>,
    per_shard: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl<C> fmt::Debug for TokenCache<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("capacity", &self.capacity())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing in a shard can be left half-updated by a panic in our code; recover.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<C> TokenCache<C> {
    /// A cache of at most `capacity` verified tokens (rounded up to a multiple of 16, at least
    /// 16) for `verifier`.
    pub fn new(verifier: impl Into<Verifier>, capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS).max(1);
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    map: HashMap::default(),
                    order: VecDeque::new(),
                    next_seq: 0,
                })
            })
            .collect();
        Self {
            verifier: verifier.into(),
            shards,
            per_shard,
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// The verifier this cache answers for.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The maximum number of entries.
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    /// The number of cached tokens.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every cached token.
    pub fn clear(&self) {
        for s in self.shards.iter() {
            let mut s = lock(s);
            s.map.clear();
            s.order.clear();
        }
    }

    /// A keyed hash of the token's length and its last 64 bytes (the signature): cheap, and
    /// unpredictable to clients. Equality is always decided by comparing the whole token.
    #[inline]
    fn hash(&self, token: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_usize(token.len());
        h.write(&token[token.len().saturating_sub(64)..]);
        h.finish()
    }

    #[inline]
    fn shard(&self, hash: u64) -> &Mutex<Shard<C>> {
        // The high bits pick the shard; the map uses the whole hash.
        #[allow(clippy::cast_possible_truncation)]
        &self.shards[(hash >> 60) as usize % SHARDS]
    }
}

impl<C: DeserializeOwned> TokenCache<C> {
    /// Verifies `token` as the verifier would, answering from the cache when this exact token
    /// verified before (re-checking its times and revocation). The claims are shared with the
    /// cache: a hit never copies them.
    ///
    /// # Errors
    /// As [`Verifier::verify`].
    pub fn verify(&self, token: &[u8]) -> Result<Verified<Arc<C>>, AuthError> {
        self.lookup(token, Verified::clone)
    }

    /// As [`TokenCache::verify`], returning only the claims (the layer's path).
    #[inline]
    pub(crate) fn verify_claims(&self, token: &[u8]) -> Result<Arc<C>, AuthError> {
        self.lookup(token, |v| Arc::clone(&v.claims))
    }

    #[inline]
    fn lookup<T>(
        &self,
        token: &[u8],
        out: impl Fn(&Verified<Arc<C>>) -> T,
    ) -> Result<T, AuthError> {
        if token.len() > self.verifier.max_len() {
            // Never hash or compare more than the verifier would decode.
            return self
                .verifier
                .verify_bytes::<C>(token)
                .map(|v| out(&v.map(Arc::new)));
        }
        let hash = self.hash(token);
        {
            let mut shard = lock(self.shard(hash));
            if let Some(e) = shard.map.get(&hash)
                && *e.token == *token
                && e.generation == self.verifier.key_generation()
            {
                return match self.recheck(e) {
                    Ok(()) => Ok(out(&e.value)),
                    Err(err) => {
                        // Expired (or revoked) for good: drop it.
                        shard.map.remove(&hash);
                        Err(err)
                    }
                };
            }
        }
        // The generation before verifying: a key set swapped in meanwhile re-verifies next time.
        let generation = self.verifier.key_generation();
        let (value, nbf) = self.verifier.verify_with_nbf::<C>(token)?;
        let value = value.map(Arc::new);
        let result = out(&value);
        self.insert(hash, token, value, nbf, generation);
        Ok(result)
    }

    /// What can change after a token verified: the time and revocation.
    #[inline]
    fn recheck(&self, e: &Entry<C>) -> Result<(), AuthError> {
        // As the verifier's errors after a good signature: they carry the jti for logs.
        let fail = |k| self.verifier.error(k).with_jti(e.value.jti.as_deref());
        self.verifier
            .check_times(Some(e.value.exp), e.nbf, e.value.iat)
            .map_err(fail)?;
        if let Some(jti) = &e.value.jti
            && self.verifier.is_revoked(jti)
        {
            return Err(fail(AuthErrorKind::Revoked));
        }
        Ok(())
    }

    fn insert(
        &self,
        hash: u64,
        token: &[u8],
        value: Verified<Arc<C>>,
        nbf: Option<i64>,
        generation: u64,
    ) {
        let mut guard = lock(self.shard(hash));
        let shard = &mut *guard;
        while shard.map.len() >= self.per_shard || shard.order.len() >= 2 * self.per_shard {
            let Some((h, seq)) = shard.order.pop_front() else {
                break;
            };
            if shard.map.get(&h).is_some_and(|e| e.seq == seq) {
                shard.map.remove(&h);
            }
        }
        let seq = shard.next_seq;
        shard.next_seq = shard.next_seq.wrapping_add(1);
        shard.order.push_back((hash, seq));
        // A different token with the same hash is replaced (never confused with this one).
        shard.map.insert(
            hash,
            Entry {
                seq,
                generation,
                token: token.into(),
                nbf,
                value,
            },
        );
    }
}

/// Shared handle, so the layer and its services can hold one cache.
pub(crate) type SharedCache<C> = Option<Arc<TokenCache<C>>>;

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::RwLock;
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::verify::Clock;
    use crate::verify::Keys;
    use crate::verify::SimpleJwtClaims;

    const SECRET: &[u8] = b"cache-test-secret-of-at-least-32-bytes!!";
    const T0: i64 = 1_795_655_419;

    fn keys() -> Keys {
        Keys::hs256(SECRET).expect("key")
    }

    fn token(jti: &str, exp: i64) -> String {
        keys()
            .encode(&serde_json::json!({
                "token_type": "access", "exp": exp, "iat": T0, "jti": jti, "user_id": "1",
            }))
            .expect("encode")
    }

    struct Fixture {
        now: Arc<AtomicI64>,
        revoked: Arc<RwLock<HashSet<String>>>,
        verifications: Arc<AtomicI64>,
        cache: TokenCache<SimpleJwtClaims>,
    }

    fn fixture(capacity: usize) -> Fixture {
        let now = Arc::new(AtomicI64::new(T0));
        let revoked: Arc<RwLock<HashSet<String>>> = Arc::default();
        let verifications = Arc::new(AtomicI64::new(0));
        let (n, r) = (Arc::clone(&now), Arc::clone(&revoked));
        let v = Arc::clone(&verifications);
        let verifier = Verifier::new(keys())
            .clock(Clock::from_fn(move || n.load(Ordering::SeqCst)))
            .revocation(move |jti: &str| {
                // Counts every revocation lookup: one per full verification or cache hit.
                v.fetch_add(1, Ordering::SeqCst);
                r.read().map(|s| s.contains(jti)).unwrap_or(true)
            });
        Fixture {
            now,
            revoked,
            verifications,
            cache: TokenCache::new(verifier, capacity),
        }
    }

    #[test]
    fn hit_returns_the_same_claims_without_reverifying() {
        let f = fixture(64);
        let t = token("a1", T0 + 300);
        let first = f.cache.verify(t.as_bytes()).expect("verifies");
        assert_eq!(f.cache.len(), 1);
        let again = f.cache.verify(t.as_bytes()).expect("hit");
        assert_eq!(first.claims, again.claims);
        assert_eq!(again.jti.as_deref(), Some("a1"));
        assert_eq!(again.exp, T0 + 300);
        assert!(
            Arc::ptr_eq(&first.claims, &again.claims),
            "shared, not copied"
        );
        assert_eq!(f.cache.len(), 1);
        assert_eq!(f.verifications.load(Ordering::SeqCst), 2);
        assert!(Arc::ptr_eq(
            &f.cache.verify_claims(t.as_bytes()).expect("hit"),
            &first.claims
        ));
    }

    #[test]
    fn a_cached_token_expires() {
        let f = fixture(64);
        let t = token("a2", T0 + 300);
        f.cache.verify(t.as_bytes()).expect("verifies");
        f.now.store(T0 + 299, Ordering::SeqCst);
        f.cache.verify(t.as_bytes()).expect("still valid");
        f.now.store(T0 + 300, Ordering::SeqCst);
        let err = f.cache.verify(t.as_bytes()).expect_err("expired");
        assert_eq!(err.kind(), AuthErrorKind::Expired);
        assert_eq!(f.cache.len(), 0, "an expired entry is dropped");
        // And it stays expired: the full verifier agrees.
        let err = f.cache.verify(t.as_bytes()).expect_err("expired");
        assert_eq!(err.kind(), AuthErrorKind::Expired);
    }

    #[test]
    fn leeway_applies_to_hits() {
        let now = Arc::new(AtomicI64::new(T0));
        let n = Arc::clone(&now);
        let verifier = Verifier::new(keys())
            .clock(Clock::from_fn(move || n.load(Ordering::SeqCst)))
            .leeway(10)
            .expect("leeway");
        let cache = TokenCache::<SimpleJwtClaims>::new(verifier, 16);
        let t = token("l1", T0 + 300);
        cache.verify(t.as_bytes()).expect("verifies");
        now.store(T0 + 309, Ordering::SeqCst);
        cache.verify(t.as_bytes()).expect("within leeway");
        now.store(T0 + 310, Ordering::SeqCst);
        assert_eq!(
            cache.verify(t.as_bytes()).expect_err("expired").kind(),
            AuthErrorKind::Expired
        );
    }

    #[test]
    fn revoked_after_caching_is_rejected() {
        let f = fixture(64);
        let t = token("a3", T0 + 300);
        f.cache.verify(t.as_bytes()).expect("verifies");
        f.revoked.write().expect("lock").insert("a3".into());
        let err = f.cache.verify(t.as_bytes()).expect_err("revoked");
        assert_eq!(err.kind(), AuthErrorKind::Revoked);
        assert_eq!(f.cache.len(), 0);
        // The verifier itself rejects it too, so it is never re-cached.
        let err = f.cache.verify(t.as_bytes()).expect_err("revoked");
        assert_eq!(err.kind(), AuthErrorKind::Revoked);
        assert_eq!(f.cache.len(), 0);
    }

    #[test]
    fn capacity_is_a_hard_bound() {
        let f = fixture(32);
        assert_eq!(f.cache.capacity(), 32);
        let tokens: Vec<String> = (0..500)
            .map(|i| token(&format!("c{i}"), T0 + 300))
            .collect();
        for t in &tokens {
            f.cache.verify(t.as_bytes()).expect("verifies");
            assert!(f.cache.len() <= 32);
        }
        assert!(!f.cache.is_empty());
        // Re-verifying many times does not grow the internal queues either.
        for _ in 0..10 {
            for t in &tokens[..100] {
                f.cache.verify(t.as_bytes()).expect("verifies");
            }
        }
        for s in f.cache.shards.iter() {
            let s = lock(s);
            assert!(s.map.len() <= f.cache.per_shard);
            assert!(s.order.len() <= 2 * f.cache.per_shard);
        }
        // Every token still verifies (evicted ones by the full path).
        for t in &tokens {
            f.cache.verify(t.as_bytes()).expect("verifies");
        }
    }

    #[test]
    fn failures_are_never_cached() {
        let f = fixture(64);
        let good = token("a4", T0 + 300);
        // A bad signature: same length, last character changed.
        let mut bad = good.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'A' { b'B' } else { b'A' };
        for _ in 0..3 {
            assert_eq!(
                f.cache.verify(&bad).expect_err("bad").kind(),
                AuthErrorKind::BadSignature
            );
        }
        // Expired, not yet cached.
        let old = token("a5", T0 - 1);
        assert_eq!(
            f.cache.verify(old.as_bytes()).expect_err("expired").kind(),
            AuthErrorKind::Expired
        );
        assert_eq!(
            f.cache.verify(b"not.a.jwt").expect_err("malformed").kind(),
            AuthErrorKind::Malformed
        );
        assert_eq!(f.cache.len(), 0);
        // The good token is cached, and its tampered twin still fails after that.
        f.cache.verify(good.as_bytes()).expect("verifies");
        assert_eq!(
            f.cache.verify(&bad).expect_err("bad").kind(),
            AuthErrorKind::BadSignature
        );
        assert_eq!(f.cache.len(), 1);
    }

    #[test]
    fn a_prefix_or_extension_of_a_cached_token_is_not_a_hit() {
        let f = fixture(64);
        let t = token("a6", T0 + 300);
        f.cache.verify(t.as_bytes()).expect("verifies");
        let longer = format!("{t}x");
        assert!(f.cache.verify(longer.as_bytes()).is_err());
        assert!(f.cache.verify(&t.as_bytes()[1..]).is_err());
        assert!(f.cache.verify(&t.as_bytes()[..t.len() - 1]).is_err());
    }

    #[test]
    fn concurrent_use_is_consistent_and_bounded() {
        let f = Arc::new(fixture(64));
        let tokens: Arc<Vec<String>> = Arc::new(
            (0..200)
                .map(|i| token(&format!("t{i}"), T0 + 300))
                .collect(),
        );
        std::thread::scope(|s| {
            for k in 0..4 {
                let (f, tokens) = (Arc::clone(&f), Arc::clone(&tokens));
                s.spawn(move || {
                    for round in 0..5 {
                        for (i, t) in tokens.iter().enumerate().skip(k + round) {
                            let v = f.cache.verify(t.as_bytes()).expect("verifies");
                            assert_eq!(v.jti.as_deref(), Some(format!("t{i}").as_str()));
                        }
                    }
                });
            }
        });
        assert!(f.cache.len() <= 64);
    }
}
