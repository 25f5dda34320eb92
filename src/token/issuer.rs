//! Minting tokens exactly as simplejwt does: the same header, claim order and claim types.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::error::ConfigError;
use crate::store::User;
use crate::verify::Clock;
use crate::verify::Keys;

/// Claims a custom claim can never set: the issuer owns them.
const RESERVED: &[&str] = &[
    "token_type",
    "exp",
    "iat",
    "nbf",
    "jti",
    "user_id",
    "refresh_exp",
    "aud",
    "iss",
];

/// Claims never copied from a refresh token into the access token minted from it (simplejwt's
/// `no_copy_claims`), plus `aud`/`iss`, which the issuer appends itself.
const NO_COPY: &[&str] = &[
    "token_type",
    "exp",
    "iat",
    "jti",
    "refresh_exp",
    "aud",
    "iss",
];

/// A token payload whose keys keep their order (serde_json's `Map` sorts them).
///
/// Deserializing a token payload into it keeps the token's order; serializing writes the pairs in
/// order as compact JSON, as PyJWT does with a Python `dict`. A repeated key keeps its first
/// position and its last value, like a Python `dict`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TokenPayload(Vec<(String, Value)>);

impl TokenPayload {
    /// An empty payload.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Sets `key` to `value`, in place if it exists, else at the end (Python `dict` semantics).
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The claims, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The claim names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The number of claims.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no claims.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for TokenPayload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for TokenPayload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokenPayload;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TokenPayload, A::Error> {
                let mut out = TokenPayload::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    out.set(k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// A freshly signed token and the claims the services need to track it.
///
/// `Debug` does not show the token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The compact JWS.
    pub token: String,
    /// Its `jti` (32 lowercase hex digits).
    pub jti: String,
    /// Its `exp`, seconds since the epoch.
    pub exp: i64,
    /// Its `iat`, seconds since the epoch.
    pub iat: i64,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("jti", &self.jti)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .finish()
    }
}

/// A refresh token and the access token minted from it (simplejwt's `TokenObtainPairView`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPair {
    /// The access token.
    pub access: IssuedToken,
    /// The refresh token.
    pub refresh: IssuedToken,
}

/// A per-user hook adding custom claims to every token issued to that user.
pub type ClaimsHook = Arc<dyn Fn(&User) -> Map<String, Value> + Send + Sync>;

/// Mints simplejwt-shaped tokens: the JOSE header from [`Keys::encode`] (PyJWT's sorted compact
/// header, with `kid` when the signing key has one), the payload in simplejwt's key order:
/// `token_type`, `exp`, `iat`, `jti`, then `user_id`, then custom claims, then `aud`/`iss` when
/// configured.
///
/// Custom claims come from [`User::extra_claims`] and then from the optional
/// [`claims`](Issuer::claims) hook; a custom claim named like a registered one (`token_type`,
/// `exp`, `iat`, `nbf`, `jti`, `user_id`, `refresh_exp`, `aud`, `iss`) is dropped. Nothing a
/// client sends ever becomes a claim.
///
/// ```
/// use tower_jwt_auth::{Clock, Keys, UserId};
/// use tower_jwt_auth::store::User;
/// use tower_jwt_auth::token::Issuer;
///
/// let issuer = Issuer::new(Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?)?
///     .clock(Clock::fixed(1_795_655_419));
/// let user = User {
///     id: UserId::from("1"),
///     username: "alice".into(),
///     is_active: true,
///     password_hash: String::new(),
///     extra_claims: Default::default(),
/// };
/// let pair = issuer.pair_for_user(&user)?;
/// assert_eq!(pair.refresh.exp - pair.refresh.iat, 86_400);
/// assert_eq!(pair.access.exp - pair.access.iat, 300);
/// assert!(pair.access.token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Issuer {
    inner: Arc<IssuerInner>,
}

