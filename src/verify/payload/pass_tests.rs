//! Tests of the fused pass: equivalence with the two passes (`serde_json::from_slice` for `C`,
//! the registered-claims reader) over many claims types and claim-name settings, and a clean
//! subset (and simplejwt's payloads) that must be read in one pass.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::{self, Debug};

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::{Fused, parse};
use crate::verify::claims::SimpleJwtClaims;
use crate::verify::registered::{ClaimNames, parse_registered};

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

/// Which way the fused pass went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// One pass: `C` and the registered claims.
    One,
    /// `C` only, or a failure: the verifier runs the two-pass path.
    Fallback,
}

/// Whatever the fused pass returns agrees with the two passes: `C` is what
/// `serde_json::from_slice` gives and the registered claims what the registered-claims reader
/// gives. Returns which way it went.
fn same<C: DeserializeOwned + PartialEq + Debug>(
    payload: &[u8],
    names: &ClaimNames,
) -> Result<Path, TestCaseError> {
    let fused = parse::<C>(payload, names);
    let shown = String::from_utf8_lossy(payload);
    let direct = serde_json::from_slice::<C>(payload).ok();
    match &fused {
        Fused::Both(c, reg) => {
            prop_assert_eq!(Some(c), direct.as_ref(), "{}", shown);
            match parse_registered(payload, names) {
                Ok(two) => prop_assert_eq!(format!("{reg:?}"), format!("{two:?}"), "{}", shown),
                Err(kind) => prop_assert!(false, "two-pass {kind:?} for {}", shown),
            }
            Ok(Path::One)
        }
        Fused::ClaimsOnly(c) => {
            prop_assert_eq!(Some(c), direct.as_ref(), "{}", shown);
            Ok(Path::Fallback)
        }
        Fused::Failed => Ok(Path::Fallback),
    }
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
    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
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
        "role", "level", "kind", "i", "u", "c", "unit", "b", "f", "any", "opt", "", "type", "id",
        "é",
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

/// Random, mostly-flat objects with every kind of value and defect: the fused pass agrees with
/// the two passes on every claims type, and reads a fair share of them in one pass.
#[test]
fn fused_pass_agrees_with_serde_json() {
    let cases = 3000;
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let flat = Cell::new(0u32);
    let result = runner.run(&object(), |payload| {
        let paths = all_same(&payload)?;
        if paths.contains(&Path::One) {
            flat.set(flat.get() + 1);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // About one in ten of these objects is well-typed for some claims type.
    assert!(flat.get() > cases / 20, "one pass {} times", flat.get());
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

proptest! {
    #![proptest_config(Config { cases: 1000, failure_persistence: None, ..Config::default() })]

    /// Every object in the subset is read in one pass, with the same result.
    #[test]
    fn fused_pass_takes_every_clean_object(payload in clean_object()) {
        let names = names_default();
        prop_assert_eq!(same::<Value>(&payload, &names)?, Path::One);
        prop_assert_eq!(same::<HashMap<String, Value>>(&payload, &names)?, Path::One);
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

/// The payloads the verifier sees most are read in one pass.
#[test]
fn simplejwt_payloads_take_one_pass() {
    let names = names_default();
    let p = br#"{"token_type":"access","exp":1795655719,"iat":1795655419,"jti":"fac5344d01d34db3b5575d65f5ee8c0f","user_id":"1"}"#;
    let f = parse::<SimpleJwtClaims>(p, &names);
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
    assert_eq!(same::<Access>(p, &names).ok(), Some(Path::One));
    assert_eq!(same::<Value>(p, &names).ok(), Some(Path::One));
    // Older simplejwt: an integer user id, whitespace, extra claims.
    let old = b" {\n \"token_type\" : \"refresh\", \"exp\":1, \"iat\":0, \"jti\":\"x\", \"user_id\":42, \"role\":\"admin\", \"staff\":true, \"team\":null}\r\n";
    assert_eq!(same::<SimpleJwtClaims>(old, &names).ok(), Some(Path::One));
    // Claims types that buffer the object first (tagged and untagged enums) read it here too.
    let tagged = br#"{"user_id":"1","exp":5,"token_type":"access"}"#;
    assert_eq!(same::<Tagged>(tagged, &names).ok(), Some(Path::One));
    assert_eq!(same::<Either>(tagged, &names).ok(), Some(Path::One));
    // Escapes, floats and nested values too.
    for p in [
        &br#"{"token_type":"access","exp":1.5,"iat":0,"jti":"x","user_id":"1"}"#[..],
        br#"{"token_type":"acc\u0065ss","exp":1,"iat":0,"jti":"x","user_id":"1"}"#,
        br#"{"token_type":"access","exp":1,"iat":0,"jti":"x","user_id":"1","r":[1]}"#,
    ] {
        assert_eq!(same::<SimpleJwtClaims>(p, &names).ok(), Some(Path::One));
    }
}

/// Defects and edge cases: whatever the fused pass returns agrees with the two passes.
#[test]
fn defects_agree_with_the_two_passes() {
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
        "{\"role\":\"tab\there\"}",
        "{\"role\":\"\u{1}\"}",
        "{\"role\":\"a\\\"\n\"}",
        r#"{"a":[]}"#,
        r#"{"a":{}}"#,
        r#"{"a":tru}"#,
        r#"{"a":truee}"#,
        r#"{"a":nul}"#,
        r#"{"exp":1,"exp":1}"#,
        r#"{"exp":"1"}"#,
        r#"{"sub":1}"#,
        "\u{feff}{}",
        "{}",
        " \t\r\n{ } \n",
        r#"{"a":18446744073709551615}"#,
        r#"{"a":0,"b":""}"#,
        r#"{"aud":["a","b"],"exp":1}"#,
        r#"{"aud":["a","a"],"aud":"b"}"#,
    ] {
        all_same(p.as_bytes()).expect(p);
    }
    // Duplicate registered claims never take the one pass (the two-pass path rejects them).
    let names = names_default();
    for p in [r#"{"exp":1,"exp":1}"#, r#"{"aud":["a"],"aud":["a"]}"#] {
        assert_eq!(
            same::<Value>(p.as_bytes(), &names).ok(),
            Some(Path::Fallback),
            "{p}"
        );
    }
    // `C` that is not read as a map, or not to its end: the two-pass path decides.
    assert_eq!(
        same::<Option<Value>>(b"{}", &names).ok(),
        Some(Path::Fallback)
    );
    assert_eq!(
        same::<FirstEntry>(br#"{"a":1,"b":2}"#, &names).ok(),
        Some(Path::Fallback)
    );
    assert_eq!(
        same::<FirstEntry>(br#"{"a":1}"#, &names).ok(),
        Some(Path::Fallback)
    );
    assert_eq!(same::<FirstEntry>(b"{}", &names).ok(), Some(Path::One));
}

/// A raw control character inside a string is malformed JSON, even where serde_json's raw-bytes
/// path (a field read through `deserialize_bytes`) would take it: the one pass steps aside, so
/// the two-pass path rejects it. Whitespace between tokens still takes the one pass.
#[test]
fn a_control_character_in_a_string_never_takes_the_one_pass() {
    let names = names_default();
    for p in [
        "{\"role\":\"tab\there\"}",
        "{\"role\":\"\u{0}\"}",
        "{\"role\":\"a\\\"\u{1f}\"}",
        "{\"r\tole\":\"x\"}",
    ] {
        assert!(serde_json::from_str::<Value>(p).is_err(), "{p:?}");
        assert!(
            matches!(parse::<Exotic>(p.as_bytes(), &names), Fused::Failed),
            "{p:?}"
        );
        assert!(parse_registered(p.as_bytes(), &names).is_err(), "{p:?}");
    }
    // The bytes path really is the lenient one, or this test proves nothing.
    assert!(serde_json::from_str::<Exotic>("{\"role\":\"tab\there\"}").is_ok());
    for p in [
        "{\t\"role\" :\n\"tab\\there\"\r\n}",
        "{\"role\":\"\\\\\"\t}",
        "{\"role\":\"\\u0009\"}",
    ] {
        assert_eq!(
            same::<Exotic>(p.as_bytes(), &names).ok(),
            Some(Path::One),
            "{p:?}"
        );
    }
}
