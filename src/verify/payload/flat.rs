//! A hand-written, single-pass reader for the payload shape almost every token carries: one flat
//! JSON object whose values are plain strings, `true`, `false`, `null` and non-negative integers.
//!
//! It feeds the caller's claims type `C` (through a [`Deserializer`] whose top level is a map)
//! and the registered claims (through [`Which::of`] + [`Apply`], replaying the same [`Scalar`]
//! with [`ScalarDe`], exactly as the serde_json pass of [`super`] does), so the
//! registered-claim rules stay in one place and `C` sees the visits serde_json would make.
//!
//! It accepts only a strict subset of JSON and decides nothing: on anything else (an escape, a
//! negative number, a fraction, an exponent, a `u64` overflow, an array or object value, a
//! syntax error, trailing bytes), on any error of `C` or of a registered claim, or when `C` did
//! not read the whole object, [`parse`] returns `None` and the caller falls back to the serde_json
//! pass, whose results and errors are the reference. No recursion, no allocation of its own.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, Visitor};

use super::scalar::{KeyDe, Scalar, ScalarDe, record_and_replay};
use crate::verify::registered::{ClaimNames, Registered, Which};

/// `C` and the registered claims of `text` if it is a flat object in the subset and everything
/// deserialized; `None` to step aside.
#[inline]
pub(crate) fn parse<'a, C: DeserializeOwned>(
    text: &'a str,
    names: &ClaimNames,
) -> Option<(C, Registered<'a>)> {
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    if b.get(pos) != Some(&b'{') {
        return None;
    }
    pos += 1;
    let mut flat = Flat {
        text,
        pos,
        state: State::First,
        reg: Registered::default(),
        names,
    };
    let claims = C::deserialize(Top(&mut flat)).ok()?;
    // Only a map read to its closing brace (and nothing but whitespace after it) counts.
    matches!(flat.state, State::Done).then_some((claims, flat.reg))
}

/// The only error of this module: "not handled here, ask serde_json".
#[derive(Debug)]
pub(crate) struct StepAside;

impl fmt::Display for StepAside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a flat claims object")
    }
}

impl std::error::Error for StepAside {}

impl de::Error for StepAside {
    // The message is dropped: the serde_json pass reruns and reports the real error.
    fn custom<T: fmt::Display>(_msg: T) -> Self {
        StepAside
    }
}

#[derive(Clone, Copy)]
enum State {
    /// Just after `{`.
    First,
    /// A key was read (and its `:`); its value is next. `Some` for a registered claim.
    Value(Option<Which>),
    /// A value was read; `,` or `}` is next.
    AfterValue,
    /// `}` was read and only whitespace followed it.
    Done,
}

struct Flat<'a, 'n> {
    text: &'a str,
    pos: usize,
    state: State,
    reg: Registered<'a>,
    names: &'n ClaimNames,
}

/// The index of the closing quote of a string whose contents start at `i`, or `None` if a
/// backslash, a control byte (< 0x20) or the end of the input comes first.
#[inline]
pub(super) fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Eight bytes at a time: a high bit marks each byte that is `"`, a backslash or below 0x20 (the
    // classic "has a zero / a smaller byte" tricks; borrows only run upward from a real match,
    // so the lowest marked byte is always a real one).
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = x ^ (ONES * u64::from(b'"'));
        let slash = x ^ (ONES * u64::from(b'\\'));
        let hit = (quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        let hit = hit & HIGH;
        if hit != 0 {
            let j = i + (hit.trailing_zeros() / 8) as usize;
            return (b.get(j) == Some(&b'"')).then_some(j);
        }
        i += 8;
    }
    loop {
        match *b.get(i)? {
            b'"' => return Some(i),
            b'\\' => return None,
            c if c < 0x20 => return None,
            _ => i += 1,
        }
    }
}

#[inline]
fn skip_ws(b: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(pos) {
        pos += 1;
    }
    pos
}

