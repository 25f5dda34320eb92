//! The verification core: a pure, synchronous function from a compact JWS to claims or a typed
//! [`AuthError`]. The layer, the refresh, verify and blacklist services all share it.
//!
//! ```
//! use tower_jwt_auth::{AuthErrorKind, Keys, SimpleJwtClaims, Verifier};
//!
//! let verifier = Verifier::new(Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?);
//! let err = verifier.verify::<SimpleJwtClaims>("not.a.jwt").unwrap_err();
//! assert_eq!(err.kind(), AuthErrorKind::Malformed);
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```
//!
//! What it checks, in order (simplejwt's order, so the same token gets the same message):
//!
//! 1. length (at most [`Verifier::max_token_len`], default 8 KiB), before any decoding;
//! 2. exactly three base64url segments without padding; the header a JSON object;
//! 3. header parameters that are never honoured (`jwk`, `jku`, `x5u`, `x5c`, `crit`, `zip`, `b64`,
//!    `cty: JWT` or `application/jwt`) reject the token; nothing is ever fetched;
//! 4. the key is selected by `kid` (or the ring's default) and the token's `alg` must be exactly
//!    that key's algorithm (so `none`, in any spelling, never verifies);
//! 5. the signature, over the received bytes, compared in constant time;
//! 6. the payload a JSON object; registered claims of the wrong type are invalid, never absent;
//!    duplicate registered claims are rejected;
//! 7. `exp` (expired when `exp <= now - leeway`), `nbf` and `iat` (not after `now + leeway`),
//!    `aud` and `iss`;
//! 8. `exp` present, `jti` present, token type present and accepted, user id present;
//! 9. the payload into your claims type `C`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::cache::RevocationCheck;
use crate::claims::{
    Audience, ClaimNames, Registered, TokenType, UserId, is_json_object, parse_registered,
};
use crate::error::{AuthError, AuthErrorKind, ConfigError};
use crate::fused::{self, Fused};
use crate::keys::{Algorithm, Key, Keys};

/// The largest leeway [`Verifier::leeway`] accepts, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 300;

/// The default cap on a token's length, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// Where "now" comes from. [`Clock::system`] by default; tests inject [`Clock::fixed`] or
/// [`Clock::from_fn`].
#[derive(Clone, Default)]
pub struct Clock(ClockKind);

#[derive(Clone, Default)]
enum ClockKind {
    #[default]
    System,
    Fixed(i64),
    Custom(Arc<dyn Fn() -> i64 + Send + Sync>),
}

impl Clock {
    /// The system clock.
    pub const fn system() -> Self {
        Self(ClockKind::System)
    }

    /// A clock stopped at `unix_seconds`.
    pub const fn fixed(unix_seconds: i64) -> Self {
        Self(ClockKind::Fixed(unix_seconds))
    }

    /// A clock reading from a function returning Unix seconds.
    pub fn from_fn(f: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(ClockKind::Custom(Arc::new(f)))
    }

    /// The current time in Unix seconds.
    #[inline]
    pub fn now(&self) -> i64 {
        match &self.0 {
            ClockKind::System => {
                match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
                    Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                    Err(_) => 0,
                }
            }
            ClockKind::Fixed(t) => *t,
            ClockKind::Custom(f) => f(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockKind::System => f.write_str("Clock::system()"),
            ClockKind::Fixed(t) => write!(f, "Clock::fixed({t})"),
            ClockKind::Custom(_) => f.write_str("Clock::from_fn(..)"),
        }
    }
}

/// Verifies tokens: keys plus the validation policy. Cheap to clone (shared).
///
/// Secure, simplejwt-compatible defaults:
/// * accepted token type: `access` (claim `token_type`);
/// * `exp` and `jti` required, a usable `user_id` required;
/// * leeway 0 (capped at [`MAX_LEEWAY_SECS`]);
/// * no audience or issuer configured: `iss` is ignored, and a token that carries an `aud` is
///   rejected (RFC 7519 §4.1.3: a recipient that does not identify with the audience MUST reject);
/// * tokens over 8 KiB rejected before decoding.
///
/// Every setter returns the changed verifier, so a policy reads as one chain; hand it to
/// [`JwtAuthLayer::new`](crate::JwtAuthLayer::new) (which also takes bare [`Keys`]):
///
/// ```
/// use tower_jwt_auth::{Clock, JwtAuthLayer, Keys, SimpleJwtClaims, TokenType, Verifier};
///
/// let verifier = Verifier::new(Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?)
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