#[derive(Clone)]
struct IssuerInner {
    keys: Keys,
    clock: Clock,
    access_token_lifetime: i64,
    refresh_token_lifetime: i64,
    sliding_token_lifetime: i64,
    sliding_token_refresh_lifetime: i64,
    audience: Option<Value>,
    issuer: Option<String>,
    hook: Option<ClaimsHook>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("Issuer")
            .field("keys", &i.keys)
            .field("clock", &i.clock)
            .field("access_token_lifetime", &i.access_token_lifetime)
            .field("refresh_token_lifetime", &i.refresh_token_lifetime)
            .field("sliding_token_lifetime", &i.sliding_token_lifetime)
            .field(
                "sliding_token_refresh_lifetime",
                &i.sliding_token_refresh_lifetime,
            )
            .field("audience", &i.audience)
            .field("issuer", &i.issuer)
            .field("hook", &i.hook.as_ref().map(|_| ".."))
            .finish()
    }
}

fn secs(d: Duration) -> Result<i64, ConfigError> {
    let s = i64::try_from(d.as_secs())
        .map_err(|_| ConfigError::Invalid("token lifetime is too long".into()))?;
    if s == 0 || s > 100 * 365 * 86_400 {
        return Err(ConfigError::Invalid(
            "token lifetimes must be between 1 second and 100 years".into(),
        ));
    }
    Ok(s)
}

