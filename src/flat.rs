//! A hand-written, single-pass reader for the payload shape almost every token carries: one flat
//! JSON object whose values are plain strings, `true`, `false`, `null` and non-negative integers.
//!
//! It feeds the caller's claims type `C` (through a [`Deserializer`] whose top level is a map)
//! and the registered claims (through [`Which::of`] + [`Apply`], replaying the same [`Scalar`]
//! with [`ScalarDe`], exactly as the serde_json pass of [`crate::fused`] does), so the
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

use crate::claims::{ClaimNames, Registered, Which};
use crate::fused::{KeyDe, Scalar, ScalarDe, record_and_replay};

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
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
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
            Some(which) => record_and_replay(&mut self.0.reg, which, value, seed),
            None => seed.deserialize(ScalarDe::new(value)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::HashMap;
    use std::fmt::Debug;

    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::test_runner::{Config, TestRunner};
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;
    use crate::claims::{SimpleJwtClaims, parse_registered};
    use crate::fused::{Fused, Path, parse_serde, parse_traced};

    const REGISTERED: [&str; 10] = [
        "exp",
        "nbf",
        "iat",
        "jti",
        "token_type",
        "user_id",
        "aud",
        "iss",
        "sub",
        "refresh_exp",
    ];

    fn names_default() -> ClaimNames {
        ClaimNames::default()
    }

    /// simplejwt's settings moved around: the user id in `sub`, other names for the rest.
    fn names_custom() -> ClaimNames {
        ClaimNames {
            user_id: Cow::Borrowed("sub"),
            token_type: Cow::Borrowed("type"),
            jti: Cow::Borrowed("id"),
        }
    }

    fn variant<C>(f: &Fused<'_, C>) -> &'static str {
        match f {
            Fused::Both(..) => "Both",
            Fused::ClaimsOnly(_) => "ClaimsOnly",
            Fused::Failed => "Failed",
        }
    }

    /// `fused::parse` (flat reader first) and the serde_json pass alone give the same outcome;
    /// when the flat reader decided it, `C` is also what `serde_json::from_slice` gives and the
    /// registered claims what the two-pass reader gives. Returns which path ran.
    fn same<C: DeserializeOwned + PartialEq + Debug>(
        payload: &[u8],
        names: &ClaimNames,
    ) -> Result<Path, TestCaseError> {
        let (fast, path) = parse_traced::<C>(payload, names);
        let slow = match std::str::from_utf8(payload) {
            Ok(text) => parse_serde::<C>(text, names),
            Err(_) => Fused::Failed,
        };
        let shown = String::from_utf8_lossy(payload);
        match (&fast, &slow) {
            (Fused::Both(a, ra), Fused::Both(b, rb)) => {
                prop_assert_eq!(a, b, "{}", shown);
                prop_assert_eq!(format!("{ra:?}"), format!("{rb:?}"), "{}", shown);
            }
            (Fused::ClaimsOnly(a), Fused::ClaimsOnly(b)) => prop_assert_eq!(a, b, "{}", shown),
            (Fused::Failed, Fused::Failed) => {}
            (a, b) => prop_assert!(
                false,
                "{} (flat first) vs {} (serde_json) for {}",
                variant(a),
                variant(b),
                shown
            ),
        }
        if path == Path::Flat {
            let Fused::Both(c, reg) = &fast else {
                return Err(TestCaseError::fail("the flat path gave less than Both"));
            };
            let direct = serde_json::from_slice::<C>(payload).ok();
            prop_assert_eq!(Some(c), direct.as_ref(), "{}", shown);
            match parse_registered(payload, names) {
                Ok(two) => prop_assert_eq!(format!("{reg:?}"), format!("{two:?}"), "{}", shown),
                Err(kind) => prop_assert!(false, "two-pass {kind:?} for {}", shown),
            }
        }
        Ok(path)
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Strict {
        token_type: String,
        exp: u64,
        #[serde(default)]
        iat: Option<i64>,
        jti: String,
        user_id: Value,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(default)]
    #[derive(Default)]
    struct Defaults {
        exp: Option<u64>,
        nbf: Option<f64>,
        jti: Option<String>,
        user_id: Option<Value>,
        b: Option<bool>,
        opt: Option<Option<String>>,
        role: String,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Access,
        Refresh,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Typed {
        token_type: Kind,
        level: u8,
        #[serde(default)]
        kind: Option<Kind>,
    }

    /// Visits the scalar kinds serde_json treats specially by method: 128-bit integers, `char`,
    /// unit, bytes, an untagged enum (buffered through serde's `Content`).
    #[derive(Debug, PartialEq, Deserialize, Default)]
    #[serde(default)]
    struct Exotic {
        i: Option<i128>,
        u: Option<u128>,
        c: Option<char>,
        unit: Option<()>,
        f: Option<f32>,
        any: Option<Untagged>,
        #[serde(with = "bytes_as_vec")]
        role: Vec<u8>,
    }

    mod bytes_as_vec {
        pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Vec<u8>, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Vec<u8>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                    Ok(v.to_vec())
                }
                // Accepts more than serde_json offers for bytes: a number must still fail.
                fn visit_u64<E>(self, v: u64) -> Result<Vec<u8>, E> {
                    Ok(v.to_be_bytes().to_vec())
                }
            }
            d.deserialize_bytes(V)
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Untagged {
        B(bool),
        N(u64),
        S(String),
    }

    /// Internally tagged on `token_type` (serde buffers the object and looks for the tag).
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(tag = "token_type", rename_all = "lowercase")]
    enum Tagged {
        Access { user_id: Value, exp: u64 },
        Refresh { jti: String },
    }

    /// Untagged at the top level: the first variant that fits the buffered object.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Timed { exp: i64, jti: String },
        Other(HashMap<String, Value>),
    }

    /// Reads only the first entry of the object.
    #[derive(Debug, PartialEq)]
    struct FirstEntry(Option<(String, Value)>);

    impl<'de> Deserialize<'de> for FirstEntry {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = FirstEntry;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FirstEntry, A::Error> {
                    Ok(FirstEntry(map.next_entry()?))
                }
            }
            d.deserialize_map(V)
        }
    }

    /// Every claims type of the equivalence tests, under both claim-name settings.
    fn all_same(payload: &[u8]) -> Result<Vec<Path>, TestCaseError> {
        let mut paths = Vec::new();
        for names in [names_default(), names_custom()] {
            paths.push(same::<SimpleJwtClaims>(payload, &names)?);
            paths.push(same::<Value>(payload, &names)?);
            paths.push(same::<HashMap<String, Value>>(payload, &names)?);
            paths.push(same::<Strict>(payload, &names)?);
            paths.push(same::<Defaults>(payload, &names)?);
            paths.push(same::<Typed>(payload, &names)?);
            paths.push(same::<Exotic>(payload, &names)?);
            paths.push(same::<FirstEntry>(payload, &names)?);
            paths.push(same::<Tagged>(payload, &names)?);
            paths.push(same::<Either>(payload, &names)?);
            paths.push(same::<Option<Value>>(payload, &names)?);
        }
        Ok(paths)
    }

    fn ws() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just(String::new()),
            1 => prop::collection::vec(select(vec![" ", "\t", "\n", "\r"]), 1..4)
                .prop_map(|v| v.concat()),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        let mut pool: Vec<&'static str> = REGISTERED.to_vec();
        pool.extend([
            "role", "level", "kind", "i", "u", "c", "unit", "b", "f", "any", "opt", "", "type",
            "id", "é",
        ]);
        prop_oneof![
            8 => select(pool).prop_map(|k| format!("\"{k}\"")),
            1 => "[a-z\u{e9}]{0,3}".prop_map(|k| format!("\"{k}\"")),
            1 => select(vec![
                r#""e\u0078p""#, r#""a\"b""#, "\"ex\tp\"", "exp", "\"exp", "1", "null",
                r#""\u0065xp""#,
            ])
            .prop_map(String::from),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => "[a-z0-9 \u{e9}\u{1F600}]{0,6}".prop_map(|s| format!("\"{s}\"")),
            2 => any::<u64>().prop_map(|n| n.to_string()),
            2 => (0u64..4_000_000_000).prop_map(|n| n.to_string()),
            2 => (0u64..300).prop_map(|n| n.to_string()),
            1 => any::<i64>().prop_map(|n| n.to_string()),
            1 => any::<f64>().prop_map(|f| f.to_string()),
            1 => (0u32..1000, 0u32..100).prop_map(|(a, b)| format!("{a}.{b}")),
            4 => select(vec![
                "true", "false", "null", "0", "-0", "01", "00", "1.5", "1e3", "1E3", "0e1", "2.0",
                "18446744073709551615", "18446744073709551616", "99999999999999999999999", "-1",
                "\"access\"", "\"refresh\"", "\"x\"", "\"\"", "\"a\\u0062\"", "\"\\n\"",
                "\"tab\there\"", "\"\\ud800\"", "\"\\\"\"", "[]", "[1,\"a\"]", "[\"a\",\"b\"]",
                "{}", "{\"x\":null}", "tru", "nul", "+1", ".5", "'a'", "\"", "", "1.", "1e", "0x1",
                "\"x\"y", "truex", "NaN", "-", "1 2", "falsey", "nulll",
            ])
            .prop_map(String::from),
        ]
    }

    fn entry() -> impl Strategy<Value = String> {
        let colon = prop_oneof![12 => Just(":"), 1 => Just(""), 1 => Just("::"), 1 => Just("=")];
        (ws(), key(), ws(), colon, ws(), value(), ws())
            .prop_map(|(a, k, b, c, d, v, e)| format!("{a}{k}{b}{c}{d}{v}{e}"))
    }

    fn object() -> impl Strategy<Value = Vec<u8>> {
        let sep = prop_oneof![16 => Just(","), 1 => Just(""), 1 => Just(",,"), 1 => Just(";")];
        let open = prop_oneof![16 => Just("{"), 1 => Just("["), 1 => Just(""), 1 => Just("{{")];
        let close = prop_oneof![16 => Just("}"), 1 => Just(",}"), 1 => Just(""), 1 => Just("]")];
        let tail = prop_oneof![
            12 => Just(""),
            1 => Just("x"),
            1 => Just(","),
            1 => Just("}"),
            1 => Just("{}"),
            1 => Just("\u{0}"),
            1 => Just("\u{a0}"),
        ];
        (
            ws(),
            open,
            prop::collection::vec((entry(), sep), 0..8),
            ws(),
            close,
            ws(),
            tail,
            prop_oneof![8 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
        )
            .prop_map(|(lead, open, entries, inner, close, trail, tail, cut)| {
                let mut s = format!("{lead}{open}");
                for (i, (e, sep)) in entries.iter().enumerate() {
                    if i > 0 {
                        s.push_str(sep);
                    }
                    s.push_str(e);
                }
                s.push_str(&format!("{inner}{close}{trail}{tail}"));
                let mut bytes = s.into_bytes();
                // A truncation anywhere, even inside a multi-byte character.
                if let Some(cut) = cut {
                    bytes.truncate(cut.index(bytes.len() + 1));
                }
                bytes
            })
    }

    /// Random, mostly-flat objects with every kind of value and defect: both readers agree on
    /// every claims type, and the flat reader does run on a fair share of them.
    #[test]
    fn flat_reader_agrees_with_serde_json() {
        let cases = 3000;
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let flat = Cell::new(0u32);
        let result = runner.run(&object(), |payload| {
            let paths = all_same(&payload)?;
            if paths.contains(&Path::Flat) {
                flat.set(flat.get() + 1);
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        // About one in ten of these objects is flat and well-typed for some claims type.
        assert!(
            flat.get() > cases / 20,
            "flat path ran {} times",
            flat.get()
        );
    }

    /// A registered claim with a value of the right type for it.
    fn registered_entry(name: &'static str) -> BoxedStrategy<(String, String)> {
        let value = match name {
            "exp" | "nbf" | "iat" | "refresh_exp" => {
                (0..=i64::MAX as u64).prop_map(|n| n.to_string()).boxed()
            }
            "user_id" => prop_oneof![
                any::<u64>().prop_map(|n| n.to_string()),
                "[a-z0-9]{0,8}".prop_map(|s| format!("\"{s}\"")),
                Just("null".to_owned()),
                Just("true".to_owned()),
            ]
            .boxed(),
            _ => "[a-z0-9\u{e9}]{0,8}"
                .prop_map(|s| format!("\"{s}\""))
                .boxed(),
        };
        value.prop_map(move |v| (name.to_owned(), v)).boxed()
    }

    fn plain_value() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -!#-\\[\\]-~\u{e9}\u{1F600}]{0,8}".prop_map(|s| format!("\"{s}\"")),
            any::<u64>().prop_map(|n| n.to_string()),
            select(vec!["true", "false", "null", "0"]).prop_map(String::from),
        ]
    }

    /// Objects entirely in the subset, with unique, well-typed registered claims.
    fn clean_object() -> impl Strategy<Value = Vec<u8>> {
        let registered = prop::sample::subsequence(REGISTERED.to_vec(), 0..=REGISTERED.len())
            .prop_flat_map(|names| names.into_iter().map(registered_entry).collect::<Vec<_>>());
        let others = prop::collection::btree_map("[a-z]{1,6}", plain_value(), 0..5).prop_map(|m| {
            m.into_iter()
                .filter(|(k, _)| !REGISTERED.contains(&k.as_str()))
                .collect::<Vec<_>>()
        });
        (
            registered,
            others,
            Just(()).prop_perturb(|(), mut rng| rng.random::<u64>()),
        )
            .prop_flat_map(|(reg, others, seed)| {
                let mut entries: Vec<(String, String)> = reg.into_iter().chain(others).collect();
                // A shuffle driven by the case's own randomness.
                let mut s = seed;
                for i in (1..entries.len()).rev() {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    entries.swap(i, (s >> 33) as usize % (i + 1));
                }
                let n = entries.len();
                (Just(entries), prop::collection::vec(ws(), 4 * n + 3))
            })
            .prop_map(|(entries, ws)| {
                let mut w = ws.into_iter();
                let mut next = || w.next().unwrap_or_default();
                let mut s = format!("{}{{", next());
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&format!(
                        "{}\"{k}\"{}:{}{v}{}",
                        next(),
                        next(),
                        next(),
                        next()
                    ));
                }
                s.push_str(&format!("{}}}{}", next(), next()));
                s.into_bytes()
            })
    }

    /// The byte-at-a-time definition `string_end` must match.
    fn string_end_naive(b: &[u8], i: usize) -> Option<usize> {
        let rest = b.get(i..)?;
        let j = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        (rest[j] == b'"').then_some(i + j)
    }

    proptest! {
        #![proptest_config(Config { cases: 4000, failure_persistence: None, ..Config::default() })]

        /// The eight-bytes-at-a-time scan finds what a byte loop finds, at every offset, with
        /// quotes, backslashes, control and high bytes anywhere.
        #[test]
        fn string_end_matches_a_byte_loop(
            bytes in prop::collection::vec(
                prop_oneof![
                    4 => 0x20u8..0x7f,
                    1 => Just(b'"'),
                    1 => Just(b'\\'),
                    1 => 0u8..0x20,
                    1 => 0x7fu8..=0xff,
                    1 => select(vec![0x21u8, 0x23, 0x5b, 0x5d, 0x1f, 0x20, 0xa2, 0xdc]),
                ],
                0..40,
            ),
            start in 0usize..42,
        ) {
            prop_assert_eq!(string_end(&bytes, start), string_end_naive(&bytes, start));
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 1000, failure_persistence: None, ..Config::default() })]

        /// Every object in the subset is read by the flat reader, with the same result.
        #[test]
        fn flat_reader_takes_every_clean_object(payload in clean_object()) {
            let names = names_default();
            prop_assert_eq!(same::<Value>(&payload, &names)?, Path::Flat);
            prop_assert_eq!(same::<HashMap<String, Value>>(&payload, &names)?, Path::Flat);
            all_same(&payload)?;
        }
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Access {
        token_type: String,
        exp: i64,
        iat: i64,
        jti: String,
        user_id: String,
    }

    /// The payloads the verifier sees most run through the flat reader.
    #[test]
    fn simplejwt_payloads_take_the_flat_path() {
        let names = names_default();
        let p = br#"{"token_type":"access","exp":1795655719,"iat":1795655419,"jti":"fac5344d01d34db3b5575d65f5ee8c0f","user_id":"1"}"#;
        let (f, path) = parse_traced::<SimpleJwtClaims>(p, &names);
        assert_eq!(path, Path::Flat);
        let Fused::Both(c, reg) = f else {
            panic!("not Both");
        };
        assert_eq!(c.exp, 1795655719);
        assert_eq!(c.user_id, crate::UserId::from("1"));
        assert!(c.extra.is_empty());
        assert_eq!(reg.exp, Some(1795655719));
        assert_eq!(reg.iat, Some(1795655419));
        assert_eq!(reg.jti.as_deref(), Some("fac5344d01d34db3b5575d65f5ee8c0f"));
        assert_eq!(reg.token_type.as_deref(), Some("access"));
        assert_eq!(reg.user_id.as_deref(), Some("1"));
        assert!(
            matches!(reg.jti, Some(Cow::Borrowed(_))),
            "strings borrow from the payload"
        );
        assert_eq!(same::<Access>(p, &names).ok(), Some(Path::Flat));
        assert_eq!(same::<Value>(p, &names).ok(), Some(Path::Flat));
        // Older simplejwt: an integer user id, whitespace, extra claims.
        let old = b" {\n \"token_type\" : \"refresh\", \"exp\":1, \"iat\":0, \"jti\":\"x\", \"user_id\":42, \"role\":\"admin\", \"staff\":true, \"team\":null}\r\n";
        assert_eq!(same::<SimpleJwtClaims>(old, &names).ok(), Some(Path::Flat));
        // Claims types that buffer the object first (tagged and untagged enums) read it here too.
        let tagged = br#"{"user_id":"1","exp":5,"token_type":"access"}"#;
        assert_eq!(same::<Tagged>(tagged, &names).ok(), Some(Path::Flat));
        assert_eq!(same::<Either>(tagged, &names).ok(), Some(Path::Flat));
        // Escapes, floats and nested values are the serde_json pass's.
        for p in [
            &br#"{"token_type":"access","exp":1.5,"iat":0,"jti":"x","user_id":"1"}"#[..],
            br#"{"token_type":"acc\u0065ss","exp":1,"iat":0,"jti":"x","user_id":"1"}"#,
            br#"{"token_type":"access","exp":1,"iat":0,"jti":"x","user_id":"1","r":[1]}"#,
        ] {
            assert_eq!(same::<SimpleJwtClaims>(p, &names).ok(), Some(Path::Serde));
        }
    }

    #[test]
    fn steps_aside_from_every_defect() {
        for p in [
            "",
            " ",
            "{",
            "{}x",
            "{} {}",
            "{,}",
            r#"{"a":1,}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a" 1}"#,
            r#"{"a":01}"#,
            r#"{"a":-1}"#,
            r#"{"a":-0}"#,
            r#"{"a":1.0}"#,
            r#"{"a":1e2}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":"\n"}"#,
            "{\"a\":\"\t\"}",
            r#"{"a":[]}"#,
            r#"{"a":{}}"#,
            r#"{"a":tru}"#,
            r#"{"a":truee}"#,
            r#"{"a":nul}"#,
            r#"{"exp":1,"exp":1}"#,
            r#"{"exp":"1"}"#,
            r#"{"sub":1}"#,
            "\u{feff}{}",
        ] {
            assert!(
                flat_parse::<Value>(p).is_none(),
                "the flat reader took {p:?}"
            );
            all_same(p.as_bytes()).expect(p);
        }
        for p in [
            "{}",
            " \t\r\n{ } \n",
            r#"{"a":18446744073709551615}"#,
            r#"{"a":0,"b":""}"#,
        ] {
            assert!(flat_parse::<Value>(p).is_some(), "{p:?}");
            all_same(p.as_bytes()).expect(p);
        }
        // `C` that is not read as a map, or not to its end: the serde_json pass decides.
        assert!(flat_parse::<Option<Value>>("{}").is_none());
        assert!(flat_parse::<FirstEntry>(r#"{"a":1,"b":2}"#).is_none());
        assert!(flat_parse::<FirstEntry>(r#"{"a":1}"#).is_none());
        assert!(flat_parse::<FirstEntry>("{}").is_some());
    }

    fn flat_parse<C: DeserializeOwned>(p: &str) -> Option<C> {
        parse::<C>(p, &names_default()).map(|(c, _)| c)
    }
}