#[derive(Clone, Debug)]
struct Policy {
    keys: Keys,
    /// `None`: any token type (or none) is accepted.
    types: Option<Arc<[TokenType]>>,
    names: ClaimNames,
    leeway: i64,
    audience: Option<Vec<String>>,
    issuer: Option<Vec<String>>,
    require_jti: bool,
    require_user_id: bool,
    max_len: usize,
    clock: Clock,
    revocation: Option<Revocation>,
}

/// The configured [`RevocationCheck`], shared.
#[derive(Clone)]
struct Revocation(Arc<dyn RevocationCheck>);

impl fmt::Debug for Revocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RevocationCheck(..)")
    }
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

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cty: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    jwk: bool,
    #[serde(default, deserialize_with = "present")]
    jku: bool,
    #[serde(default, deserialize_with = "present")]
    x5u: bool,
    #[serde(default, deserialize_with = "present")]
    x5c: bool,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
    #[serde(default, deserialize_with = "present")]
    zip: bool,
    #[serde(default, deserialize_with = "present")]
    b64: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// Whether a `cty` names a nested JWT: `JWT`, or `application/jwt` (RFC 7515 §4.1.10: a `cty`
/// without `/` means `application/` plus it; media types are case-insensitive).
fn is_nested_jwt(cty: &str) -> bool {
    let bare = match cty.split_at_checked(12) {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => cty,
    };
    bare.eq_ignore_ascii_case("JWT")
}

