//! Differential properties of the verifier's one-pass payload reader (serde_json through a
//! wrapper that records the registered claims, with the two-pass path for every failure), end to
//! end through signed tokens: arbitrary payload bytes (valid JSON, near-JSON, invalid UTF-8,
//! control bytes, number edge cases, duplicates, trailing bytes) are signed with the reference
//! HS256 key and verified.
//!
//! 1. Whatever verifies is exactly what `serde_json::from_slice` gives, and the registered
//!    metadata is what the JSON says.
//! 2. The same payload with its first key's first character written as a `\u00XX` escape (the
//!    same JSON for serde_json, but a borrowed key becomes an owned one) gives the same
//!    outcome: the same claims and metadata, or the same error kind.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower_jwt_auth::{AuthErrorKind, SimpleJwtClaims, UserId, Verifier};

use crate::support::*;

/// The outcome of a verification: the claims (as JSON) and the metadata, or the error kind.
type Outcome = Result<(String, Meta), AuthErrorKind>;

#[derive(Debug, PartialEq)]
struct Meta {
    exp: i64,
    iat: Option<i64>,
    jti: Option<String>,
    token_type: Option<String>,
    user_id: Option<UserId>,
    refresh_exp: Option<i64>,
}

#[derive(Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Access,
    Refresh,
}

/// A claims type that reaches most of the typed deserializer methods.
#[derive(Debug, PartialEq, Deserialize, serde::Serialize)]
struct Typed {
    token_type: Kind,
    exp: u64,
    #[serde(default)]
    iat: Option<i32>,
    user_id: UserId,
    #[serde(default)]
    staff: Option<bool>,
    #[serde(default)]
    level: Option<u8>,
    #[serde(default)]
    note: Option<String>,
}

fn outcome<C: DeserializeOwned + serde::Serialize>(v: &Verifier, payload: &[u8]) -> Outcome {
    let token = forge_raw(HS256_HEADER.as_bytes(), payload, "HS256", SECRET.as_bytes());
    match v.verify::<C>(&token) {
        Ok(got) => Ok((
            serde_json::to_string(&got.claims).expect("claims serialize"),
            Meta {
                exp: got.exp,
                iat: got.iat,
                jti: got.jti,
                token_type: got.token_type,
                user_id: got.user_id,
                refresh_exp: got.refresh_exp,
            },
        )),
        Err(e) => Err(e.kind()),
    }
}

/// `payload` with the first character of its first key as a `\u00XX` escape, when it starts
/// (after JSON whitespace) with `{`, whitespace and a string whose first byte is printable ASCII.
fn escaped_first_key(payload: &[u8]) -> Option<Vec<u8>> {
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let open = payload.iter().position(|b| !ws(b))?;
    if payload[open] != b'{' {
        return None;
    }
    let quote = open + 1 + payload[open + 1..].iter().position(|b| !ws(b))?;
    let c = *payload.get(quote + 1)?;
    if payload[quote] != b'"' || !(0x20..0x7f).contains(&c) || c == b'"' || c == b'\\' {
        return None;
    }
    let mut out = payload[..=quote].to_vec();
    out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
    out.extend_from_slice(&payload[quote + 2..]);
    Some(out)
}

