//! One JSON pass over the payload for both the caller's claims type `C` and the registered
//! claims: `C` is deserialized through a thin wrapper that, for each top-level key that is a
//! registered claim, reads the (scalar) value once, records it with the very rules of the
//! registered-claims pass ([`Apply`]), and replays it to `C`.
//!
//! The common payload shape (one flat object of plain strings, booleans, `null` and non-negative
//! integers) is read first by the hand-written reader of [`crate::flat`], which feeds `C` and
//! the same [`Apply`] through the same [`ScalarDe`] replay and steps aside to the serde_json pass
//! below on anything else.
//!
//! The fast path never decides a failure: on *any* error (a syntax error, a registered claim of
//! the wrong type, an array or object where a scalar was expected, `C`'s own error), or when `C`
//! did not read the top-level object through the wrapper, the verifier falls back to the
//! two-pass path, whose errors are the reference.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, Visitor};

use crate::claims::{Apply, BorrowedStr, ClaimNames, Registered, Which};
use crate::flat;

/// What the fused pass produced (a short-lived value; its size does not matter).
#[allow(clippy::large_enum_variant)]
pub(crate) enum Fused<'a, C> {
    /// `C` and every registered claim, the whole object read.
    Both(C, Registered<'a>),
    /// `C` parsed, but not through the object wrapper: the registered claims are still unread.
    ClaimsOnly(C),
    /// Something failed: run the two-pass path for the exact error.
    Failed,
}

#[inline]
pub(crate) fn parse<'a, C: DeserializeOwned>(
    payload: &'a [u8],
    names: &ClaimNames,
) -> Fused<'a, C> {
    parse_traced(payload, names).0
}

/// Which reader produced a [`Fused`] (for the tests: a regression to the slower path must not
/// pass silently).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// The flat-object reader of [`crate::flat`].
    Flat,
    /// serde_json through [`Tee`].
    Serde,
}

#[inline]
pub(crate) fn parse_traced<'a, C: DeserializeOwned>(
    payload: &'a [u8],
    names: &ClaimNames,
) -> (Fused<'a, C>, Path) {
    // Validating the UTF-8 once lets both readers skip it for every string; invalid UTF-8 is for
    // the two-pass path to report.
    let Ok(text) = std::str::from_utf8(payload) else {
        return (Fused::Failed, Path::Serde);
    };
    // The common flat shape first; it steps aside on anything else.
    if let Some((claims, reg)) = flat::parse::<C>(text, names) {
        return (Fused::Both(claims, reg), Path::Flat);
    }
    (parse_serde(text, names), Path::Serde)
}

/// The serde_json pass through [`Tee`]; it decides every outcome the flat reader steps aside
/// from.
pub(crate) fn parse_serde<'a, C: DeserializeOwned>(
    text: &'a str,
    names: &ClaimNames,
) -> Fused<'a, C> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut st = State {
        reg: Registered::default(),
        complete: false,
        names,
    };
    let claims = match C::deserialize(Tee {
        de: &mut de,
        st: &mut st,
    }) {
        Ok(c) => c,
        Err(_) => return Fused::Failed,
    };
    if de.end().is_err() {
        return Fused::Failed;
    }
    if st.complete {
        Fused::Both(claims, st.reg)
    } else {
        Fused::ClaimsOnly(claims)
    }
}

struct State<'de, 'n> {
    reg: Registered<'de>,
    /// Set when the top-level object was read to its end through [`TeeMap`].
    complete: bool,
    names: &'n ClaimNames,
}

type Json<'de> = serde_json::Deserializer<serde_json::de::StrRead<'de>>;

struct Tee<'s, 'de, 'n> {
    de: &'s mut Json<'de>,
    st: &'s mut State<'de, 'n>,
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

impl<'de> Deserializer<'de> for Tee<'_, 'de, '_> {
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

struct TeeVisitor<'s, 'de, 'n, V> {
    visitor: V,
    st: &'s mut State<'de, 'n>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TeeVisitor<'_, 'de, '_, V> {
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

struct TeeMap<'s, 'de, 'n, A> {
    map: A,
    st: &'s mut State<'de, 'n>,
    pending: Option<Which>,
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for TeeMap<'_, 'de, '_, A> {
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
                record_and_replay(&mut self.st.reg, which, value, seed)
            }
        }
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// The one step both fused readers take for a registered claim's value: record it in `reg` with
/// the registered-claim rules ([`Apply`]), then replay it to `C`'s `seed`.
pub(crate) fn record_and_replay<'de, S: DeserializeSeed<'de>, E: de::Error>(
    reg: &mut Registered<'de>,
    which: Which,
    value: Scalar<'de>,
    seed: S,
) -> Result<S::Value, E> {
    Apply { r: reg, which }.deserialize(ScalarDe::<E>::new(value.clone()))?;
    seed.deserialize(ScalarDe::new(value))
}

