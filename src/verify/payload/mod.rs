//! One JSON pass over the payload for both the caller's claims type `C` and the registered
//! claims, whatever the payload's shape (nesting, arrays, escapes, numbers): `C` is
//! deserialized through a thin wrapper around serde_json that, for each top-level key that is a
//! registered claim, reads the value once (a scalar, or an array of scalars as `aud` is),
//! records it with the very rules of the registered-claims pass ([`Apply`]), and replays it to
//! `C`. Every other value goes straight from serde_json to `C`.
//!
//! The pass never decides a failure: on *any* error (a syntax error, a registered claim of the
//! wrong type or a duplicate, an object where a scalar was expected, `C`'s own error), or when
//! `C` did not read the top-level object through the wrapper, the verifier falls back to the
//! two-pass path, whose errors are the reference.
//!
//! [`Apply`]: crate::verify::registered::Apply

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

#[cfg(test)]
mod pass_tests;
mod scalar;

use self::scalar::{KeyDe, Scalar, record_and_replay};
use crate::verify::registered::{BorrowedStr, ClaimNames, Registered, Which};

/// What the fused pass produced (tests; the verifier uses [`parse_into`]).
#[cfg(test)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Fused<'a, C> {
    /// `C` and every registered claim, the whole object read.
    Both(C, Registered<'a>),
    /// `C` parsed, but not through the object wrapper: the registered claims are still unread.
    ClaimsOnly(C),
    /// Something failed: run the two-pass path for the exact error.
    Failed,
}

/// What [`parse_into`] produced; the registered claims are in its `reg`.
pub(crate) enum Outcome<C> {
    /// `C`, and every registered claim recorded: the whole object was read.
    Both(C),
    /// `C` parsed, but not through the object wrapper: the registered claims are still unread.
    ClaimsOnly(C),
    /// Something failed: run the two-pass path for the exact error (`reg` is then partly
    /// filled and must be replaced).
    Failed,
}

#[cfg(test)]
pub(crate) fn parse<'a, C: DeserializeOwned>(
    payload: &'a [u8],
    names: &ClaimNames,
) -> Fused<'a, C> {
    let mut reg = Registered::default();
    match parse_into(payload, names, &mut reg) {
        Outcome::Both(c) => Fused::Both(c, reg),
        Outcome::ClaimsOnly(c) => Fused::ClaimsOnly(c),
        Outcome::Failed => Fused::Failed,
    }
}

/// One pass over `payload` for `C`, recording the registered claims in `reg` (built in place
/// by the caller: moving it around showed up in profiles).
#[inline]
pub(crate) fn parse_into<'a, C: DeserializeOwned>(
    payload: &'a [u8],
    names: &ClaimNames,
    reg: &mut Registered<'a>,
) -> Outcome<C> {
    // Validating the UTF-8 once lets serde_json skip it for every string; invalid UTF-8 is for
    // the two-pass path to report. So is a raw control character inside a string: serde_json
    // rejects one everywhere except on its raw-bytes path (a `C` that reads a string through
    // `deserialize_bytes`), and the one pass must be as strict as the two passes whatever `C`
    // asks for.
    match std::str::from_utf8(payload) {
        Ok(text) if !control_in_string(payload) => serde_into(text, names, reg),
        _ => Outcome::Failed,
    }
}

/// Whether a byte below 0x20 sits inside a JSON string, which RFC 8259 forbids.
///
/// Compact payloads (what token issuers emit) have no such byte at all, and the first,
/// branch-free scan settles them; only a payload with whitespace between its tokens is walked
/// string by string. The walk is exact for valid JSON; on invalid JSON either answer is safe,
/// since serde_json then fails and the two-pass path reports the error.
fn control_in_string(payload: &[u8]) -> bool {
    // Branch-free within each 32-byte block, so that it vectorizes.
    let mut blocks = payload.chunks_exact(32);
    let any_control = blocks
        .any(|block| block.iter().fold(0u8, |seen, &b| seen | u8::from(b < 0x20)) != 0)
        || blocks.remainder().iter().any(|&b| b < 0x20);
    if !any_control {
        return false;
    }
    let mut in_string = false;
    let mut bytes = payload.iter();
    while let Some(&b) = bytes.next() {
        match (in_string, b) {
            (_, b'"') => in_string = !in_string,
            (true, b'\\') => {
                bytes.next();
            }
            (true, 0..0x20) => return true,
            _ => {}
        }
    }
    false
}