/// Property 1 for one claims type: an accepted payload is JSON, `C` is serde_json's, and the
/// metadata is the JSON's.
fn accepted_means_serde_json_agrees<C>(v: &Verifier, payload: &[u8]) -> Result<bool, TestCaseError>
where
    C: DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let shown = String::from_utf8_lossy(payload).into_owned();
    let Ok((claims, meta)) = outcome::<C>(v, payload) else {
        return Ok(false);
    };
    let direct = serde_json::from_slice::<C>(payload);
    prop_assert!(direct.is_ok(), "accepted, serde_json refuses: {}", shown);
    let direct = direct.map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        &claims,
        &serde_json::to_string(&direct).expect("serialize"),
        "{}",
        shown
    );
    // serde_json skips what a struct ignores without range or surrogate checks (a 400-digit
    // number, `"\ud800"`), so `C` may read a payload that `Value` refuses.
    let Ok(json) = serde_json::from_slice::<Value>(payload) else {
        return Ok(true);
    };
    prop_assert!(json.is_object(), "{}", shown);
    if json["exp"].is_i64() {
        prop_assert_eq!(Some(meta.exp), json["exp"].as_i64(), "{}", shown);
    }
    prop_assert_eq!(meta.jti.as_deref(), json["jti"].as_str(), "{}", shown);
    prop_assert_eq!(
        meta.token_type.as_deref(),
        json["token_type"].as_str(),
        "{}",
        shown
    );
    let uid = match &json["user_id"] {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    };
    prop_assert_eq!(meta.user_id.map(UserId::into_string), uid, "{}", shown);
    if json.get("iat").is_some_and(Value::is_u64) {
        prop_assert_eq!(meta.iat, json["iat"].as_i64(), "{}", shown);
    }
    Ok(true)
}

fn verifiers() -> [Verifier; 2] {
    [
        ref_verifier(),
        // Lets more payloads through the claim checks to `C`.
        ref_verifier()
            .any_token_type()
            .require_jti(false)
            .require_user_id(false),
    ]
}

fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![6 => Just(""), 1 => select(vec![" ", "\t", "\n", "\r", " \r\n\t "])]
}

/// Values with every edge a number, string or literal reader can get wrong.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z0-9 \u{e9}\u{7f}\u{2028}\u{1F600}]{0,10}".prop_map(|s| format!("\"{s}\"")),
        2 => (T_IAT - 10..T_EXP + 10).prop_map(|n| n.to_string()),
        1 => any::<u64>().prop_map(|n| n.to_string()),
        1 => (0usize..400).prop_map(|n| "9".repeat(n)),
        1 => (0usize..30, "[0-9]").prop_map(|(n, d)| format!("1{}{d}", "0".repeat(n))),
        4 => select(vec![
            "true", "false", "null", "0", "-0", "00", "01", "-", "-1", "1.", "1.0", "1e", "1e3",
            "1E+2", ".5", "+1", "0x1", "1_0", "NaN", "Infinity",
            "18446744073709551615", "18446744073709551616", "99999999999999999999",
            "9223372036854775807", "9223372036854775808", "00000000000000000001",
            "\"access\"", "\"refresh\"", "\"\"", "\"a\\u0062\"", "\"\\ud800\"", "\"\\\"\"",
            "\"tab\there\"", "\"nl\nhere\"", "\"nul\u{0}\"", "\"\u{1f}\"", "\"x\\\"", "[]",
            "[\"a\"]", "{}", "{\"x\":1}", "tru", "truex", "nulll", "fals", "'a'", "\"", "",
        ])
        .prop_map(String::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => select(vec![
            "token_type", "exp", "iat", "jti", "user_id", "nbf", "aud", "iss", "sub",
            "refresh_exp", "staff", "level", "note", "role", "", "é", "+7",
        ])
        .prop_map(|k| format!("\"{k}\"")),
        1 => select(vec![
            "\"e\\u0078p\"", "\"ex\tp\"", "exp", "\"exp", "1", "null", "\"\\\"\"",
        ])
        .prop_map(String::from),
    ]
}