fn alg_from_str(s: &str) -> Option<Algorithm> {
    Some(match s {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// A small-buffer-optimised scratch space for base64 decoding: the stack for the common case,
/// the heap only for large tokens.
struct Scratch<const N: usize> {
    stack: [u8; N],
    heap: Vec<u8>,
}

impl<const N: usize> Scratch<N> {
    #[inline]
    fn new() -> Self {
        Self {
            stack: [0; N],
            heap: Vec::new(),
        }
    }

    /// Decodes base64url (no padding, canonical trailing bits) into the scratch space.
    #[inline]
    fn decode(&mut self, b64: &[u8]) -> Result<&[u8], ()> {
        let max = b64.len().div_ceil(4) * 3;
        if max <= N {
            let n = b64url_decode(b64, &mut self.stack)?;
            Ok(&self.stack[..n])
        } else {
            self.heap = vec![0; max];
            let n = b64url_decode(b64, &mut self.heap)?;
            self.heap.truncate(n);
            Ok(&self.heap)
        }
    }
}

/// Strict base64url without padding (RFC 7515 §2), as `base64`'s `URL_SAFE_NO_PAD` decodes:
/// the URL-safe alphabet only (no `=`), a length that is not 1 mod 4, and zero trailing bits.
/// Vectorised (`base64-simd`: AVX2/SSE4.1/NEON, chosen at run time): about 3× a table decoder
/// on a JWT's payload, which showed up in profiles at ~8 % of a verification. Returns the number
/// of bytes written to `out`; `Err` for invalid input or an `out` too small.
#[inline]
pub(crate) fn b64url_decode(input: &[u8], out: &mut [u8]) -> Result<usize, ()> {
    let tail = match input.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return Err(()),
    };
    let n = input.len() / 4 * 3 + tail;
    let out = out.get_mut(..n).ok_or(())?;
    base64_simd::URL_SAFE_NO_PAD
        .decode(input, base64_simd::Out::from_slice(out))
        .map(|decoded| decoded.len())
        .map_err(|_| ())
}

impl Verifier {
    /// A verifier with the default policy (see the type docs).
    pub fn new(keys: Keys) -> Self {
        Self {
            inner: Arc::new(Policy {
                keys,
                types: Some(Arc::from([TokenType::ACCESS])),
                names: ClaimNames::default(),
                leeway: 0,
                audience: None,
                issuer: None,
                require_jti: true,
                require_user_id: true,
                max_len: DEFAULT_MAX_TOKEN_LEN,
                clock: Clock::system(),
                revocation: None,
            }),
        }
    }

    fn edit(mut self, f: impl FnOnce(&mut Policy)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// Accept only these token types (the `token_type` claim, compared exactly). Default:
    /// `[TokenType::ACCESS]`. The refresh service uses `[TokenType::REFRESH]`.
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
    #[must_use]
    pub fn audience<I, S>(self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let v: Vec<String> = audiences.into_iter().map(Into::into).collect();
        self.edit(|p| p.audience = Some(v))
    }

    /// Require `iss` to equal one of these values. simplejwt's `ISSUER`.
    #[must_use]
    pub fn issuer<I, S>(self, issuers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let v: Vec<String> = issuers.into_iter().map(Into::into).collect();
        self.edit(|p| p.issuer = Some(v))
    }

    /// Whether `jti` is required (default `true`, as simplejwt's `JTI_CLAIM = "jti"`).
    ///
    /// # ⚠️ Warning
    /// Without a `jti` a token cannot be revoked or denylisted individually (RFC 9700 §4.14).
    #[must_use]
    pub fn require_jti(self, required: bool) -> Self {
        self.edit(|p| p.require_jti = required)
    }

    /// Whether a usable user id claim is required (default `true`).
    #[must_use]
    pub fn require_user_id(self, required: bool) -> Self {
        self.edit(|p| p.require_user_id = required)
    }

    /// The user id claim's name (simplejwt's `USER_ID_CLAIM`, default `user_id`). `sub` works
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

        // 2. Exactly three segments; no allocation.
        let mut dots = memchr::memchr_iter(b'.', token);
        let (d1, d2) = match (dots.next(), dots.next(), dots.next()) {
            (Some(a), Some(b), None) => (a, b),
            _ => return Err(fail(AuthErrorKind::Malformed)),
        };
        let (h64, p64, s64) = (&token[..d1], &token[d1 + 1..d2], &token[d2 + 1..]);
        if h64.is_empty() || p64.is_empty() {
            return Err(fail(AuthErrorKind::Malformed));
        }

        // 2–4. The usual header of the default key, byte for byte: nothing to decode.
        let key = match p.keys.fast_header(h64) {
            Some(key) => key,
            None => self.header_key(h64).map_err(fail)?,
        };

        // 5. Signature over the received bytes.
        let good = match key.hmac_tag_len() {
            // HMAC: the tag length is the algorithm's, so is its base64url length; a small
            // buffer then (zeroing the big one showed up in profiles).
            Some(n) => {
                let mut buf = [0_u8; 64];
                s64.len() == (n * 4).div_ceil(3)
                    && b64url_decode(s64, &mut buf) == Ok(n)
                    && key.verify(&token[..d2], &buf[..n])
            }
            None => {
                let mut sbuf = Scratch::<512>::new();
                sbuf.decode(s64)
                    .is_ok_and(|sig| !sig.is_empty() && key.verify(&token[..d2], sig))
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
        let (claims, reg) = match fused::parse::<C>(payload, &p.names) {
            Fused::Both(c, reg) => (Some(c), reg),
            Fused::ClaimsOnly(c) => (Some(c), parse_registered(payload, &p.names).map_err(fail)?),
            Fused::Failed => (None, parse_registered(payload, &p.names).map_err(fail)?),
        };
        // From here on the signature is good: rejections carry the jti for logs.
        let fail = |kind: AuthErrorKind| fail(kind).with_jti(reg.jti.as_deref());

        // 7. PyJWT's checks.
        self.check_times(reg.exp, reg.nbf, reg.iat).map_err(fail)?;
        match (&p.audience, &reg.aud) {
            (None, Audience::Absent) => {}
            (None, _) => return Err(fail(AuthErrorKind::InvalidAudience)),
            (Some(want), got) => {
                let ok = match got {
                    Audience::Absent => false,
                    Audience::One(a) => want.iter().any(|w| w == a),
                    Audience::Many(v) => v.iter().any(|a| want.iter().any(|w| w == a)),
                };
                if !ok {
                    return Err(fail(AuthErrorKind::InvalidAudience));
                }
            }
        }
        if let Some(want) = &p.issuer
            && !reg
                .iss
                .as_deref()
                .is_some_and(|i| want.iter().any(|w| w == i))
        {
            return Err(fail(AuthErrorKind::InvalidIssuer));
        }

        // 8. simplejwt's checks.
        if reg.exp.is_none() {
            return Err(fail(AuthErrorKind::MissingExp));
        }
        if p.require_jti && reg.jti.is_none() {
            return Err(fail(AuthErrorKind::MissingJti));
        }
        if let Some(types) = &p.types {
            match reg.token_type.as_deref() {
                None => return Err(fail(AuthErrorKind::MissingTokenType)),
                Some(t) if !types.iter().any(|a| a.as_str() == t) => {
                    return Err(fail(AuthErrorKind::WrongTokenType));
                }
                Some(_) => {}
            }
        }
        if p.require_user_id && reg.user_id_ok != Some(true) {
            return Err(fail(AuthErrorKind::MissingUserId));
        }

        if let (Some(r), Some(jti)) = (&p.revocation, reg.jti.as_deref())
            && r.0.is_revoked(jti)
        {
            return Err(fail(AuthErrorKind::Revoked));
        }

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
    /// Steps 2–4 for a header that is not one of the fast ones: decode, parse, refuse the
    /// parameters we never honour, select the key by `kid`, pin the algorithm.
    fn header_key(&self, h64: &[u8]) -> Result<&Key, AuthErrorKind> {
        let mut hbuf = Scratch::<384>::new();
        let header_json = hbuf.decode(h64).map_err(|()| AuthErrorKind::Malformed)?;
        // RFC 7515 §4: a JSON object. serde's derived struct would also accept an array.
        if !is_json_object(header_json) {
            return Err(AuthErrorKind::Malformed);
        }
        let header: Header<'_> = {
            let mut de = serde_json::Deserializer::from_slice(header_json);
            let h = Header::deserialize(&mut de).map_err(|_| AuthErrorKind::Malformed)?;
            de.end().map_err(|_| AuthErrorKind::Malformed)?;
            h
        };

        // 3. Parameters we never honour.
        if header.jwk
            || header.jku
            || header.x5u
            || header.x5c
            || header.crit
            || header.zip
            || header.b64
            || header.cty.as_deref().is_some_and(is_nested_jwt)
        {
            return Err(AuthErrorKind::ForbiddenHeader);
        }

        // 4. Key by kid; alg must be the key's own.
        let key = self
            .inner
            .keys
            .select(header.kid.as_deref())
            .ok_or(AuthErrorKind::UnknownKey)?;
        if alg_from_str(&header.alg) != Some(key.alg) {
            return Err(AuthErrorKind::AlgorithmNotAllowed);
        }
        Ok(key)
    }

    /// `exp` (expired when `exp <= now - leeway`), `nbf` and `iat` (not after `now + leeway`).
    #[inline]
    pub(crate) fn check_times(
        &self,
        exp: Option<i64>,
        nbf: Option<i64>,
        iat: Option<i64>,
    ) -> Result<(), AuthErrorKind> {
        let p = &*self.inner;
        let now = p.clock.now();
        if exp.is_some_and(|exp| exp <= now.saturating_sub(p.leeway)) {
            return Err(AuthErrorKind::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now.saturating_add(p.leeway)) {
            return Err(AuthErrorKind::NotYetValid);
        }
        if iat.is_some_and(|iat| iat > now.saturating_add(p.leeway)) {
            return Err(AuthErrorKind::IssuedInFuture);
        }
        Ok(())
    }

    /// Whether the configured revocation check says `jti` is revoked (`false` without one).
    #[inline]
    pub(crate) fn is_revoked(&self, jti: &str) -> bool {
        self.inner
            .revocation
            .as_ref()
            .is_some_and(|r| r.0.is_revoked(jti))
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

impl From<Keys> for Verifier {
    fn from(keys: Keys) -> Self {
        Self::new(keys)
    }
}

#[cfg(test)]
mod b64_tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    const B64URL_ALPHABET: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn ours(s: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0; s.len() / 4 * 3 + 2];
        b64url_decode(s, &mut out).ok().map(|n| out[..n].to_vec())
    }

    #[test]
    fn known_answers() {
        assert_eq!(ours(b"").as_deref(), Some(&b""[..]));
        assert_eq!(ours(b"Zg").as_deref(), Some(&b"f"[..]));
        assert_eq!(ours(b"Zm8").as_deref(), Some(&b"fo"[..]));
        assert_eq!(ours(b"Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(ours(b"-_-_").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        for bad in [
            &b"Z"[..],
            b"Zh",
            b"Zm9",
            b"Zg==",
            b"Zm9v=",
            b"Zm+v",
            b"Zm/v",
            b"Zm9v\n",
            b"Z g",
        ] {
            assert_eq!(ours(bad), None, "{bad:?}");
        }
        // An output buffer too small is an error, never a panic.
        let mut small = [0_u8; 2];
        assert_eq!(b64url_decode(b"Zm9v", &mut small), Err(()));
    }

    proptest! {
        #[test]
        fn same_as_the_base64_crate(s in proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(B64URL_ALPHABET.to_vec()),
                1 => any::<u8>(),
            ],
            0..40,
        )) {
            prop_assert_eq!(ours(&s), URL_SAFE_NO_PAD.decode(&s).ok());
        }

        /// Long inputs, mostly valid: the vectorised loops, not only the scalar tail.
        #[test]
        fn same_as_the_base64_crate_long(s in proptest::collection::vec(
            prop_oneof![
                400 => proptest::sample::select(B64URL_ALPHABET.to_vec()),
                1 => any::<u8>(),
            ],
            0..1200,
        )) {
            prop_assert_eq!(ours(&s), URL_SAFE_NO_PAD.decode(&s).ok());
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..900)) {
            let s = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(ours(s.as_bytes()), Some(bytes));
        }
    }
}

#[cfg(test)]
mod fast_header_tests {
    use super::*;

    /// Every header the fast path accepts selects, through the full header path, the very key
    /// the fast path returns.
    #[test]
    fn fast_headers_agree_with_the_full_header_path() {
        let plain = Key::hmac(Algorithm::HS256, [1u8; 32]).expect("key");
        let with_kid = Key::hmac(Algorithm::HS512, [2u8; 64])
            .expect("key")
            .with_kid("k\"1");
        let other = Key::hmac(Algorithm::HS384, [3u8; 48])
            .expect("key")
            .with_kid("k2");
        for keys in [
            Keys::new(plain),
            Keys::from_keys([with_kid.clone(), other.clone()]).expect("ring"),
            Keys::from_keys([other, with_kid])
                .expect("ring")
                .signing_kid("k\"1")
                .expect("kid"),
        ] {
            let v = Verifier::new(keys.clone());
            let headers: Vec<&[u8]> = keys.fast_header_list().collect();
            assert!(headers.len() >= 2);
            for h in headers {
                let fast = keys.fast_header(h).expect("fast");
                let full = v.header_key(h).expect("full path accepts it");
                assert_eq!(
                    (fast.kid(), fast.algorithm()),
                    (full.kid(), full.algorithm())
                );
            }
            // Anything else takes the full path.
            assert!(keys.fast_header(b"eyJhbGciOiJub25lIn0").is_none());
        }
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