/// A JSON scalar as serde_json's `deserialize_any` reports it. Arrays and objects are refused
/// (the two-pass path handles them).
#[derive(Clone)]
pub(crate) enum Scalar<'de> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'de, str>),
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON scalar")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Replays a [`Scalar`] with the visits serde_json's `Deserializer` would make for it, method by
/// method: what serde_json refuses for such a value (`deserialize_bool` of a string,
/// `deserialize_str` of a number, `deserialize_seq` of anything here, …) is refused here too,
/// so a visitor that would accept more than serde_json offers it cannot succeed where
/// serde_json fails.
pub(crate) struct ScalarDe<'de, E> {
    value: Scalar<'de>,
    _error: PhantomData<E>,
}

impl<'de, E> ScalarDe<'de, E> {
    pub(crate) fn new(value: Scalar<'de>) -> Self {
        Self {
            value,
            _error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> ScalarDe<'de, E> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match &self.value {
            Scalar::Null => de::Unexpected::Unit,
            Scalar::Bool(b) => de::Unexpected::Bool(*b),
            Scalar::I64(i) => de::Unexpected::Signed(*i),
            Scalar::U64(u) => de::Unexpected::Unsigned(*u),
            Scalar::F64(f) => de::Unexpected::Float(*f),
            Scalar::Str(s) => de::Unexpected::Str(s),
        }
    }

    /// serde_json's `peek_invalid_type`: the value is not of the kind asked for.
    fn invalid<V: Visitor<'de>>(&self, visitor: &V) -> E {
        E::invalid_type(self.unexpected(), visitor)
    }

    /// serde_json's `deserialize_number`: numbers as `deserialize_any`, nothing else.
    fn number<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::I64(_) | Scalar::U64(_) | Scalar::F64(_) => self.deserialize_any(visitor),
            _ => Err(self.invalid(&visitor)),
        }
    }

    /// serde_json's `deserialize_str`.
    fn string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Scalar::Str(Cow::Owned(s)) => visitor.visit_str(&s),
            _ => Err(self.invalid(&visitor)),
        }
    }

    /// serde_json's `deserialize_unit`.
    fn unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Null => visitor.visit_unit(),
            _ => Err(self.invalid(&visitor)),
        }
    }

    /// A numeric or `bool` visit of a map key: left to serde_json (see [`KeyDe`]).
    fn refuse<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, E> {
        Err(E::custom("a typed map key: left to serde_json"))
    }

    /// serde_json's `deserialize_seq`/`deserialize_map`/`deserialize_struct` of a scalar.
    fn not_scalar<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        Err(self.invalid(&visitor))
    }
}

/// serde_json's `UnitVariantAccess` over a string value.
struct UnitVariant<'de, E>(ScalarDe<'de, E>);

impl<'de, E: de::Error> de::EnumAccess<'de> for UnitVariant<'de, E> {
    type Error = E;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), E> {
        let value = self.0.value.clone();
        let variant = seed.deserialize(self.0)?;
        Ok((variant, Self(ScalarDe::new(value))))
    }
}

