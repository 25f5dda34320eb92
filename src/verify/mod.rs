//! The verification core: a pure, synchronous function from a compact JWS to claims or a typed
//! [`AuthError`]. The layer, the refresh, verify and blacklist services all share it.
//!
//! ```
//! use tower_jwt_auth::{AuthErrorKind, Keys, SimpleJwtClaims, Verifier};
//!
//! let verifier = Verifier::simplejwt(Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?);
//! let err = verifier.verify::<SimpleJwtClaims>("not.a.jwt").unwrap_err();
//! assert_eq!(err.kind(), AuthErrorKind::Malformed);
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```
//!
//! Three policies: [`Verifier::simplejwt`] (simplejwt's access tokens; what [`Verifier::new`]
//! means), [`Verifier::jwt`] (any RFC 7519 token, your own claims) and
//! [`Verifier::access_token`] (an OAuth 2.0 authorization server's access tokens, RFC 9068). See
//! [`Verifier`] for what each requires.
//!
//! What it checks, in order (simplejwt's order, so the same token gets the same message), and
//! the file of this module that does it ([`Verifier::verify`] runs the steps in `mod.rs`):
//!
//! 1. length (at most [`Verifier::max_token_len`], default 8 KiB), before any decoding;
//! 2. exactly three base64url segments without padding (`segments.rs`); the header a JSON
//!    object (`header.rs`);
//! 3. header parameters that are never honoured (`jwk`, `jku`, `x5u`, `x5c`, `crit`, `zip`, `b64`,
//!    `cty: JWT` or `application/jwt`) reject the token; nothing is ever fetched (`header.rs`);
//! 4. the key is selected by `kid` (or the ring's default; in a ring where no key has a `kid`, by
//!    the token's `alg`, see [`Keys`]) and the token's `alg` must be exactly that key's algorithm
//!    (so `none`, in any spelling, never verifies) (`header.rs`, `keys.rs`);
//! 5. the signature, over the received bytes, compared in constant time (`keys.rs`);
//! 6. the payload a JSON object; registered claims of the wrong type are invalid, never absent;
//!    duplicate registered claims are rejected (`payload/`, `registered.rs`);
//! 7. `exp` (expired when `exp <= now - leeway`), `nbf` and `iat` (not after `now + leeway`),
//!    `aud` and `iss` (`policy.rs`: `Policy::check_times`, `Policy::check_claims`);
//! 8. `exp` present, then what the policy requires: `jti` present, token type present and
//!    accepted, user id present (simplejwt's policy requires all three), then the
//!    [`RevocationCheck`] (`policy.rs`);
//! 9. the payload into your claims type `C` (`payload/`: one pass for `C` and the registered
//!    claims together).
//!
//! The types you hold: [`Verifier`] (keys + policy), [`Keys`]/[`Key`], [`Verified`],
//! [`Clock`], the claim types [`SimpleJwtClaims`], [`UserId`], [`TokenType`].

pub(crate) mod claims;
mod clock;
mod header;
mod issuers;
pub(crate) mod keys;
pub(crate) mod payload;
mod policy;
mod publish;
pub(crate) mod registered;
#[cfg(feature = "remote-keys")]
pub mod remote;
mod revocation;
mod segments;
mod source;

use std::borrow::Cow;
use std::sync::Arc;

use serde::de::DeserializeOwned;

pub use self::claims::{SimpleJwtClaims, TokenType, UserId};
pub use self::clock::Clock;
pub use self::keys::{Algorithm, Key, Keys};
pub use self::policy::DEFAULT_MAX_TOKEN_LEN;
#[cfg(feature = "remote-keys")]
pub use self::remote::{BoxError, FetchRequest, RemoteKeys, RemoteKeysBuilder, RemoteKeysError};
pub use self::revocation::RevocationCheck;
pub use self::source::KeySource;

use self::payload::Outcome;
use self::policy::Policy;
use self::registered::{Registered, parse_registered};
use self::revocation::Revocation;
use self::segments::{Scratch, b64url_decode};
use crate::error::{AuthError, AuthErrorKind, ConfigError};

/// The largest leeway [`Verifier::leeway`] accepts, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// Verifies tokens: keys plus the validation policy. Cheap to clone (shared).
///
/// # Policies
///
/// Pick the constructor for the tokens you receive; each is a starting point that the setters
/// below adjust.
///
/// | constructor | for | requires | user id |
/// |---|---|---|---|
/// | [`Verifier::simplejwt`] (= [`Verifier::new`], `From<Keys>`) | tokens of simplejwt or of this crate's token endpoints | `exp`, `jti`, `token_type: access` | `user_id`, required |
/// | [`Verifier::jwt`] | any RFC 7519 token: your own, PyJWT's, jsonwebtoken's | `exp` | `sub`, if present |
/// | [`Verifier::access_token`] | an OAuth 2.0 authorization server's access tokens (RFC 9068) | `exp`, `iss` and `aud` equal to yours, `sub` | `sub`, required |
///
/// Every policy verifies the signature with a key the server pinned to one algorithm, requires
/// `exp` (expired when `exp <= now - leeway`), enforces `nbf` and `iat` (not after
/// `now + leeway`), refuses registered claims of the wrong JSON type, checks `aud` and `iss`
/// when configured, and refuses tokens over 8 KiB before decoding. They differ only in which
/// claims they require beyond that, and in the user id claim.
///
/// Common settings (all policies):
/// * leeway 0 (capped at [`MAX_LEEWAY_SECS`]);
/// * no audience or issuer configured (but in [`Verifier::access_token`]): `iss` is ignored, and
///   a token that carries an `aud` is rejected (RFC 7519 §4.1.3: a recipient that does not
///   identify with the audience MUST reject), so configure [`audience`](Self::audience) for
///   tokens that carry one;
/// * tokens over 8 KiB rejected before decoding.
///
/// Every setter returns the changed verifier, so a policy reads as one chain; hand it to
/// [`JwtAuthLayer::new`](crate::JwtAuthLayer::new) (which also takes bare [`Keys`], meaning
/// [`Verifier::simplejwt`]):
///
/// ```
/// use tower_jwt_auth::{Clock, JwtAuthLayer, Keys, SimpleJwtClaims, TokenType, Verifier};
///
/// let verifier = Verifier::simplejwt(Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?)
///     .leeway(5)? // seconds of clock skew, at most MAX_LEEWAY_SECS
///     .audience(["my-api"]) // `aud` must be (or contain) one of these
///     .issuer(["https://auth.example.com"]) // `iss` must be one of these
///     .user_id_claim("sub") // simplejwt's USER_ID_CLAIM
///     .token_types([TokenType::ACCESS, TokenType::SLIDING])
///     .clock(Clock::fixed(1_795_655_419)); // tests: a stopped clock
/// let layer = JwtAuthLayer::<SimpleJwtClaims>::new(verifier.clone());
/// # let _ = layer;
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
///
/// See the [module docs](crate::verify) for the order of checks.
#[derive(Clone, Debug)]
pub struct Verifier {
    inner: Arc<Policy>,
}