/// A new `jti`: a random UUID version 4 as 32 lowercase hex digits (Python's `uuid4().hex`).
///
/// # Errors
/// [`ConfigError::Invalid`] if the operating system's random source fails.
pub fn new_jti() -> Result<String, ConfigError> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b)
        .map_err(|_| ConfigError::Invalid("the OS random number generator failed".into()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut s = String::with_capacity(32);
    for byte in b {
        s.push_str(&format!("{byte:02x}"));
    }
    Ok(s)
}

impl Issuer {
    /// An issuer signing with `keys`' signing key, with simplejwt's default lifetimes (access
    /// 300 s, refresh 86 400 s, sliding 300 s, sliding refresh 86 400 s).
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the signing key cannot sign (a public key without its
    /// private part).
    pub fn new(keys: Keys) -> Result<Self, ConfigError> {
        if !keys.signing_key().can_sign() {
            return Err(ConfigError::InvalidKey(
                "the signing key has no private part".into(),
            ));
        }
        Ok(Self {
            inner: Arc::new(IssuerInner {
                keys,
                clock: Clock::system(),
                access_token_lifetime: 300,
                refresh_token_lifetime: 86_400,
                sliding_token_lifetime: 300,
                sliding_token_refresh_lifetime: 86_400,
                audience: None,
                issuer: None,
                hook: None,
            }),
        })
    }

    fn edit(mut self, f: impl FnOnce(&mut IssuerInner)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }

    /// The clock.
    pub fn clock_ref(&self) -> &Clock {
        &self.inner.clock
    }

    /// The clock (default: the system clock).
    #[must_use]
    pub fn clock(self, clock: Clock) -> Self {
        self.edit(|i| i.clock = clock)
    }

    /// simplejwt's `ACCESS_TOKEN_LIFETIME` (default 5 minutes).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for zero or more than 100 years.
    pub fn access_token_lifetime(self, d: Duration) -> Result<Self, ConfigError> {
        let s = secs(d)?;
        Ok(self.edit(|i| i.access_token_lifetime = s))
    }

    /// simplejwt's `REFRESH_TOKEN_LIFETIME` (default 1 day).
    ///
    /// # Errors
    /// As [`Issuer::access_token_lifetime`].
    pub fn refresh_token_lifetime(self, d: Duration) -> Result<Self, ConfigError> {
        let s = secs(d)?;
        Ok(self.edit(|i| i.refresh_token_lifetime = s))
    }

    /// simplejwt's `SLIDING_TOKEN_LIFETIME` (default 5 minutes).
    ///
    /// # Errors
    /// As [`Issuer::access_token_lifetime`].
    pub fn sliding_token_lifetime(self, d: Duration) -> Result<Self, ConfigError> {
        let s = secs(d)?;
        Ok(self.edit(|i| i.sliding_token_lifetime = s))
    }

    /// simplejwt's `SLIDING_TOKEN_REFRESH_LIFETIME` (default 1 day).
    ///
    /// # Errors
    /// As [`Issuer::access_token_lifetime`].
    pub fn sliding_token_refresh_lifetime(self, d: Duration) -> Result<Self, ConfigError> {
        let s = secs(d)?;
        Ok(self.edit(|i| i.sliding_token_refresh_lifetime = s))
    }

    /// simplejwt's `AUDIENCE`: an `aud` claim appended to every token. Configure the same
    /// audience on your [`Verifier`](crate::Verifier)s.
    #[must_use]
    pub fn audience(self, aud: impl Into<String>) -> Self {
        let aud = Value::String(aud.into());
        self.edit(|i| i.audience = Some(aud))
    }

    /// simplejwt's `ISSUER`: an `iss` claim appended to every token.
    #[must_use]
    pub fn issuer(self, iss: impl Into<String>) -> Self {
        let iss = iss.into();
        self.edit(|i| i.issuer = Some(iss))
    }

    /// A hook returning custom claims for a user, added after [`User::extra_claims`] in the map's
    /// iteration order (sorted by name, unless serde_json's `preserve_order` is on) (simplejwt:
    /// overriding `get_token` in a `TokenObtainPairSerializer` subclass).
    #[must_use]
    pub fn claims(
        self,
        hook: impl Fn(&User) -> Map<String, Value> + Send + Sync + 'static,
    ) -> Self {
        let hook: ClaimsHook = Arc::new(hook);
        self.edit(|i| i.hook = Some(hook))
    }

    /// The configured audience, if any.
    pub fn audience_value(&self) -> Option<&str> {
        self.inner.audience.as_ref().and_then(Value::as_str)
    }

    /// The configured issuer, if any.
    pub fn issuer_value(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// The access token lifetime in seconds.
    pub fn access_token_lifetime_secs(&self) -> i64 {
        self.inner.access_token_lifetime
    }

    /// The refresh token lifetime in seconds.
    pub fn refresh_token_lifetime_secs(&self) -> i64 {
        self.inner.refresh_token_lifetime
    }

    /// The current time by the issuer's clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    fn head(token_type: &str, exp: i64, iat: i64, jti: &str) -> TokenPayload {
        let mut p = TokenPayload::new();
        p.set("token_type", token_type);
        p.set("exp", exp);
        p.set("iat", iat);
        p.set("jti", jti);
        p
    }

    fn add_user_claims(&self, p: &mut TokenPayload, user: &User) {
        p.set("user_id", user.id.as_str());
        let hook = self.inner.hook.as_ref().map(|h| h(user));
        for (k, v) in user.extra_claims.iter().chain(hook.iter().flatten()) {
            if !RESERVED.contains(&k.as_str()) {
                p.set(k.clone(), v.clone());
            }
        }
    }

    fn finish(
        &self,
        mut p: TokenPayload,
        jti: String,
        exp: i64,
        iat: i64,
    ) -> Result<IssuedToken, ConfigError> {
        if let Some(aud) = &self.inner.audience {
            p.set("aud", aud.clone());
        }
        if let Some(iss) = &self.inner.issuer {
            p.set("iss", iss.as_str());
        }
        let token = self.inner.keys.encode(&p)?;
        Ok(IssuedToken {
            token,
            jti,
            exp,
            iat,
        })
    }

    fn lifetime_exp(now: i64, lifetime: i64) -> i64 {
        now.saturating_add(lifetime)
    }

    /// A refresh token for `user` (simplejwt's `RefreshToken.for_user`).
    ///
    /// # Errors
    /// [`ConfigError`] if signing fails (no private key, no randomness).
    pub fn refresh_for_user(
        &self,
        user: &User,
    ) -> Result<(IssuedToken, TokenPayload), ConfigError> {
        let now = self.now();
        let exp = Self::lifetime_exp(now, self.inner.refresh_token_lifetime);
        let jti = new_jti()?;
        let mut p = Self::head("refresh", exp, now, &jti);
        self.add_user_claims(&mut p, user);
        let issued = self.finish(p.clone(), jti, exp, now)?;
        Ok((issued, p))
    }

    /// A refresh token and its access token for `user`, as `TokenObtainPairView` issues them.
    ///
    /// # Errors
    /// As [`Issuer::refresh_for_user`].
    pub fn pair_for_user(&self, user: &User) -> Result<TokenPair, ConfigError> {
        let (refresh, payload) = self.refresh_for_user(user)?;
        let access = self.access_from_refresh(&payload)?;
        Ok(TokenPair { access, refresh })
    }

    /// An access token minted from a refresh token's payload (simplejwt's
    /// `RefreshToken.access_token`): new `token_type`, `exp`, `iat`, `jti`; every other claim of
    /// the refresh token (`user_id`, custom claims) copied in its order; `aud`/`iss` as configured.
    ///
    /// # Errors
    /// As [`Issuer::refresh_for_user`].
    pub fn access_from_refresh(&self, refresh: &TokenPayload) -> Result<IssuedToken, ConfigError> {
        let now = self.now();
        let exp = Self::lifetime_exp(now, self.inner.access_token_lifetime);
        let jti = new_jti()?;
        let mut p = Self::head("access", exp, now, &jti);
        for (k, v) in refresh.iter() {
            if !NO_COPY.contains(&k) && k != "nbf" {
                p.set(k, v.clone());
            }
        }
        self.finish(p, jti, exp, now)
    }

    /// The rotated refresh token (simplejwt with `ROTATE_REFRESH_TOKENS`): the same claims in the
    /// same order, with a new `jti`, `exp = now + refresh lifetime` and `iat = now`.
    ///
    /// # Errors
    /// As [`Issuer::refresh_for_user`].
    pub fn rotate_refresh(&self, refresh: &TokenPayload) -> Result<IssuedToken, ConfigError> {
        let now = self.now();
        let exp = Self::lifetime_exp(now, self.inner.refresh_token_lifetime);
        let jti = new_jti()?;
        let mut p = Self::head("refresh", exp, now, &jti);
        for (k, v) in refresh.iter() {
            if !NO_COPY.contains(&k) {
                p.set(k, v.clone());
            }
        }
        self.finish(p, jti, exp, now)
    }

    /// A sliding token for `user` (simplejwt's `SlidingToken.for_user`): type `sliding`, payload
    /// `token_type`, `exp`, `iat`, `jti`, `refresh_exp`, `user_id`, custom claims.
    ///
    /// # Errors
    /// As [`Issuer::refresh_for_user`].
    pub fn sliding_for_user(&self, user: &User) -> Result<IssuedToken, ConfigError> {
        let now = self.now();
        let exp = Self::lifetime_exp(now, self.inner.sliding_token_lifetime);
        let jti = new_jti()?;
        let mut p = Self::head("sliding", exp, now, &jti);
        p.set(
            "refresh_exp",
            Self::lifetime_exp(now, self.inner.sliding_token_refresh_lifetime),
        );
        self.add_user_claims(&mut p, user);
        self.finish(p, jti, exp, now)
    }

    /// A sliding token refreshed (simplejwt's `TokenRefreshSlidingView`): the same payload, the
    /// same `jti` and `refresh_exp`, with `exp` and `iat` renewed.
    ///
    /// # Errors
    /// As [`Issuer::refresh_for_user`], and [`ConfigError::Invalid`] if the payload has no string
    /// `jti`.
    pub fn slide(&self, sliding: &TokenPayload) -> Result<IssuedToken, ConfigError> {
        let now = self.now();
        let exp = Self::lifetime_exp(now, self.inner.sliding_token_lifetime);
        let jti = sliding
            .get("jti")
            .and_then(Value::as_str)
            .ok_or_else(|| ConfigError::Invalid("sliding token has no jti".into()))?
            .to_owned();
        let mut p = sliding.clone();
        p.set("exp", exp);
        p.set("iat", now);
        p.0.retain(|(k, _)| k != "aud" && k != "iss");
        self.finish(p, jti, exp, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jti_is_uuid4_hex() {
        let j = new_jti().expect("rng");
        assert_eq!(j.len(), 32);
        assert!(
            j.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(&j[12..13], "4");
        assert!(matches!(&j[16..17], "8" | "9" | "a" | "b"));
        assert_ne!(j, new_jti().expect("rng"));
    }

    #[test]
    fn payload_keeps_order_and_dict_semantics() {
        let p: TokenPayload = serde_json::from_str(r#"{"z":1,"a":2,"z":3}"#).expect("json");
        assert_eq!(serde_json::to_string(&p).expect("ser"), r#"{"z":3,"a":2}"#);
    }
}