/// A claims object close to a simplejwt access token, then with defects.
fn payload() -> impl Strategy<Value = Vec<u8>> {
    let base = vec![
        ("token_type", "\"access\"".to_owned()),
        ("exp", T_EXP.to_string()),
        ("iat", T_IAT.to_string()),
        ("jti", "\"fac5344d01d34db3b5575d65f5ee8c0f\"".to_owned()),
        ("user_id", "\"1\"".to_owned()),
    ];
    let entry = (ws(), key(), ws(), ws(), value(), ws())
        .prop_map(|(a, k, b, c, v, d)| format!("{a}{k}{b}:{c}{v}{d}"));
    (
        Just(base),
        // Which base entries to replace by a random value, drop or keep.
        prop::collection::vec(prop_oneof![16 => Just(0u8), 1 => Just(1), 1 => Just(2)], 5),
        prop::collection::vec(value(), 5),
        prop::collection::vec((0usize..6, entry), 0..3),
        (ws(), ws(), ws()),
        select(vec![
            "", "", "", "", "", "", " ", "x", ",", "}", "{}", "\u{0}", "\u{a0}",
        ]),
        prop_oneof![
            10 => Just(None),
            1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Some((i, b, 0))),
            1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Some((i, b, 1))),
            1 => (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Some((i, b, 2))),
        ],
    )
        .prop_map(
            |(base, how, values, extra, (lead, inner, trail), tail, mutation)| {
                let mut entries: Vec<String> = Vec::new();
                for (i, (k, v)) in base.iter().enumerate() {
                    let ws = if i % 2 == 0 { "" } else { " " };
                    match how[i] {
                        0 => entries.push(format!("{ws}\"{k}\"{ws}:{ws}{v}")),
                        1 => entries.push(format!("\"{k}\":{}", values[i])),
                        _ => {}
                    }
                }
                for (at, e) in extra {
                    entries.insert(at.min(entries.len()), e);
                }
                let mut s = format!("{lead}{{{}{inner}}}{trail}{tail}", entries.join(","));
                if entries.is_empty() {
                    s = format!("{lead}{{{inner}}}{trail}{tail}");
                }
                let mut bytes = s.into_bytes();
                match mutation {
                    // Replace, insert or delete one byte anywhere (invalid UTF-8 included).
                    Some((i, b, 0)) if !bytes.is_empty() => {
                        let i = i.index(bytes.len());
                        bytes[i] = b;
                    }
                    Some((i, b, 1)) => bytes.insert(i.index(bytes.len() + 1), b),
                    Some((i, _, _)) if !bytes.is_empty() => {
                        bytes.truncate(i.index(bytes.len()));
                    }
                    _ => {}
                }
                bytes
            },
        )
}

fn run(cases: u32, f: impl Fn(&[u8]) -> Result<(), TestCaseError>) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&payload(), |p| f(&p)) {
        panic!("{e}");
    }
}

#[test]
fn whatever_verifies_is_what_serde_json_reads() {
    let vs = verifiers();
    let accepted = Cell::new(0u32);
    run(1500, |p| {
        for v in &vs {
            let ok = accepted_means_serde_json_agrees::<Value>(v, p)?;
            accepted.set(accepted.get() + u32::from(ok));
            accepted_means_serde_json_agrees::<SimpleJwtClaims>(v, p)?;
            accepted_means_serde_json_agrees::<Typed>(v, p)?;
        }
        Ok(())
    });
    // The generator must reach acceptance often, or the property says little.
    assert!(accepted.get() > 100, "only {} accepted", accepted.get());
}

#[test]
fn an_escape_in_the_first_key_changes_nothing() {
    let vs = verifiers();
    let compared = Cell::new(0u32);
    run(1500, |p| {
        let Some(q) = escaped_first_key(p) else {
            return Ok(());
        };
        compared.set(compared.get() + 1);
        let shown = String::from_utf8_lossy(p).into_owned();
        for v in &vs {
            prop_assert_eq!(outcome::<Value>(v, p), outcome::<Value>(v, &q), "{}", shown);
            prop_assert_eq!(
                outcome::<SimpleJwtClaims>(v, p),
                outcome::<SimpleJwtClaims>(v, &q),
                "{}",
                shown
            );
            prop_assert_eq!(outcome::<Typed>(v, p), outcome::<Typed>(v, &q), "{}", shown);
        }
        Ok(())
    });
    assert!(compared.get() > 300, "only {} compared", compared.get());
}

