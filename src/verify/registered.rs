//! The registered-claim reader: one pass over a payload that reads `exp`, `nbf`, `iat`, `iss`,
//! `aud`, `jti`, the token type and the user id with their JSON-type rules (a claim of the
//! wrong type is invalid, never absent; a duplicate is refused). The checks on the values read
//! here are in [`super::policy`].

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::claims::NumericDate;
use crate::error::AuthErrorKind;

/// Names of the claims the verifier reads; simplejwt's `USER_ID_CLAIM`, `TOKEN_TYPE_CLAIM` and
/// `JTI_CLAIM` settings.
#[derive(Clone, Debug)]
pub(crate) struct ClaimNames {
    pub(crate) user_id: Cow<'static, str>,
    pub(crate) token_type: Cow<'static, str>,
    pub(crate) jti: Cow<'static, str>,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            user_id: Cow::Borrowed("user_id"),
            token_type: Cow::Borrowed("token_type"),
            jti: Cow::Borrowed("jti"),
        }
    }
}

/// One value of `aud`.
#[derive(Debug, Default)]
pub(crate) enum Audience<'a> {
    #[default]
    Absent,
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

/// The registered claims of a payload, read in one pass with borrowed strings where possible.
#[derive(Debug, Default)]
pub(crate) struct Registered<'a> {
    pub(crate) exp: Option<i64>,
    pub(crate) nbf: Option<i64>,
    pub(crate) iat: Option<i64>,
    pub(crate) refresh_exp: Option<i64>,
    pub(crate) jti: Option<Cow<'a, str>>,
    pub(crate) token_type: Option<Cow<'a, str>>,
    /// `Some(true)`: a usable user id; `Some(false)`: present but unusable; `None`: absent.
    pub(crate) user_id_ok: Option<bool>,
    pub(crate) user_id: Option<Cow<'a, str>>,
    pub(crate) user_id_int: Option<i128>,
    pub(crate) aud: Audience<'a>,
    pub(crate) iss: Option<Cow<'a, str>>,
}

impl Registered<'_> {
    /// The user id as a string, if it is usable.
    pub(crate) fn user_id_string(&self) -> Option<String> {
        match (&self.user_id, self.user_id_int) {
            (Some(s), _) => Some(s.to_string()),
            (None, Some(i)) => Some(i.to_string()),
            _ => None,
        }
    }
}

/// Reads a [`Registered`] from a JSON object, with configurable claim names. Duplicate registered
/// claims are rejected (RFC 7519 §4); wrong JSON types are errors, never "absent".
pub(crate) struct RegisteredSeed<'n> {
    pub(crate) names: &'n ClaimNames,
}

/// Whether `json` is UTF-8 (RFC 8725 §3.7; serde_json does not check the strings it skips) and
/// starts, after JSON whitespace, with `{`: the rest of the parse then proves it is one complete
/// object. Arrays, which serde would map onto a struct's fields, are not.
pub(crate) fn is_json_object(json: &[u8]) -> bool {
    std::str::from_utf8(json).is_ok()
        && json
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .is_some_and(|b| *b == b'{')
}

/// Parse error kinds surfaced from the registered-claims pass.
pub(crate) fn parse_registered<'a>(
    payload: &'a [u8],
    names: &ClaimNames,
) -> Result<Registered<'a>, AuthErrorKind> {
    if !is_json_object(payload) {
        return Err(AuthErrorKind::Malformed);
    }
    let mut de = serde_json::Deserializer::from_slice(payload);
    let reg = RegisteredSeed { names }.deserialize(&mut de).map_err(|e| {
        if e.is_data() {
            AuthErrorKind::InvalidClaim
        } else {
            AuthErrorKind::Malformed
        }
    })?;
    de.end().map_err(|_| AuthErrorKind::Malformed)?;
    Ok(reg)
}

impl<'de> DeserializeSeed<'de> for RegisteredSeed<'_> {
    type Value = Registered<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

fn dup<E: de::Error>(name: &str) -> E {
    E::custom(format_args!("duplicate claim `{name}`"))
}

impl<'de> Visitor<'de> for RegisteredSeed<'_> {
    type Value = Registered<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = Registered::default();
        while let Some(key) = map.next_key::<BorrowedStr<'de>>()? {
            match Which::of(&key.0, self.names) {
                Some(which) => map.next_value_seed(Apply { r: &mut r, which })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

/// Which registered claim a payload key is (fixed names first, then the configured ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Which {
    Exp,
    Nbf,
    Iat,
    RefreshExp,
    Iss,
    Sub,
    Aud,
    Jti,
    TokenType,
    UserId,
    /// The user id claim configured as `sub`: a string, as PyJWT >= 2.10 requires of `sub`.
    UserIdSub,
}