impl<'de, E: de::Error> de::VariantAccess<'de> for UnitVariant<'de, E> {
    type Error = E;

    fn unit_variant(self) -> Result<(), E> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, E> {
        Err(E::invalid_type(
            de::Unexpected::UnitVariant,
            &"newtype variant",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, E> {
        Err(E::invalid_type(
            de::Unexpected::UnitVariant,
            &"tuple variant",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, E> {
        Err(E::invalid_type(
            de::Unexpected::UnitVariant,
            &"struct variant",
        ))
    }
}

/// An object key, with the visits serde_json's `MapKey` makes: a string for most methods; the
/// numeric and `bool` methods, which serde_json answers by parsing the key's raw text as a
/// number or boolean, are refused (the two-pass path, plain serde_json, then decides), so a key
/// type asking for a `u64` cannot accept `"+7"` or `"007"` here where serde_json refuses them.
pub(crate) struct KeyDe<'de, E>(ScalarDe<'de, E>);

impl<'de, E> KeyDe<'de, E> {
    pub(crate) fn new(key: Cow<'de, str>) -> Self {
        Self(ScalarDe::new(Scalar::Str(key)))
    }
}

macro_rules! key_de {
    ($using:ident: $($method:ident ( $($ty:ty),* ))*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $(_: $ty,)* visitor: V) -> Result<V::Value, E> {
                self.0.$using(visitor)
            }
        )*
    };
}

impl<'de, E: de::Error> Deserializer<'de> for KeyDe<'de, E> {
    type Error = E;

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        // Map keys cannot be null.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.0.deserialize_bytes(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.0.deserialize_bytes(visitor)
    }

    key_de! { refuse:
        deserialize_bool()
        deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64() deserialize_i128()
        deserialize_u8() deserialize_u16() deserialize_u32() deserialize_u64() deserialize_u128()
        deserialize_f32() deserialize_f64()
    }
    key_de! { deserialize_any:
        deserialize_any() deserialize_char() deserialize_str() deserialize_string()
        deserialize_unit() deserialize_unit_struct(&'static str) deserialize_seq()
        deserialize_tuple(usize) deserialize_tuple_struct(&'static str, usize) deserialize_map()
        deserialize_struct(&'static str, &'static [&'static str]) deserialize_identifier()
        deserialize_ignored_any()
    }
}

macro_rules! scalar_de {
    ($using:ident: $($method:ident ( $($ty:ty),* ))*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $(_: $ty,)* visitor: V) -> Result<V::Value, E> {
                self.$using(visitor)
            }
        )*
    };
}

impl<'de, E: de::Error> Deserializer<'de> for ScalarDe<'de, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Null => visitor.visit_unit(),
            Scalar::Bool(b) => visitor.visit_bool(b),
            Scalar::I64(i) => visitor.visit_i64(i),
            Scalar::U64(u) => visitor.visit_u64(u),
            Scalar::F64(f) => visitor.visit_f64(f),
            Scalar::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Scalar::Str(Cow::Owned(s)) => visitor.visit_str(&s),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Bool(b) => visitor.visit_bool(b),
            _ => Err(self.invalid(&visitor)),
        }
    }

    // serde_json reads 128-bit integers as integers of that width (a fraction or exponent after
    // the digits is then a syntax error, and a `u64` overflow was read here as a float).
    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::I64(i) => visitor.visit_i128(i.into()),
            Scalar::U64(u) => visitor.visit_i128(u.into()),
            Scalar::F64(_) => Err(E::custom("not an integer")),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::U64(u) => visitor.visit_u128(u.into()),
            Scalar::I64(_) | Scalar::F64(_) => Err(E::custom("not an unsigned integer")),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, E> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, E> {
        // A string is a unit variant (serde_json's `UnitVariantAccess`, whose variant is read
        // from the string *value*, so through `ScalarDe` again, not a bare string deserializer
        // that would offer a `deserialize_u64` seed the string); anything else is refused.
        let _ = (name, variants);
        match self.value {
            Scalar::Str(_) => visitor.visit_enum(UnitVariant(self)),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_bytes(s.as_bytes()),
            Scalar::Str(Cow::Owned(s)) => visitor.visit_bytes(s.as_bytes()),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        visitor.visit_unit()
    }

    scalar_de! { number:
        deserialize_i8() deserialize_i16() deserialize_i32() deserialize_i64()
        deserialize_u8() deserialize_u16() deserialize_u32() deserialize_u64()
        deserialize_f32() deserialize_f64()
    }
    scalar_de! { string:
        deserialize_char() deserialize_str() deserialize_string() deserialize_identifier()
    }
    scalar_de! { unit: deserialize_unit() deserialize_unit_struct(&'static str) }
    scalar_de! { not_scalar:
        deserialize_seq() deserialize_tuple(usize) deserialize_tuple_struct(&'static str, usize)
        deserialize_map() deserialize_struct(&'static str, &'static [&'static str])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::{SimpleJwtClaims, parse_registered};

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

    #[test]
    fn steps_aside_on_anything_unusual() {
        for p in [
            r#"{"exp":1,"exp":2}"#,
            r#"{"exp":"1"}"#,
            r#"{"aud":["a","b"]}"#,
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

    use super::*;
    use crate::claims::SimpleJwtClaims;
    use crate::fused::Path;

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
        // Refused by serde_json; the flat reader (first) and the serde_json pass (second, an
        // escape sends it there) both accepted them before `KeyDe`.
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
    fn plain_keys_and_unit_variants_keep_the_flat_path() {
        let names = ClaimNames::default();
        // What serde_json accepts still reads (the typed key through the fallback).
        assert_eq!(
            serde_json::from_str::<HashMap<LenientId, u8>>(r#"{"7":1}"#).ok(),
            Some(HashMap::from([(LenientId(7), 1)]))
        );
        // Plain string keys and unit variants keep the flat path.
        let p = br#"{"token_type":"access","exp":1,"jti":"x","user_id":"1","k":"v"}"#;
        assert_eq!(parse_traced::<SimpleJwtClaims>(p, &names).1, Path::Flat);
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
        assert_eq!(
            parse_traced::<Typed>(br#"{"token_type":"access"}"#, &names).1,
            Path::Flat
        );
        assert!(matches!(
            parse::<Typed>(br#"{"token_type":"access"}"#, &names),
            Fused::Both(..)
        ));
    }
}