/// A verified token: your claims plus the registered claims the services need.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Verified<C> {
    /// Your claims type, deserialized from the payload.
    pub claims: C,
    /// `exp`, seconds since the epoch.
    pub exp: i64,
    /// `iat`, if present.
    pub iat: Option<i64>,
    /// `jti`, if present.
    pub jti: Option<String>,
    /// The token type claim, if present.
    pub token_type: Option<String>,
    /// The user id claim, if present and usable.
    pub user_id: Option<UserId>,
    /// `refresh_exp` (sliding tokens), if present.
    pub refresh_exp: Option<i64>,
}

impl<C> Verified<C> {
    /// The same metadata with other claims.
    pub fn map<D>(self, f: impl FnOnce(C) -> D) -> Verified<D> {
        Verified {
            claims: f(self.claims),
            exp: self.exp,
            iat: self.iat,
            jti: self.jti,
            token_type: self.token_type,
            user_id: self.user_id,
            refresh_exp: self.refresh_exp,
        }
    }
}

impl Verifier {
    /// simplejwt's policy: the same as [`Verifier::simplejwt`].
    ///
    /// `new` keeps meaning simplejwt's policy (the crate's token endpoints and every simplejwt
    /// deployment rely on it: a weaker default would silently accept refresh tokens as access
    /// tokens). For a token of your own use [`Verifier::jwt`]; for an identity provider's,
    /// [`Verifier::access_token`].
    ///
    /// ```
    /// use tower_jwt_auth::{Keys, Verifier};
    ///
    /// let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
    /// let v = Verifier::new(keys);
    /// assert_eq!(v.accepted_token_types().map(<[_]>::len), Some(1)); // `access` only
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    pub fn new(keys: Keys) -> Self {
        Self::simplejwt(keys)
    }