impl Which {
    #[inline]
    pub(crate) fn of(key: &str, names: &ClaimNames) -> Option<Self> {
        Some(match key {
            // The claims the verifier enforces are always read as themselves: a configured
            // name that collides with one (`user_id_claim("nbf")`) must not switch its check
            // off. Such a configuration then fails closed (the configured claim is missing).
            "exp" => Self::Exp,
            "nbf" => Self::Nbf,
            "iat" => Self::Iat,
            "refresh_exp" => Self::RefreshExp,
            "iss" => Self::Iss,
            "aud" => Self::Aud,
            k if k == names.jti => Self::Jti,
            k if k == names.token_type => Self::TokenType,
            // The configured names come before `sub`, so `user_id_claim("sub")` works.
            "sub" if names.user_id == "sub" => Self::UserIdSub,
            k if k == names.user_id => Self::UserId,
            "sub" => Self::Sub,
            _ => return None,
        })
    }
}

/// Reads one registered claim's value into `r`: the only place these rules live, shared by the
/// registered-claims pass and the fused pass.
pub(crate) struct Apply<'r, 'de> {
    pub(crate) r: &'r mut Registered<'de>,
    pub(crate) which: Which,
}

impl<'de> DeserializeSeed<'de> for Apply<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let r = self.r;
        match self.which {
            Which::Exp => set_once(&mut r.exp, NumericDate::deserialize(d)?.0, "exp"),
            // Rounded up: RFC 7519 §4.1.5 says MUST NOT accept before `nbf`, even by 0.5 s.
            Which::Nbf => set_once(&mut r.nbf, NotBefore::deserialize(d)?.0, "nbf"),
            Which::Iat => set_once(&mut r.iat, NumericDate::deserialize(d)?.0, "iat"),
            Which::RefreshExp => set_once(
                &mut r.refresh_exp,
                NumericDate::deserialize(d)?.0,
                "refresh_exp",
            ),
            Which::Iss => set_once(&mut r.iss, BorrowedStr::deserialize(d)?.0, "iss"),
            Which::Sub => {
                // PyJWT >= 2.10 rejects a non-string `sub`.
                BorrowedStr::deserialize(d)?;
                Ok(())
            }
            Which::Aud => {
                if !matches!(r.aud, Audience::Absent) {
                    return Err(dup("aud"));
                }
                r.aud = AudValue::deserialize(d)?.0;
                Ok(())
            }
            Which::Jti => set_once(&mut r.jti, BorrowedStr::deserialize(d)?.0, "jti"),
            Which::TokenType => set_once(
                &mut r.token_type,
                BorrowedStr::deserialize(d)?.0,
                "token_type",
            ),
            Which::UserId | Which::UserIdSub => {
                if r.user_id_ok.is_some() {
                    return Err(dup("user_id"));
                }
                let value = if self.which == Which::UserIdSub {
                    // PyJWT >= 2.10 rejects a non-string `sub`, whatever it is used for.
                    UserIdValue::Str(BorrowedStr::deserialize(d)?.0)
                } else {
                    UserIdValue::deserialize(d)?
                };
                match value {
                    UserIdValue::Str(s) if !s.is_empty() => {
                        r.user_id = Some(s);
                        r.user_id_ok = Some(true);
                    }
                    UserIdValue::Int(i) => {
                        r.user_id_int = Some(i);
                        r.user_id_ok = Some(true);
                    }
                    _ => r.user_id_ok = Some(false),
                }
                Ok(())
            }
        }
    }
}

fn set_once<T, E: de::Error>(slot: &mut Option<T>, v: T, name: &str) -> Result<(), E> {
    if slot.is_some() {
        return Err(dup(name));
    }
    *slot = Some(v);
    Ok(())
}

/// A NumericDate rounded up (toward positive infinity), for `nbf`: with whole-second clocks, a
/// token whose `nbf` is `t + 0.5` is first accepted at `t + 1`, never at `t`.
struct NotBefore(i64);