/// The edge cases by name, each against what serde_json says of the same payload.
#[test]
fn named_edge_cases_agree_with_serde_json() {
    let v = ref_verifier();
    let good = |extra: &str| {
        format!(
            r#"{{"token_type":"access","exp":{T_EXP},"iat":{T_IAT},"jti":"j","user_id":"1"{extra}}}"#
        )
    };
    let cases: Vec<(String, Result<(), AuthErrorKind>)> = vec![
        (good(""), Ok(())),
        (format!(" \t\r\n{} \n", good("")), Ok(())),
        (good(r#","n":18446744073709551615"#), Ok(())),
        (good(r#","n":18446744073709551616"#), Ok(())),
        (good(r#","n":99999999999999999999"#), Ok(())),
        (good(&format!(r#","n":{}"#, "9".repeat(300))), Ok(())),
        // Out of f64 range: serde_json refuses it as a value of `C` (the registered pass skips it).
        (
            good(&format!(r#","n":{}"#, "9".repeat(5000))),
            Err(AuthErrorKind::InvalidClaim),
        ),
        (good(r#","n":-0"#), Ok(())),
        (good(r#","n":01"#), Err(AuthErrorKind::Malformed)),
        (good(r#","n":-"#), Err(AuthErrorKind::Malformed)),
        (good(r#","n":1."#), Err(AuthErrorKind::Malformed)),
        (good(r#","n":1e"#), Err(AuthErrorKind::Malformed)),
        (good(r#","n":+1"#), Err(AuthErrorKind::Malformed)),
        (good(",\"n\":\"a\u{1}\""), Err(AuthErrorKind::Malformed)),
        (good(",\"n\":\"a\u{7f}\""), Ok(())),
        (good(r#","n":1"#) + "x", Err(AuthErrorKind::Malformed)),
        (good(r#","n":1"#) + "\u{c}", Err(AuthErrorKind::Malformed)),
        (good(r#","n":1,"#), Err(AuthErrorKind::Malformed)),
        (good(r#","exp":1"#), Err(AuthErrorKind::InvalidClaim)),
        (good(r#","jti":"j""#), Err(AuthErrorKind::InvalidClaim)),
        (good(r#","n":1,"n":2"#), Ok(())),
        (
            format!(r#"{{"exp":{},"iat":1}}"#, u64::MAX),
            Err(AuthErrorKind::InvalidClaim),
        ),
        ("{}".to_owned(), Err(AuthErrorKind::MissingExp)),
        ("{ }".to_owned(), Err(AuthErrorKind::MissingExp)),
    ];
    for (p, want) in cases {
        let got = outcome::<Value>(&v, p.as_bytes()).map(|_| ());
        let short: String = p.chars().take(120).collect();
        assert_eq!(got, want, "{short}");
        assert_eq!(
            got.is_ok(),
            serde_json::from_str::<Value>(&p).is_ok() && want.is_ok(),
            "{short}"
        );
    }
    // Invalid UTF-8 in a string value, and a lone continuation byte between values.
    for bad in [good(r#","n":"ab""#), good(r#","n":1"#)] {
        let mut b = bad.into_bytes();
        let at = b.len() - 2;
        b.insert(at, 0x80);
        assert_eq!(
            outcome::<Value>(&v, &b).map(|_| ()),
            Err(AuthErrorKind::Malformed)
        );
    }
}

/// A token whose payload segment is `seg` verbatim (any text, valid base64url or not), signed.
fn signed_segment(seg: &str) -> String {
    let input = format!("{}.{seg}", b64(HS256_HEADER));
    let sig = hmac("HS256", SECRET.as_bytes(), input.as_bytes());
    format!("{input}.{}", b64(sig))
}

/// Signed payload segments of every length across the stack-buffer tiers (256 and 1 024
/// decoded bytes, then the heap), valid or not: `Malformed` exactly where the `base64` crate's
/// strict `URL_SAFE_NO_PAD` refuses the segment, otherwise what the decoded bytes give; never a
/// panic (base64-simd asserts its output is long enough).
#[test]
fn payload_segments_of_every_length_decode_as_the_base64_crate_does() {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    let v = ref_verifier().any_token_type().require_user_id(false);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let base = access_payload();
    let mut whole = 0;
    for len in (0usize..=1_420).chain([2_000, 4_000, 5_457, 5_458, 5_459]) {
        // A valid-JSON payload padded to `len` segment characters where possible, then
        // spoiled in several ways.
        let pad = (len * 3 / 4).saturating_sub(base.len() + 8);
        let json = format!(r#"{},"p":"{}"}}"#, &base[..base.len() - 1], "x".repeat(pad));
        let mut seg = b64(&json);
        seg.truncate(len);
        let mut spoiled = vec![seg.clone()];
        if let Some(last) = seg.len().checked_sub(1) {
            for c in [b'=', b'+', b'/', b' ', b'.', 0xc3] {
                let mut s = seg.clone().into_bytes();
                s[last] = c;
                if c == 0xc3 {
                    s.push(0xa9);
                }
                spoiled.push(String::from_utf8(s).expect("utf8"));
            }
            // Non-canonical trailing bits in the last character.
            let mut s = seg.clone().into_bytes();
            let i = alphabet.iter().position(|a| *a == s[last]).expect("b64");
            s[last] = alphabet[i ^ 1];
            spoiled.push(String::from_utf8(s).expect("ascii"));
        }
        spoiled.push(format!("{seg}=="));
        for s in spoiled {
            let got = v
                .verify::<Value>(&signed_segment(&s))
                .map(|g| g.claims)
                .map_err(|e| e.kind());
            match URL_SAFE_NO_PAD.decode(&s) {
                Err(_) => assert_eq!(got, Err(AuthErrorKind::Malformed), "len {len}: {s:?}"),
                Ok(bytes) if bytes.is_empty() => {
                    assert_eq!(got, Err(AuthErrorKind::Malformed), "len {len}")
                }
                Ok(bytes) => {
                    let want = v
                        .verify::<Value>(&forge_raw(
                            HS256_HEADER.as_bytes(),
                            &bytes,
                            "HS256",
                            SECRET.as_bytes(),
                        ))
                        .map(|g| g.claims)
                        .map_err(|e| e.kind());
                    assert_eq!(got, want, "len {len}");
                    if bytes == json.as_bytes() {
                        assert!(got.is_ok(), "len {len}: {got:?}");
                        whole += 1;
                    }
                }
            }
        }
    }
    // The whole padded payload verified at most lengths (every tier and both sides of each).
    assert!(whole > 1_200, "{whole}");
}

/// HS384 and HS512 tags: only the exact base64url length of the tag verifies; one character
/// more or less, padding, or a tag of another HMAC size is a bad signature, never a panic.
#[test]
fn hmac_signatures_of_every_length_are_checked_before_decoding() {
    for (alg, tag_len) in [("HS256", 32), ("HS384", 48), ("HS512", 64)] {
        let secret = [7u8; 64];
        let alg_enum = match alg {
            "HS256" => tower_jwt_auth::Algorithm::HS256,
            "HS384" => tower_jwt_auth::Algorithm::HS384,
            _ => tower_jwt_auth::Algorithm::HS512,
        };
        let keys =
            tower_jwt_auth::Keys::new(tower_jwt_auth::Key::hmac(alg_enum, secret).expect("key"));
        let v = Verifier::new(keys).clock(tower_jwt_auth::Clock::fixed(T_IAT));
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let input = format!("{}.{}", b64(&header), b64(access_payload()));
        let tag = hmac(alg, &secret, input.as_bytes());
        assert_eq!(tag.len(), tag_len);
        let good = b64(&tag);
        assert!(
            v.verify::<Value>(&format!("{input}.{good}")).is_ok(),
            "{alg}"
        );
        for n in 0..=130 {
            let sig: String = good.chars().cycle().take(n).collect();
            let got = v.verify::<Value>(&format!("{input}.{sig}")).map(|_| ());
            if sig == good {
                assert_eq!(got, Ok(()));
            } else {
                assert_eq!(
                    got.map_err(|e| e.kind()),
                    Err(AuthErrorKind::BadSignature),
                    "{alg}, {n} characters"
                );
            }
        }
        for sig in [
            format!("{good}="),
            format!("{good}=="),
            b64(&tag[..tag_len - 1]),
        ] {
            assert_eq!(
                v.verify::<Value>(&format!("{input}.{sig}"))
                    .map(|_| ())
                    .map_err(|e| e.kind()),
                Err(AuthErrorKind::BadSignature),
                "{alg}: {sig}"
            );
        }
    }
}

/// Identity-provider payloads (an `aud` array, nested objects and arrays, non-ASCII and escaped
/// strings), end to end through `Verifier::access_token`: accepted ones are exactly what
/// serde_json reads, and every defect of the `aud` array is the error it was before the one pass
/// read arrays.
#[test]
fn idp_payloads_verify_as_serde_json_reads_them() {
    let keys = ref_keys();
    let v = Verifier::access_token(keys, "https://idp", "api")
        .clock(tower_jwt_auth::Clock::fixed(T_IAT));
    let payload = |aud: &str, extra: &str| {
        format!(
            r#"{{"exp":{T_EXP},"iat":{T_IAT},"iss":"https://idp","aud":{aud},"sub":"f3c2","name":"Zoë \"Z\" Łuk","realm_access":{{"roles":["a","b"]}},"resource_access":{{"api":{{"roles":["r"]}},"aud":[1,{{"x":null}}]}}{extra}}}"#
        )
    };
    #[derive(Debug, PartialEq, Deserialize, serde::Serialize)]
    struct Roles {
        roles: Vec<String>,
    }
    #[derive(Debug, PartialEq, Deserialize, serde::Serialize)]
    struct Idp {
        aud: Vec<String>,
        sub: String,
        name: String,
        realm_access: Roles,
        resource_access: std::collections::BTreeMap<String, Value>,
    }
    for aud in [
        r#"["api"]"#,
        r#"["x","api"]"#,
        r#""api""#,
        r#"["x","a\u0070i"]"#,
    ] {
        let p = payload(aud, "");
        for (got, want) in [
            (
                outcome::<Value>(&v, p.as_bytes()).map(|(c, _)| c),
                serde_json::to_string(&serde_json::from_str::<Value>(&p).expect("json")),
            ),
            (
                outcome::<Idp>(&v, p.as_bytes()).map(|(c, _)| c),
                if aud.starts_with('[') {
                    serde_json::to_string(&serde_json::from_str::<Idp>(&p).expect("json"))
                } else {
                    // A string `aud` is not a `Vec`: the claims type refuses it.
                    Ok(String::new())
                },
            ),
        ] {
            match want {
                Ok(w) if !w.is_empty() => assert_eq!(got, Ok(w), "{p}"),
                _ => assert_eq!(got, Err(AuthErrorKind::InvalidClaim), "{p}"),
            }
        }
        let (_, meta) = outcome::<Value>(&v, p.as_bytes()).expect("verifies");
        assert_eq!(meta.exp, T_EXP);
        assert_eq!(meta.user_id, Some(UserId::from("f3c2")));
    }
    let many = format!("[{}]", vec![r#""api""#; 65].join(","));
    for (p, want) in [
        (payload(r#"["x"]"#, ""), AuthErrorKind::InvalidAudience),
        (payload("[]", ""), AuthErrorKind::InvalidAudience),
        (payload(r#"["api",1]"#, ""), AuthErrorKind::InvalidClaim),
        (payload(r#"[["api"]]"#, ""), AuthErrorKind::InvalidClaim),
        (payload(r#"{"api":1}"#, ""), AuthErrorKind::InvalidClaim),
        (payload(&many, ""), AuthErrorKind::InvalidClaim),
        (
            payload(r#"["api"]"#, r#","aud":["api"]"#),
            AuthErrorKind::InvalidClaim,
        ),
        (
            payload(r#"["api"]"#, r#","exp":1"#),
            AuthErrorKind::InvalidClaim,
        ),
    ] {
        assert_eq!(
            outcome::<Value>(&v, p.as_bytes()).map(|_| ()),
            Err(want),
            "{p}"
        );
    }
}
