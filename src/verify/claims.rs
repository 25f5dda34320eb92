//! The claim types you use: the ready simplejwt-shaped [`SimpleJwtClaims`], [`UserId`] and
//! [`TokenType`], and the NumericDate rule both they and the verifier's registered-claim reader
//! follow.
//!
//! ```
//! use tower_jwt_auth::{SimpleJwtClaims, UserId};
//!
//! let c: SimpleJwtClaims = serde_json::from_str(
//!     r#"{"token_type":"access","exp":1795655719,"iat":1795655419,
//!         "jti":"fac5344d01d34db3b5575d65f5ee8c0f","user_id":"1","role":"admin"}"#,
//! )?;
//! assert_eq!(c.user_id, UserId::from("1"));
//! assert_eq!(c.extra["role"], "admin");
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A token type, the value of the `token_type` claim: `access`, `refresh`, `sliding`, or your own.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenType(Cow<'static, str>);

impl TokenType {
    /// `access`: what the layer accepts by default.
    pub const ACCESS: Self = Self(Cow::Borrowed("access"));
    /// `refresh`: what the refresh and blacklist endpoints accept.
    pub const REFRESH: Self = Self(Cow::Borrowed("refresh"));
    /// `sliding`: simplejwt's single sliding token.
    pub const SLIDING: Self = Self(Cow::Borrowed("sliding"));

    /// A custom token type.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Self(name.into())
    }

    /// The claim value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The simplejwt class name used in the `messages` envelope: `AccessToken`, `RefreshToken`,
    /// `SlidingToken`, or the capitalised name followed by `Token` for custom types.
    pub fn class_name(&self) -> Cow<'static, str> {
        match self.as_str() {
            "access" => Cow::Borrowed("AccessToken"),
            "refresh" => Cow::Borrowed("RefreshToken"),
            "sliding" => Cow::Borrowed("SlidingToken"),
            "untyped" => Cow::Borrowed("UntypedToken"),
            other => {
                let mut s = String::with_capacity(other.len() + 5);
                let mut chars = other.chars();
                if let Some(first) = chars.next() {
                    s.extend(first.to_uppercase());
                }
                s.push_str(chars.as_str());
                s.push_str("Token");
                Cow::Owned(s)
            }
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A user id as carried by the `user_id` claim.
///
/// simplejwt ≥ 5.5.1 issues it as a JSON string (`"1"`); older tokens carry an integer (`1`).
/// Both deserialize to the same `UserId("1")`; it always serializes as a string.
/// `null`, booleans, floats, arrays, objects and the empty string are rejected.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl From<&str> for UserId {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl From<String> for UserId {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = UserId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty string or an integer")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UserId, E> {
                if v.is_empty() {
                    return Err(E::invalid_length(0, &self));
                }
                Ok(UserId(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<UserId, E> {
                Ok(UserId(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<UserId, E> {
                Ok(UserId(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The claims simplejwt puts in its tokens, ready to use as the layer's `C`.
///
/// `token_type`, `exp`, `iat`, `jti` and `user_id` are typed; every other claim lands in
/// [`extra`](Self::extra) (so custom claims survive). The verifier has already checked the
/// registered claims by the time you see this value.
///
/// ```
/// use tower_jwt_auth::{SimpleJwtClaims, UserId};
///
/// let c: SimpleJwtClaims = serde_json::from_str(
///     r#"{"token_type":"access","exp":1795655719,"iat":1795655419,
///         "jti":"fac5344d01d34db3b5575d65f5ee8c0f","user_id":"1","role":"admin"}"#,
/// )?;
/// assert_eq!(c.user_id, UserId::from("1"));
/// assert_eq!(c.extra["role"], "admin");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct SimpleJwtClaims {
    /// `access`, `refresh` or `sliding`.
    pub token_type: String,
    /// Expiry, seconds since the epoch.
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    /// Issued-at, seconds since the epoch.
    #[serde(default, deserialize_with = "opt_numeric_date")]
    pub iat: Option<i64>,
    /// Token id (simplejwt: 32 lowercase hex digits).
    pub jti: String,
    /// The user the token was issued to.
    pub user_id: UserId,
    /// Every other claim, in the order the token carries them.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds, integer or not, in `i64` range.
/// Non-integers are truncated toward negative infinity (`nbf` is rounded up instead, by the
/// registered-claim reader).
pub(crate) struct NumericDate(pub(crate) i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a JSON number)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                Ok(NumericDate(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                i64::try_from(v)
                    .map(NumericDate)
                    .map_err(|_| E::custom("NumericDate out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                // 2^63 is the first value that does not fit.
                const LIMIT: f64 = 9_223_372_036_854_775_808.0;
                if v.is_finite() && (-LIMIT..LIMIT).contains(&v) {
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(NumericDate(v.floor() as i64))
                } else {
                    Err(E::custom("NumericDate out of range"))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A NumericDate field of a claims struct: integers and non-integers (floored), as the verifier
/// reads them.
fn numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    NumericDate::deserialize(d).map(|n| n.0)
}

fn opt_numeric_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Option::<NumericDate>::deserialize(d).map(|n| n.map(|n| n.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names() {
        assert_eq!(TokenType::ACCESS.class_name(), "AccessToken");
        assert_eq!(TokenType::new("id").class_name(), "IdToken");
    }
}