impl<'de> Deserialize<'de> for NotBefore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NotBefore;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a JSON number)")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NotBefore, E> {
                Ok(NotBefore(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NotBefore, E> {
                NumericDate::deserialize(de::value::U64Deserializer::<E>::new(v))
                    .map(|n| NotBefore(n.0))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NotBefore, E> {
                let floor = NumericDate::deserialize(de::value::F64Deserializer::<E>::new(v))?.0;
                // `v` is finite and in range here; a fraction moves it to the next second.
                let whole = v.fract() == 0.0;
                Ok(NotBefore(if whole {
                    floor
                } else {
                    floor.saturating_add(1)
                }))
            }
        }
        d.deserialize_any(V)
    }
}

/// A string that borrows from the input when it has no escapes.
pub(crate) struct BorrowedStr<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for BorrowedStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

struct AudValue<'a>(Audience<'a>);

impl<'de> Deserialize<'de> for AudValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AudValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(AudValue(Audience::One(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AudValue(Audience::One(Cow::Owned(v.to_owned()))))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<BorrowedStr<'de>>()? {
                    if out.len() >= 64 {
                        return Err(de::Error::custom("too many audiences"));
                    }
                    out.push(s.0);
                }
                Ok(AudValue(Audience::Many(out)))
            }
        }
        d.deserialize_any(V)
    }
}

enum UserIdValue<'a> {
    Str(Cow<'a, str>),
    Int(i128),
    Unusable,
}

impl<'de> Deserialize<'de> for UserIdValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserIdValue<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user id")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(UserIdValue::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(UserIdValue::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(UserIdValue::Int(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(UserIdValue::Int(v.into()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(UserIdValue::Unusable)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(UserIdValue::Unusable)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(UserIdValue::Unusable)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(UserIdValue::Unusable)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(UserIdValue::Unusable)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Registered<'_>, AuthErrorKind> {
        parse_registered(json.as_bytes(), &ClaimNames::default())
    }

    #[test]
    fn reads_simplejwt_payload() {
        let r = parse(r#"{"token_type":"access","exp":10,"iat":5,"jti":"ab","user_id":"1"}"#)
            .expect("valid");
        assert_eq!(r.exp, Some(10));
        assert_eq!(r.iat, Some(5));
        assert_eq!(r.jti.as_deref(), Some("ab"));
        assert_eq!(r.token_type.as_deref(), Some("access"));
        assert_eq!(r.user_id_string().as_deref(), Some("1"));
    }

    #[test]
    fn wrong_types_are_invalid_not_absent() {
        for p in [
            r#"{"exp":"10"}"#,
            r#"{"exp":null}"#,
            r#"{"nbf":true}"#,
            r#"{"iat":[1]}"#,
            r#"{"exp":{}}"#,
            r#"{"jti":5}"#,
            r#"{"token_type":null}"#,
            r#"{"sub":1}"#,
            r#"{"aud":5}"#,
            r#"{"exp":18446744073709551616}"#,
            r#"{"exp":9223372036854775808}"#,
            r#"{"exp":-1e300}"#,
        ] {
            assert_eq!(parse(p).err(), Some(AuthErrorKind::InvalidClaim), "{p}");
        }
        // serde_json reports 1e400 as a syntax error: still a rejection.
        assert!(parse(r#"{"exp":1e400}"#).is_err());
    }

    #[test]
    fn duplicates_are_rejected() {
        assert!(parse(r#"{"exp":1,"exp":2}"#).is_err());
        assert!(parse(r#"{"user_id":"1","user_id":"2"}"#).is_err());
        assert!(parse(r#"{"aud":"a","aud":"b"}"#).is_err());
    }

    #[test]
    fn non_objects_and_trailing_garbage_are_malformed() {
        for p in [
            "[]",
            "1",
            "null",
            "\"x\"",
            "{\"exp\":1} x",
            "{\"exp\":1",
            "{/*c*/}",
        ] {
            assert!(parse(p).is_err(), "{p}");
        }
    }

    #[test]
    fn float_dates_floor() {
        assert_eq!(parse(r#"{"exp":10.9}"#).expect("ok").exp, Some(10));
    }

    #[test]
    fn user_id_forms() {
        assert_eq!(
            parse(r#"{"user_id":1}"#).expect("ok").user_id_ok,
            Some(true)
        );
        for p in [
            r#"{"user_id":null}"#,
            r#"{"user_id":""}"#,
            r#"{"user_id":true}"#,
            r#"{"user_id":{}}"#,
            r#"{"user_id":1.5}"#,
        ] {
            assert_eq!(parse(p).expect("parses").user_id_ok, Some(false), "{p}");
        }
    }
}
