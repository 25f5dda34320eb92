//! The values the fused payload pass hands on: a registered claim's value ([`Scalar`]: a JSON
//! scalar or an array of scalars, as `aud` is) recorded once with the registered-claim rules and
//! replayed to `C` ([`ScalarDe`]), and object keys ([`KeyDe`]), each visited exactly as
//! serde_json would visit them, so `C` cannot accept through the fused pass what serde_json
//! refuses.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};

use crate::verify::registered::{Apply, Registered, Which};

/// The one step the fused pass takes for a registered claim's value: record it in `reg` with
/// the registered-claim rules ([`Apply`]), then replay it to `C`'s `seed`. Both read the one
/// captured value; nothing is copied.
pub(crate) fn record_and_replay<'de, S: DeserializeSeed<'de>, E: de::Error>(
    reg: &mut Registered<'de>,
    which: Which,
    value: &Scalar<'de>,
    seed: S,
) -> Result<S::Value, E> {
    Apply { r: reg, which }.deserialize(ScalarDe::<E>::new(value))?;
    seed.deserialize(ScalarDe::new(value))
}

/// A registered claim's value as serde_json's `deserialize_any` reports it: a scalar, or an array
/// of scalars (`aud`). Objects and nested arrays are refused (the two-pass path handles them).
pub(crate) enum Scalar<'de> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(Cow<'de, str>),
    Seq(Vec<Scalar<'de>>),
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor { nested: false })
    }
}

/// Reads a [`Scalar`]; `nested` for an array's element, which may not be an array itself.
struct ScalarVisitor {
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON scalar or an array of scalars")
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
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if self.nested {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(ScalarVisitor { nested: true })? {
            out.push(v);
        }
        Ok(Scalar::Seq(out))
    }
}

/// Replays a [`Scalar`] with the visits serde_json's `Deserializer` would make for it, method by
/// method: what serde_json refuses for such a value (`deserialize_bool` of a string,
/// `deserialize_str` of a number, `deserialize_seq` of anything here, …) is refused here too,
/// so a visitor that would accept more than serde_json offers it cannot succeed where
/// serde_json fails.
pub(crate) struct ScalarDe<'v, 'de, E> {
    value: &'v Scalar<'de>,
    _error: PhantomData<E>,
}

impl<'v, 'de, E> ScalarDe<'v, 'de, E> {
    pub(crate) fn new(value: &'v Scalar<'de>) -> Self {
        Self {
            value,
            _error: PhantomData,
        }
    }
}

impl<'de, E: de::Error> ScalarDe<'_, 'de, E> {
    fn unexpected(&self) -> de::Unexpected<'_> {
        match self.value {
            Scalar::Null => de::Unexpected::Unit,
            Scalar::Bool(b) => de::Unexpected::Bool(*b),
            Scalar::I64(i) => de::Unexpected::Signed(*i),
            Scalar::U64(u) => de::Unexpected::Unsigned(*u),
            Scalar::F64(f) => de::Unexpected::Float(*f),
            Scalar::Str(s) => de::Unexpected::Str(s),
            Scalar::Seq(_) => de::Unexpected::Seq,
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
            Scalar::Str(Cow::Owned(s)) => visitor.visit_str(s),
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

    /// serde_json's `deserialize_seq`: an array's elements, each again a [`ScalarDe`]. As in
    /// serde_json, a visitor that leaves elements unread fails.
    fn seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Seq(items) => {
                let mut rest = SeqDe {
                    items: items.iter(),
                    _error: PhantomData,
                };
                let out = visitor.visit_seq(&mut rest)?;
                if rest.items.len() == 0 {
                    Ok(out)
                } else {
                    Err(E::custom("trailing characters"))
                }
            }
            _ => Err(self.invalid(&visitor)),
        }
    }

    /// `deserialize_map`/`deserialize_struct`: never a map here. (serde_json reads a struct
    /// from an array too; refusing it only sends the payload to the two-pass path.)
    fn not_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        Err(self.invalid(&visitor))
    }
}

/// The elements of a [`Scalar::Seq`], as serde_json's `SeqAccess` hands them out (no size hint).
struct SeqDe<'v, 'de, E> {
    items: std::slice::Iter<'v, Scalar<'de>>,
    _error: PhantomData<E>,
}

impl<'de, E: de::Error> SeqAccess<'de> for &mut SeqDe<'_, 'de, E> {
    type Error = E;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, E> {
        match self.items.next() {
            Some(v) => seed.deserialize(ScalarDe::new(v)).map(Some),
            None => Ok(None),
        }
    }
}

/// serde_json's `UnitVariantAccess` over a string value.
struct UnitVariant<'v, 'de, E>(ScalarDe<'v, 'de, E>);

impl<'v, 'de, E: de::Error> de::EnumAccess<'de> for UnitVariant<'v, 'de, E> {
    type Error = E;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), E> {
        let value = self.0.value;
        let variant = seed.deserialize(self.0)?;
        Ok((variant, Self(ScalarDe::new(value))))
    }
}

impl<'de, E: de::Error> de::VariantAccess<'de> for UnitVariant<'_, 'de, E> {
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
pub(crate) struct KeyDe<'de, E> {
    key: Scalar<'de>,
    _error: PhantomData<E>,
}

impl<'de, E> KeyDe<'de, E> {
    pub(crate) fn new(key: Cow<'de, str>) -> Self {
        Self {
            key: Scalar::Str(key),
            _error: PhantomData,
        }
    }
}

macro_rules! key_de {
    ($using:ident: $($method:ident ( $($ty:ty),* ))*) => {
        $(
            fn $method<V: Visitor<'de>>(self, $(_: $ty,)* visitor: V) -> Result<V::Value, E> {
                ScalarDe::<E>::new(&self.key).$using(visitor)
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
        ScalarDe::<E>::new(&self.key).deserialize_enum(name, variants, visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        ScalarDe::<E>::new(&self.key).deserialize_bytes(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        ScalarDe::<E>::new(&self.key).deserialize_bytes(visitor)
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

impl<'de, E: de::Error> Deserializer<'de> for ScalarDe<'_, 'de, E> {
    type Error = E;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Null => visitor.visit_unit(),
            Scalar::Bool(b) => visitor.visit_bool(*b),
            Scalar::I64(i) => visitor.visit_i64(*i),
            Scalar::U64(u) => visitor.visit_u64(*u),
            Scalar::F64(f) => visitor.visit_f64(*f),
            Scalar::Str(Cow::Borrowed(s)) => visitor.visit_borrowed_str(s),
            Scalar::Str(Cow::Owned(s)) => visitor.visit_str(s),
            Scalar::Seq(_) => self.seq(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.invalid(&visitor)),
        }
    }

    // serde_json reads 128-bit integers as integers of that width (a fraction or exponent after
    // the digits is then a syntax error, and a `u64` overflow was read here as a float).
    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::I64(i) => visitor.visit_i128((*i).into()),
            Scalar::U64(u) => visitor.visit_i128((*u).into()),
            Scalar::F64(_) => Err(E::custom("not an integer")),
            _ => Err(self.invalid(&visitor)),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, E> {
        match self.value {
            Scalar::U64(u) => visitor.visit_u128((*u).into()),
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
    scalar_de! { seq:
        deserialize_seq() deserialize_tuple(usize) deserialize_tuple_struct(&'static str, usize)
    }
    scalar_de! { not_map:
        deserialize_map() deserialize_struct(&'static str, &'static [&'static str])
    }
}