    /// simplejwt's policy, for the tokens `djangorestframework-simplejwt` (and this crate's
    /// [`Issuer`](crate::token::Issuer)) mints as access tokens:
    /// * `token_type` must be `access` (a refresh token is not a bearer token, RFC 8725 §3.12);
    /// * `exp` and `jti` required, and a usable `user_id` (a non-empty string or an integer);
    /// * plus the checks every policy makes (see the [type docs](Verifier#policies)).
    ///
    /// Its rejections answer exactly as simplejwt does: `"Token has no id"`, `"Token has no
    /// type"`, `"Token has wrong type"`, `"Token contained no recognizable user
    /// identification"`.
    ///
    /// ```
    /// use tower_jwt_auth::{Keys, SimpleJwtClaims, Verifier};
    ///
    /// let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
    /// let verifier = Verifier::simplejwt(keys.clone());
    /// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    /// let token = keys.encode(&serde_json::json!({
    ///     "token_type": "access", "exp": now + 300, "iat": now,
    ///     "jti": "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", "user_id": 1,
    /// }))?;
    /// let verified = verifier.verify::<SimpleJwtClaims>(&token).expect("a simplejwt access token");
    /// assert_eq!(verified.claims.user_id.to_string(), "1");
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    pub fn simplejwt(keys: impl Into<KeySource>) -> Self {
        Self {
            inner: Arc::new(Policy::simplejwt(keys.into())),
        }
    }

    /// The generic policy, for any RFC 7519 token (your own, PyJWT's, jsonwebtoken's): the
    /// checks every policy makes and nothing of simplejwt's layout.
    /// * the signature, with the key's pinned algorithm;
    /// * `exp` required; `nbf` and `iat` enforced when present;
    /// * `iss` and `aud` checked once [`issuer`](Self::issuer) and [`audience`](Self::audience)
    ///   are set; without an audience, a token that carries `aud` is rejected (RFC 7519 §4.1.3);
    /// * no `token_type`, `jti` or user id required; `sub`, when present, must be a string (as
    ///   RFC 7519 and PyJWT require) and is the user id ([`Verified::user_id`]).
    ///
    /// `C` is your own claims struct. Add requirements with the setters
    /// ([`require_user_id`](Self::require_user_id), [`require_jti`](Self::require_jti),
    /// [`token_types`](Self::token_types)).
    ///
    /// ```
    /// use serde::Deserialize;
    /// use tower_jwt_auth::{Keys, Verifier};
    ///
    /// #[derive(Clone, Debug, Deserialize)]
    /// struct MyClaims {
    ///     sub: String,
    ///     exp: u64,
    ///     #[serde(default)]
    ///     role: Option<String>,
    /// }
    ///
    /// let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
    /// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    /// // As PyJWT would mint it: jwt.encode({"sub": "alice", "iat": now, "exp": now + 300}, secret)
    /// let token = keys.encode(&serde_json::json!({"sub": "alice", "iat": now, "exp": now + 300}))?;
    ///
    /// let verified = Verifier::jwt(keys).verify::<MyClaims>(&token).expect("a token of one's own");
    /// assert_eq!(verified.claims.sub, "alice");
    /// assert_eq!(verified.user_id.map(|u| u.to_string()).as_deref(), Some("alice"));
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    pub fn jwt(keys: impl Into<KeySource>) -> Self {
        Self {
            inner: Arc::new(Policy::jwt(keys.into())),
        }
    }