/// The serde_json pass through [`Tee`].
fn serde_into<'a, C: DeserializeOwned>(
    text: &'a str,
    names: &ClaimNames,
    reg: &mut Registered<'a>,
) -> Outcome<C> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut st = State {
        reg,
        complete: false,
        names,
    };
    let claims = match C::deserialize(Tee {
        de: &mut de,
        st: &mut st,
    }) {
        Ok(c) => c,
        Err(_) => return Outcome::Failed,
    };
    if de.end().is_err() {
        return Outcome::Failed;
    }
    if st.complete {
        Outcome::Both(claims)
    } else {
        Outcome::ClaimsOnly(claims)
    }
}

struct State<'r, 'de, 'n> {
    reg: &'r mut Registered<'de>,
    /// Set when the top-level object was read to its end through [`TeeMap`].
    complete: bool,
    names: &'n ClaimNames,
}

type Json<'de> = serde_json::Deserializer<serde_json::de::StrRead<'de>>;

struct Tee<'s, 'r, 'de, 'n> {
    de: &'s mut Json<'de>,
    st: &'s mut State<'r, 'de, 'n>,
}

macro_rules! forward_to_inner {
    ($($method:ident ( $($arg:ident : $ty:ty),* ))*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
                self.de.$method($($arg,)* visitor)
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Tee<'_, '_, 'de, '_> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        self.de.deserialize_map(TeeVisitor {
            visitor,
            st: self.st,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    forward_to_inner! {
        deserialize_bool() deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64()
        deserialize_i128() deserialize_u8() deserialize_u16() deserialize_u32() deserialize_u64()
        deserialize_u128() deserialize_f32() deserialize_f64() deserialize_char()
        deserialize_str() deserialize_string() deserialize_bytes() deserialize_byte_buf()
        deserialize_option() deserialize_unit() deserialize_unit_struct(name: &'static str)
        deserialize_newtype_struct(name: &'static str) deserialize_seq()
        deserialize_tuple(len: usize) deserialize_tuple_struct(name: &'static str, len: usize)
        deserialize_enum(name: &'static str, variants: &'static [&'static str])
        deserialize_identifier() deserialize_ignored_any()
    }
}

struct TeeVisitor<'s, 'r, 'de, 'n, V> {
    visitor: V,
    st: &'s mut State<'r, 'de, 'n>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TeeVisitor<'_, '_, 'de, '_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.visitor.visit_map(TeeMap {
            map,
            st: self.st,
            pending: None,
        })
    }
}

struct TeeMap<'s, 'r, 'de, 'n, A> {
    map: A,
    st: &'s mut State<'r, 'de, 'n>,
    pending: Option<Which>,
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for TeeMap<'_, '_, 'de, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some(BorrowedStr(key)) = self.map.next_key::<BorrowedStr<'de>>()? else {
            self.st.complete = true;
            return Ok(None);
        };
        self.pending = Which::of(&key, self.st.names);
        seed.deserialize(KeyDe::new(key)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, Self::Error> {
        match self.pending.take() {
            None => self.map.next_value_seed(seed),
            Some(which) => {
                let value: Scalar<'de> = self.map.next_value()?;
                record_and_replay(&mut *self.st.reg, which, &value, seed)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::verify::claims::SimpleJwtClaims;
    use crate::verify::registered::parse_registered;

    /// The fused pass agrees with the two passes, claim for claim, or steps aside.
    fn agree<C: DeserializeOwned + PartialEq + fmt::Debug>(json: &str) -> &'static str {
        let names = ClaimNames::default();
        let two_reg = parse_registered(json.as_bytes(), &names);
        let two_c = serde_json::from_str::<C>(json).ok();
        match parse::<C>(json.as_bytes(), &names) {
            Fused::Both(c, reg) => {
                let two = two_reg.expect("two-pass registered parse agrees");
                assert_eq!(format!("{reg:?}"), format!("{two:?}"), "{json}");
                assert_eq!(Some(c), two_c, "{json}");
                "both"
            }
            Fused::ClaimsOnly(c) => {
                assert_eq!(Some(c), two_c, "{json}");
                "claims"
            }
            Fused::Failed => "failed",
        }
    }

    #[test]
    fn agrees_on_simplejwt_payloads() {
        let p = r#"{"token_type":"access","exp":1795655719,"iat":1795655419,"jti":"fac5344d01d34db3b5575d65f5ee8c0f","user_id":"1"}"#;
        assert_eq!(agree::<SimpleJwtClaims>(p), "both");
        assert_eq!(agree::<serde_json::Value>(p), "both");
        let extra = r#"{"token_type":"access","exp":10.5,"iat":5,"jti":"a\u0062","user_id":7,"role":"admin","n":[1,{"x":null}],"nbf":-3,"iss":"me","sub":"s","aud":"x"}"#;
        // SimpleJwtClaims floors a non-integer exp, as the verifier does.
        assert_eq!(agree::<SimpleJwtClaims>(extra), "both");
        assert_eq!(agree::<serde_json::Value>(extra), "both");
    }

    /// An identity provider's access token: nested objects, arrays (`aud` among them),
    /// non-ASCII and escaped strings. One pass yields everything.
    #[test]
    fn agrees_on_idp_payloads_in_one_pass() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Roles {
            roles: Vec<String>,
        }
        #[derive(Debug, PartialEq, Deserialize)]
        struct Idp {
            exp: i64,
            aud: Vec<String>,
            sub: String,
            name: String,
            tenant: String,
            realm_access: Roles,
            resource_access: std::collections::BTreeMap<String, Roles>,
            #[serde(default)]
            groups: Vec<String>,
        }
        for json in [
            include_str!("../../../benches/fixtures/idp.json"),
            include_str!("../../../benches/fixtures/idp_8k.json"),
        ] {
            assert_eq!(agree::<Idp>(json), "both");
            assert_eq!(agree::<serde_json::Value>(json), "both");
            assert_eq!(agree::<SimpleJwtClaims>(json), "failed"); // no token_type
        }
        for aud in [r#"[]"#, r#"["a"]"#, r#"["a","b\u0063"]"#, r#""a""#] {
            let json = format!(r#"{{"exp":1,"aud":{aud},"n":{{"aud":[1,[2]]}}}}"#);
            assert_eq!(agree::<serde_json::Value>(&json), "both", "{json}");
            #[derive(Debug, PartialEq, Deserialize)]
            struct Aud {
                aud: serde_json::Value,
            }
            assert_eq!(agree::<Aud>(&json), "both", "{json}");
        }
    }

    #[test]
    fn steps_aside_on_anything_unusual() {
        for p in [
            r#"{"exp":1,"exp":2}"#,
            r#"{"exp":"1"}"#,
            r#"{"aud":["a",1]}"#,
            r#"{"aud":[["a"]]}"#,
            r#"{"aud":{"a":1}}"#,
            r#"{"user_id":{"a":1}}"#,
            r#"{"exp":1} x"#,
            r#"[1]"#,
            r#"{"sub":1}"#,
        ] {
            assert_eq!(agree::<serde_json::Value>(p), "failed", "{p}");
        }
        // `C` that does not read an object through the wrapper: claims only.
        assert_eq!(agree::<Option<serde_json::Value>>(r#"{"exp":1}"#), "claims");
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Typed {
        exp: Option<f64>,
        iat: Option<u8>,
        jti: Option<String>,
        user_id: Option<Box<str>>,
        token_type: Kind,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Access,
        Refresh,
    }

    #[test]
    fn replayed_values_deserialize_like_serde_json() {
        for p in [
            r#"{"exp":1,"iat":2,"jti":"x","user_id":"u","token_type":"access"}"#,
            r#"{"exp":null,"iat":null,"jti":null,"user_id":null,"token_type":"refresh"}"#,
            r#"{"exp":1.5,"iat":300,"jti":"x","user_id":"u","token_type":"access"}"#,
            r#"{"exp":1,"iat":2,"jti":"\u00e9","user_id":"u","token_type":"other"}"#,
        ] {
            agree::<Typed>(p);
        }
    }
}

#[cfg(test)]
mod typed_key_tests {
    use std::collections::HashMap;

    use serde::Deserialize;

    use super::*;
    use crate::verify::claims::SimpleJwtClaims;

    /// An id read with `deserialize_u64` whose visitor also takes a string and parses it (a
    /// common "lenient id" pattern): serde_json parses a map key's raw text as a JSON number
    /// for it, so `"+7"`, `"007"` and `" 7"` are errors there, and must not be accepted here.
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct LenientId(u64);

    impl<'de> Deserialize<'de> for LenientId {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = LenientId;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an id")
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientId, E> {
                    Ok(LenientId(v))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientId, E> {
                    v.parse().map(LenientId).map_err(E::custom)
                }
            }
            d.deserialize_u64(V)
        }
    }

    /// A unit-variant enum whose variant is read with `deserialize_u64` and a visitor that also
    /// parses strings: serde_json reads the variant from the string value, so refuses it.
    #[derive(Debug, PartialEq)]
    struct Level(u64);

    impl<'de> Deserialize<'de> for Level {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct E;
            impl<'de> Visitor<'de> for E {
                type Value = Level;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a level")
                }
                fn visit_enum<A: de::EnumAccess<'de>>(self, a: A) -> Result<Level, A::Error> {
                    let (LenientId(n), v) = a.variant::<LenientId>()?;
                    de::VariantAccess::unit_variant(v)?;
                    Ok(Level(n))
                }
            }
            d.deserialize_enum("Level", &["0", "1"], E)
        }
    }

    fn outcome<C: DeserializeOwned + fmt::Debug>(json: &str, names: &ClaimNames) -> String {
        match parse::<C>(json.as_bytes(), names) {
            Fused::Both(c, _) | Fused::ClaimsOnly(c) => format!("{c:?}"),
            Fused::Failed => "failed".to_owned(),
        }
    }

    #[test]
    fn typed_keys_are_not_read_more_leniently_than_serde_json() {
        let names = ClaimNames::default();
        // Refused by serde_json; the fused pass accepted them before `KeyDe`.
        for json in [
            r#"{"+7":1}"#,
            r#"{"007":1}"#,
            r#"{"+\u0037":1}"#,
            r#"{"exp":1,"+7":1}"#,
        ] {
            assert!(
                serde_json::from_str::<HashMap<LenientId, serde_json::Value>>(json).is_err(),
                "{json}"
            );
            assert_eq!(
                outcome::<HashMap<LenientId, serde_json::Value>>(json, &names),
                "failed",
                "{json}"
            );
        }
    }

    #[test]
    fn unit_variants_are_not_read_more_leniently_than_serde_json() {
        let names = ClaimNames::default();
        for json in [r#"{"a":"+7"}"#, r#"{"a":"0\u0030"}"#] {
            assert!(serde_json::from_str::<HashMap<String, Level>>(json).is_err());
            assert_eq!(
                outcome::<HashMap<String, Level>>(json, &names),
                "failed",
                "{json}"
            );
        }
    }

    #[test]
    fn plain_keys_and_unit_variants_keep_the_one_pass() {
        let names = ClaimNames::default();
        // What serde_json accepts still reads (the typed key through the fallback).
        assert_eq!(
            serde_json::from_str::<HashMap<LenientId, u8>>(r#"{"7":1}"#).ok(),
            Some(HashMap::from([(LenientId(7), 1)]))
        );
        // Plain string keys and unit variants keep the one pass.
        let p = br#"{"token_type":"access","exp":1,"jti":"x","user_id":"1","k":"v"}"#;
        assert!(matches!(
            parse::<SimpleJwtClaims>(p, &names),
            Fused::Both(..)
        ));
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Typed {
            token_type: Kind,
        }
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Kind {
            Access,
        }
        assert!(matches!(
            parse::<Typed>(br#"{"token_type":"access"}"#, &names),
            Fused::Both(..)
        ));
    }
}