impl<'a> Flat<'a, '_> {
    /// The string whose opening quote is at `self.pos`, if it has no escape and no control byte.
    #[inline]
    fn string(&mut self) -> Result<&'a str, StepAside> {
        let start = self.pos + 1;
        let end = string_end(self.text.as_bytes(), start).ok_or(StepAside)?;
        self.pos = end + 1;
        // Both ends are next to ASCII quotes, hence char boundaries of the (valid UTF-8) text.
        self.text.get(start..end).ok_or(StepAside)
    }

    /// `0|[1-9][0-9]*` fitting in `u64`, not followed by `.`, `e` or `E` (serde_json reads
    /// those as floats; the `,`/`}` check after the value would refuse them too).
    #[inline]
    fn integer(&mut self) -> Result<u64, StepAside> {
        let b = self.text.as_bytes();
        let start = self.pos;
        let mut i = start;
        let mut n: u64 = 0;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            n = n.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        let digits = b.get(start..i).ok_or(StepAside)?;
        match digits.len() {
            // 19 digits always fit in a u64.
            1..=19 => {}
            // 20 may not (serde_json then reads a float): redo it with checks.
            20 => {
                n = digits
                    .iter()
                    .try_fold(0u64, |n, &c| {
                        n.checked_mul(10)?
                            .checked_add(u64::from(c.wrapping_sub(b'0')))
                    })
                    .ok_or(StepAside)?;
            }
            _ => return Err(StepAside),
        }
        if digits.len() > 1 && digits.first() == Some(&b'0') {
            // A leading zero: a syntax error for serde_json.
            return Err(StepAside);
        }
        if let Some(b'.' | b'e' | b'E') = b.get(i) {
            return Err(StepAside);
        }
        self.pos = i;
        Ok(n)
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Result<(), StepAside> {
        let end = self.pos + word.len();
        if self.text.as_bytes().get(self.pos..end) != Some(word) {
            return Err(StepAside);
        }
        self.pos = end;
        Ok(())
    }

    /// The scalar value at `self.pos` (whitespace already skipped).
    #[inline]
    fn scalar(&mut self) -> Result<Scalar<'a>, StepAside> {
        match self.text.as_bytes().get(self.pos) {
            Some(b'"') => self.string().map(|s| Scalar::Str(Cow::Borrowed(s))),
            Some(b'0'..=b'9') => self.integer().map(Scalar::U64),
            Some(b't') => self.literal(b"true").map(|()| Scalar::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Scalar::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Scalar::Null),
            _ => Err(StepAside),
        }
    }

    /// Reads the next key (and its `:`), or the closing `}` and the trailing whitespace.
    #[inline]
    fn key(&mut self) -> Result<Option<&'a str>, StepAside> {
        let b = self.text.as_bytes();
        let mut pos = skip_ws(b, self.pos);
        match (self.state, b.get(pos)) {
            (State::First | State::AfterValue, Some(b'}')) => {
                if skip_ws(b, pos + 1) != b.len() {
                    return Err(StepAside);
                }
                self.pos = b.len();
                self.state = State::Done;
                return Ok(None);
            }
            (State::Done, _) => return Ok(None),
            (State::First, Some(b'"')) => {}
            (State::AfterValue, Some(b',')) => {
                pos = skip_ws(b, pos + 1);
                if b.get(pos) != Some(&b'"') {
                    return Err(StepAside);
                }
            }
            _ => return Err(StepAside),
        }
        self.pos = pos;
        let key = self.string()?;
        let pos = skip_ws(b, self.pos);
        if b.get(pos) != Some(&b':') {
            return Err(StepAside);
        }
        self.pos = skip_ws(b, pos + 1);
        self.state = State::Value(Which::of(key, self.names));
        Ok(Some(key))
    }
}

macro_rules! step_aside {
    ($($method:ident ( $($arg:ident : $ty:ty),* ))*) => {
        $(
            fn $method<V: Visitor<'a>>(self, $(_: $ty,)* _: V) -> Result<V::Value, StepAside> {
                Err(StepAside)
            }
        )*
    };
}

/// The top level: a map, or nothing.
struct Top<'p, 'a, 'n>(&'p mut Flat<'a, 'n>);

impl<'a> Deserializer<'a> for Top<'_, 'a, '_> {
    type Error = StepAside;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, StepAside> {
        visitor.visit_map(FlatMap(self.0))
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, StepAside> {
        visitor.visit_map(FlatMap(self.0))
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, StepAside> {
        visitor.visit_map(FlatMap(self.0))
    }

    // Anything else (`Option<C>`, a newtype, a sequence, …) is for the serde_json pass.
    step_aside! {
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

struct FlatMap<'p, 'a, 'n>(&'p mut Flat<'a, 'n>);

impl<'a> MapAccess<'a> for FlatMap<'_, 'a, '_> {
    type Error = StepAside;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, StepAside> {
        if let State::Value(_) = self.0.state {
            // A key asked for before the previous value was read.
            return Err(StepAside);
        }
        match self.0.key()? {
            Some(key) => seed.deserialize(KeyDe::new(Cow::Borrowed(key))).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, StepAside> {
        let State::Value(which) = self.0.state else {
            return Err(StepAside);
        };
        let value = self.0.scalar()?;
        self.0.state = State::AfterValue;
        match which {
            Some(which) => record_and_replay(&mut self.0.reg, which, &value, seed),
            None => seed.deserialize(ScalarDe::new(&value)),
        }
    }
}