    /// The OAuth 2.0 access-token policy (RFC 9068 §4), for a resource server that accepts an
    /// authorization server's (an identity provider's) access tokens: [`Verifier::jwt`] plus
    /// * `iss` required and equal to `issuer`;
    /// * `aud` required and equal to (or, as an array, containing) `audience`;
    /// * `sub` required, a non-empty string: the user id ([`Verified::user_id`]).
    ///
    /// RFC 9068 §2.2 also lists `iat`, `jti` and `client_id` as required; identity providers
    /// differ on them, so they are not required here (`iat` is still enforced when present; add
    /// [`require_jti(true)`](Self::require_jti) if your provider sends one). More issuers or
    /// audiences: [`issuer`](Self::issuer) and [`audience`](Self::audience) replace the lists.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, Key, Keys, Verifier};
    ///
    /// # let pem = include_str!("../../benches/fixtures/rsa_public.pem");
    /// // The provider's public key: PEM (no kid needed) or its JWKS (`Keys::from_jwks_json`).
    /// let keys = Keys::new(Key::rsa_pem(Algorithm::RS256, pem)?);
    /// let verifier = Verifier::access_token(keys, "https://idp.example.com/", "https://api.example.com")
    ///     .leeway(30)?;
    /// # let _ = verifier;
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    pub fn access_token(
        keys: impl Into<KeySource>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Policy::access_token(
                keys.into(),
                issuer.into(),
                audience.into(),
            )),
        }
    }

    /// Several issuers in one verifier (multi-tenant): the token's `iss` selects the verifier
    /// (keys and policy) of that issuer, which verifies the whole token. `iss` is read from the
    /// payload before the signature is checked, only to choose; a token without `iss`, or of
    /// another issuer, is refused (`InvalidIssuer`).
    ///
    /// The returned verifier's own settings apply before the choice (the length cap) and on
    /// [`TokenCache`](crate::TokenCache) hits (clock and leeway; a cached token counts as
    /// revoked if any issuer's [`RevocationCheck`] says so).
    ///
    /// ```
    /// use tower_jwt_auth::{Keys, Verifier};
    ///
    /// let a = Keys::hs256(b"tenant-a-secret-of-at-least-32-bytes!!")?;
    /// let b = Keys::hs256(b"tenant-b-secret-of-at-least-32-bytes!!")?;
    /// let verifier = Verifier::issuers([
    ///     ("https://a.example.com", Verifier::access_token(a.clone(), "https://a.example.com", "api")),
    ///     ("https://b.example.com", Verifier::access_token(b, "https://b.example.com", "api")),
    /// ])?;
    /// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    /// let token = a.encode(&serde_json::json!({
    ///     "iss": "https://a.example.com", "aud": "api", "sub": "alice", "exp": now + 60,
    /// }))?;
    /// assert!(verifier.verify::<serde_json::Value>(&token).is_ok());
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an empty list or an issuer named twice.
    pub fn issuers<I, S>(verifiers: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (S, Verifier)>,
        S: Into<String>,
    {
        let list: Vec<(Box<str>, Verifier)> = verifiers
            .into_iter()
            .map(|(i, v)| (i.into().into_boxed_str(), v))
            .collect();
        let Some((_, first)) = list.first() else {
            return Err(ConfigError::Invalid("no issuers".into()));
        };
        for (i, (iss, _)) in list.iter().enumerate() {
            if list[..i].iter().any(|(o, _)| o == iss) {
                return Err(ConfigError::Invalid(format!("issuer {iss:?} named twice")));
            }
        }
        let mut policy = Policy::jwt(first.keys().clone().into());
        policy.by_issuer = Some(issuers::ByIssuer(list.into_boxed_slice()));
        Ok(Self {
            inner: Arc::new(policy),
        })
    }

    fn edit(mut self, f: impl FnOnce(&mut Policy)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// The keys: the fixed ring, or for a [`RemoteKeys`] source its ring when this verifier was
    /// built (verifications use the source's current ring: see
    /// [`remote_keys`](Self::remote_keys)).
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// The remote key source, if the verifier was built from one.
    #[cfg(feature = "remote-keys")]
    pub fn remote_keys(&self) -> Option<&RemoteKeys> {
        self.inner.remote.as_ref()
    }

    /// RFC 9068 §4: require the header's `typ` to be `at+jwt` (or `application/at+jwt`,
    /// compared case-insensitively), so an ID token or another JWT of the same issuer is not
    /// taken for an access token. Default `false` (many providers send `typ: JWT`).
    #[must_use]
    pub fn require_at_jwt_typ(self, yes: bool) -> Self {
        self.edit(|p| p.require_at_jwt = yes)
    }

    /// The key-set generation: 0 for fixed keys, the remote source's otherwise. The cache
    /// re-verifies entries of another generation.
    #[inline]
    pub(crate) fn key_generation(&self) -> u64 {
        if let Some(by) = &self.inner.by_issuer {
            return by
                .0
                .iter()
                .fold(0u64, |g, (_, v)| g.wrapping_add(v.key_generation()));
        }
        #[cfg(feature = "remote-keys")]
        if let Some(r) = &self.inner.remote {
            return r.generation();
        }
        0
    }

    /// Accept only these token types (the `token_type` claim, compared exactly). Default:
    /// `[TokenType::ACCESS]` for [`Verifier::simplejwt`], any (none required) for the other
    /// policies. The refresh service uses `[TokenType::REFRESH]`.
    #[must_use]
    pub fn token_types(self, types: impl IntoIterator<Item = TokenType>) -> Self {
        let types: Arc<[TokenType]> = types.into_iter().collect();
        self.edit(|p| p.types = Some(types))
    }

    /// Accept any token type, including none (simplejwt's `UntypedToken`, used by verify).
    ///
    /// # ⚠️ Warning
    /// A bearer-token layer configured this way accepts refresh tokens as access tokens
    /// (RFC 8725 §3.12). Use it for the verify endpoint, not for protecting routes.
    #[must_use]
    pub fn any_token_type(self) -> Self {
        self.edit(|p| p.types = None)
    }

    /// The token types accepted, or `None` if any is.
    pub fn accepted_token_types(&self) -> Option<&[TokenType]> {
        self.inner.types.as_deref()
    }

    /// Clock-skew allowance for `exp`, `nbf` and `iat`, in seconds. Default 0.
    ///
    /// # Errors
    /// [`ConfigError::LeewayTooLarge`] above [`MAX_LEEWAY_SECS`].
    pub fn leeway(self, seconds: u64) -> Result<Self, ConfigError> {
        if seconds > MAX_LEEWAY_SECS {
            return Err(ConfigError::LeewayTooLarge {
                max_seconds: MAX_LEEWAY_SECS,
            });
        }
        #[allow(clippy::cast_possible_wrap)]
        Ok(self.edit(|p| p.leeway = seconds as i64))
    }

    /// Require `aud` to be (or, as an array, contain) one of these values. simplejwt's `AUDIENCE`.
    /// Replaces the list (also the one [`Verifier::access_token`] was given).
    #[must_use]
    pub fn audience<I, S>(self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let v: Vec<String> = audiences.into_iter().map(Into::into).collect();
        self.edit(|p| p.audience = Some(v))
    }

    /// Require `iss` to equal one of these values. simplejwt's `ISSUER`. Replaces the list (also
    /// the one [`Verifier::access_token`] was given).
    #[must_use]
    pub fn issuer<I, S>(self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let v: Vec<String> = issuers.into_iter().map(Into::into).collect();
        self.edit(|p| p.issuer = Some(v))
    }

    /// Whether `jti` is required (default `true` for [`Verifier::simplejwt`], as simplejwt's
    /// `JTI_CLAIM = "jti"`; `false` for the other policies).
    ///
    /// # ⚠️ Warning
    /// Without a `jti` a token cannot be revoked or denylisted individually (RFC 9700 §4.14).
    #[must_use]
    pub fn require_jti(self, required: bool) -> Self {
        self.edit(|p| p.require_jti = required)
    }

    /// Whether a usable user id claim is required (default `true` for [`Verifier::simplejwt`]
    /// and [`Verifier::access_token`], `false` for [`Verifier::jwt`]).
    #[must_use]
    pub fn require_user_id(self, required: bool) -> Self {
        self.edit(|p| p.require_user_id = required)
    }

    /// The user id claim's name (simplejwt's `USER_ID_CLAIM`; default `user_id` for
    /// [`Verifier::simplejwt`], `sub` for the other policies). `sub` works
    /// (it must then be a string, as PyJWT requires); the names of the claims the verifier
    /// checks (`exp`, `nbf`, `iat`, `aud`, `iss`, `refresh_exp`) are always read as themselves,
    /// so configuring one of them here, or for the token type or `jti`, just fails every token.
    #[must_use]
    pub fn user_id_claim(self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        self.edit(|p| p.names.user_id = name)
    }

    /// The token type claim's name (simplejwt's `TOKEN_TYPE_CLAIM`, default `token_type`).
    #[must_use]
    pub fn token_type_claim(self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        self.edit(|p| p.names.token_type = name)
    }

    /// The token id claim's name (simplejwt's `JTI_CLAIM`, default `jti`).
    #[must_use]
    pub fn jti_claim(self, name: impl Into<Cow<'static, str>>) -> Self {
        let name = name.into();
        self.edit(|p| p.names.jti = name)
    }

    /// The maximum token length in bytes, checked before any decoding (default 8 KiB).
    ///
    /// # ⚠️ Warning
    /// The cap bounds the work an unauthenticated request can cause (CVE-2025-30204); raise it
    /// only as far as your largest real token.
    #[must_use]
    pub fn max_token_len(self, bytes: usize) -> Self {
        self.edit(|p| p.max_len = bytes)
    }

    /// The clock (default: the system clock).
    #[must_use]
    pub fn clock(self, clock: Clock) -> Self {
        self.edit(|p| p.clock = clock)
    }

    /// Consult `check` on every verification of a token that has a `jti` (after every other claim
    /// check): a revoked token fails with [`AuthErrorKind::Revoked`]. [`TokenCache`] consults it
    /// on every hit too. Without one (the default) nothing is looked up.
    ///
    /// [`TokenCache`]: crate::TokenCache
    #[must_use]
    pub fn revocation(self, check: impl RevocationCheck) -> Self {
        let r = Revocation(Arc::new(check));
        self.edit(|p| p.revocation = Some(r))
    }

    /// The current time by this verifier's clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Verifies `token` and deserializes its payload into `C`, returning the registered claims
    /// alongside.
    ///
    /// # Errors
    /// An [`AuthError`] whose [`kind`](AuthError::kind) says which check failed.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<Verified<C>, AuthError> {
        self.verify_bytes(token.as_bytes())
    }

    /// As [`Verifier::verify`], for a token as raw header bytes.
    ///
    /// # Errors
    /// As [`Verifier::verify`].
    pub fn verify_bytes<C: DeserializeOwned>(
        &self,
        token: &[u8],
    ) -> Result<Verified<C>, AuthError> {
        self.verify_with_nbf(token).map(|(verified, _nbf)| verified)
    }

    /// Verifies and returns only `C`: the layer's allocation-light path.
    #[inline]
    pub(crate) fn verify_claims<C: DeserializeOwned>(&self, token: &[u8]) -> Result<C, AuthError> {
        self.verify_with(token, |_| ()).map(|(c, ())| c)
    }

    /// The core. `meta` reads what the caller needs from the registered claims while the decoded
    /// payload is still borrowed.
    pub(crate) fn verify_with<C, T>(
        &self,
        token: &[u8],
        meta: impl FnOnce(&Registered<'_>) -> T,
    ) -> Result<(C, T), AuthError>
    where
        C: DeserializeOwned,
    {
        let p = &*self.inner;
        let fail = |kind: AuthErrorKind| -> AuthError {
            match &p.types {
                Some(t) => AuthError::new(kind).with_accepted(t),
                None => AuthError::new(kind),
            }
        };

        // 1. Bounded cost before anything else (RFC 8725 §3.x, CVE-2025-30204).
        if token.len() > p.max_len {
            return Err(fail(AuthErrorKind::TooLong));
        }

        // Several issuers: `iss` picks the verifier that does everything else.
        if let Some(by) = &p.by_issuer {
            return by.pick(token).map_err(fail)?.verify_with(token, meta);
        }

        // 2. Exactly three segments; no allocation.
        let Some(segments::Segments {
            header: h64,
            payload: p64,
            signature: s64,
            signing_input,
        }) = segments::split(token)
        else {
            return Err(fail(AuthErrorKind::Malformed));
        };

        // The ring: the fixed one, or the remote source's current one (an atomic load).
        #[cfg(feature = "remote-keys")]
        let remote_ring;
        #[cfg(feature = "remote-keys")]
        let keys: &Keys = match &p.remote {
            None => &p.keys,
            Some(remote) => {
                remote_ring = remote
                    .current()
                    .ok_or_else(|| fail(AuthErrorKind::UnknownKey))?;
                &remote_ring
            }
        };
        #[cfg(not(feature = "remote-keys"))]
        let keys: &Keys = &p.keys;

        // 2–4. The usual header of the default key, byte for byte: nothing to decode.
        let key = match keys.fast_header(h64) {
            Some(key) if !p.require_at_jwt => key,
            _ => header::select_key_typed(keys, h64, p.require_at_jwt).map_err(|kind| {
                #[cfg(feature = "remote-keys")]
                if kind == AuthErrorKind::UnknownKey
                    && let Some(remote) = &p.remote
                {
                    remote.unknown_kid();
                }
                fail(kind)
            })?,
        };

        // 5. Signature over the received bytes.
        let good = match key.hmac_tag_len() {
            // HMAC: the tag length is the algorithm's, so is its base64url length; a small
            // buffer then (zeroing the big one showed up in profiles).
            Some(n) => {
                let mut buf = [0_u8; 64];
                s64.len() == (n * 4).div_ceil(3)
                    && b64url_decode(s64, &mut buf) == Ok(n)
                    && key.verify(signing_input, &buf[..n])
            }
            None => {
                let mut sbuf = Scratch::<512>::new();
                sbuf.decode(s64)
                    .is_ok_and(|sig| !sig.is_empty() && key.verify(signing_input, sig))
            }
        };
        if !good {
            return Err(fail(AuthErrorKind::BadSignature));
        }

        // 6. Payload.
        // A stack buffer sized for the payload: zeroing 1 KiB for a 150-byte payload showed up
        // in profiles (~3 %). Only the branch taken initialises its buffer.
        let (mut small, mut large): (Scratch<256>, Scratch<1024>);
        let payload = if p64.len().div_ceil(4) * 3 <= 256 {
            small = Scratch::new();
            small.decode(p64)
        } else {
            large = Scratch::new();
            large.decode(p64)
        }
        .map_err(|()| fail(AuthErrorKind::Malformed))?;
        // One JSON pass for `C` and the registered claims when possible; the two-pass path
        // otherwise (and for every error, so the error kinds are those of the two passes).
        let mut reg = Registered::default();
        let claims = match payload::parse_into::<C>(payload, &p.names, &mut reg) {
            Outcome::Both(c) => Some(c),
            Outcome::ClaimsOnly(c) => {
                reg = parse_registered(payload, &p.names).map_err(fail)?;
                Some(c)
            }
            Outcome::Failed => {
                reg = parse_registered(payload, &p.names).map_err(fail)?;
                None
            }
        };
        // From here on the signature is good: rejections carry the jti for logs.
        let fail = |kind: AuthErrorKind| fail(kind).with_jti(reg.jti.as_deref());

        // 7–8. The registered claims (see `Policy::check_claims`).
        p.check_claims(&reg).map_err(fail)?;

        // 9. The caller's claims type.
        let claims: C = match claims {
            Some(c) => c,
            None => {
                serde_json::from_slice(payload).map_err(|_| fail(AuthErrorKind::InvalidClaim))?
            }
        };
        Ok((claims, meta(&reg)))
    }
}

impl Verifier {
    /// `exp`, `nbf` and `iat` against this verifier's clock and leeway.
    #[inline]
    pub(crate) fn check_times(
        &self,
        exp: Option<i64>,
        nbf: Option<i64>,
        iat: Option<i64>,
    ) -> Result<(), AuthErrorKind> {
        self.inner.check_times(exp, nbf, iat)
    }

    /// Whether the configured revocation check says `jti` is revoked (`false` without one).
    #[inline]
    pub(crate) fn is_revoked(&self, jti: &str) -> bool {
        self.inner.is_revoked(jti)
    }

    /// An error of `kind`, carrying the accepted token types as every verifier error does.
    pub(crate) fn error(&self, kind: AuthErrorKind) -> AuthError {
        match &self.inner.types {
            Some(t) => AuthError::new(kind).with_accepted(t),
            None => AuthError::new(kind),
        }
    }

    /// The maximum token length.
    #[inline]
    pub(crate) fn max_len(&self) -> usize {
        self.inner.max_len
    }

    /// As [`Verifier::verify_bytes`], also returning `nbf` (for the cache's re-checks).
    pub(crate) fn verify_with_nbf<C: DeserializeOwned>(
        &self,
        token: &[u8],
    ) -> Result<(Verified<C>, Option<i64>), AuthError> {
        self.verify_with(token, |r| {
            (
                r.exp.unwrap_or_default(),
                r.iat,
                r.jti.as_deref().map(str::to_owned),
                r.token_type.as_deref().map(str::to_owned),
                r.user_id_string().map(UserId::from),
                r.refresh_exp,
                r.nbf,
            )
        })
        .map(
            |(claims, (exp, iat, jti, token_type, user_id, refresh_exp, nbf))| {
                (
                    Verified {
                        claims,
                        exp,
                        iat,
                        jti,
                        token_type,
                        user_id,
                        refresh_exp,
                    },
                    nbf,
                )
            },
        )
    }
}

/// [`Verifier::simplejwt`]: what `JwtAuthLayer::new(keys)` means.
impl From<Keys> for Verifier {
    fn from(keys: Keys) -> Self {
        Self::new(keys)
    }
}

#[cfg(test)]
mod payload_buffer_tests {
    use super::*;

    /// Payloads on both sides of each buffer tier (256 and 1 024 decoded bytes, then the heap)
    /// verify and keep every byte; the same tokens with one payload character changed do not.
    #[test]
    fn every_tier_decodes_the_whole_payload() {
        let keys = Keys::hs256([9u8; 32]).expect("key");
        let verifier = Verifier::new(keys.clone()).clock(Clock::fixed(1_000));
        let base = serde_json::json!({
            "token_type": "access", "exp": 2_000, "iat": 1_000,
            "jti": "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", "user_id": "1", "pad": "",
        });
        let fixed = serde_json::to_vec(&base).expect("json").len();
        for target in [
            200, 255, 256, 257, 258, 1_000, 1_023, 1_024, 1_025, 1_026, 3_000,
        ] {
            let mut claims = base.clone();
            claims["pad"] = "x".repeat(target - fixed).into();
            assert_eq!(serde_json::to_vec(&claims).expect("json").len(), target);
            let token = keys.encode(&claims).expect("sign");
            let got = verifier
                .verify::<serde_json::Value>(&token)
                .unwrap_or_else(|e| panic!("{target} bytes: {e}"));
            assert_eq!(got.claims, claims, "{target} bytes");

            let mut tampered = token.into_bytes();
            let dot = tampered.iter().position(|b| *b == b'.').expect("dot");
            let i = dot + 1 + (target * 4 / 3) / 2;
            tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).expect("ascii");
            assert_eq!(
                verifier
                    .verify::<serde_json::Value>(&tampered)
                    .map(|_| ())
                    .map_err(|e| e.kind()),
                Err(AuthErrorKind::BadSignature),
                "{target} bytes"
            );
        }
    }
}
