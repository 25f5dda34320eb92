//! Properties: no single-byte change or truncation of a valid token verifies; the verifier and
//! the layer never panic on arbitrary input, and the layer answers only 400 or 401 to it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderValue, Request, StatusCode};
use proptest::prelude::*;
use serde_json::{Map, Value};
use tower_jwt_auth::{Algorithm, AuthErrorKind, Clock, Key, Keys, SimpleJwtClaims, Verifier};

use crate::support::transcript as t;
use crate::support::*;

fn rejected(v: &Verifier, token: &[u8]) -> bool {
    v.verify_bytes::<SimpleJwtClaims>(token).is_err()
}

/// A verifier of this fixture key pair's tokens, and a valid token for it.
fn signed_with(key: Key, name: &str) -> (Verifier, String) {
    let key = key
        .with_private_pem(fixture(&format!("keys/{name}.private.pem")))
        .expect("private");
    let keys = Keys::new(key);
    let token = keys.encode(&access_claims()).expect("encode");
    (Verifier::new(keys).clock(Clock::fixed(T_IAT)), token)
}

/// An EdDSA verifier and a valid token for it (fixture keys).
fn eddsa() -> (Verifier, String) {
    let public = Key::ed_pem(fixture("keys/ed25519.public.pem")).expect("pem");
    signed_with(public, "ed25519")
}

/// An ES256 verifier and a valid token for it (fixture keys).
fn es256() -> (Verifier, String) {
    let public = Key::ec_pem(Algorithm::ES256, fixture("keys/ec256.public.pem")).expect("pem");
    signed_with(public, "ec256")
}

#[test]
fn every_single_bit_flip_of_the_reference_token_is_rejected() {
    // Exhaustive over positions and bits; the proptest below samples the other byte values.
    let v = ref_verifier();
    let token = t::ACCESS.as_bytes();
    assert!(!rejected(&v, token));
    for i in 0..token.len() {
        for bit in 0..8 {
            let mut m = token.to_vec();
            m[i] ^= 1 << bit;
            assert!(rejected(&v, &m), "flip of bit {bit} at {i} verified");
        }
    }
}

#[test]
fn non_canonical_trailing_bits_are_rejected() {
    // The 43-character signature carries 2 spare bits in its last character: a decoder that
    // ignores them would accept 4 spellings of one signature (malleability).
    let v = ref_verifier();
    let (input, sig) = t::ACCESS.rsplit_once('.').expect("dot");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = sig.as_bytes()[sig.len() - 1];
    let idx = alphabet.iter().position(|c| *c == last).expect("b64 char");
    let mut accepted = 0;
    for spare in 0..4 {
        let c = alphabet[(idx & !3) | spare];
        let spelled = format!("{input}.{}{}", &sig[..sig.len() - 1], char::from(c));
        if !rejected(&v, spelled.as_bytes()) {
            accepted += 1;
            assert_eq!(c, last);
        }
    }
    assert_eq!(accepted, 1);
}

fn flipped(token: &str, i: usize, b: u8) -> Option<Vec<u8>> {
    let mut m = token.as_bytes().to_vec();
    let i = i % m.len();
    if m[i] == b {
        return None;
    }
    m[i] = b;
    Some(m)
}

/// A JSON value of bounded size: what an attacker can put in a payload.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (T_IAT - 1000..T_IAT + 1000).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![Just("access"), Just("refresh"), Just("1"), Just("")]
            .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Claim names: mostly the registered ones.
fn claim_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "exp", "nbf", "iat", "jti", "token_type", "user_id", "aud", "iss", "sub", "refresh_exp",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z_]{1,8}",
    ]
}

fn payload_object() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((claim_name(), json_value()), 0..8),
        any::<bool>(),
    )
        .prop_map(|(fields, start_valid)| {
            // Start from a valid payload half of the time, so most checks are reached.
            let mut m: Map<String, Value> = if start_valid {
                access_claims().as_object().expect("object").clone()
            } else {
                Map::new()
            };
            for (k, v) in fields {
                m.insert(k, v);
            }
            Value::Object(m).to_string()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_single_byte_change_is_rejected(i in any::<usize>(), b in any::<u8>()) {
        let v = ref_verifier();
        if let Some(m) = flipped(t::ACCESS, i, b) {
            prop_assert!(rejected(&v, &m));
        }
    }

    #[test]
    fn any_truncation_is_rejected(n in 0..t::ACCESS.len()) {
        let v = ref_verifier();
        prop_assert!(rejected(&v, &t::ACCESS.as_bytes()[..n]));
        prop_assert!(rejected(&v, &t::ACCESS.as_bytes()[t::ACCESS.len() - n..]));
    }

    #[test]
    fn verify_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = ref_verifier().verify_bytes::<SimpleJwtClaims>(&bytes);
        let _ = ref_verifier().verify_bytes::<Value>(&bytes);
    }

    #[test]
    fn verify_never_panics_on_arbitrary_strings(s in ".{0,400}") {
        let _ = ref_verifier().verify::<SimpleJwtClaims>(&s);
    }

    #[test]
    fn verify_never_panics_on_token_shaped_strings(
        s in "[A-Za-z0-9_=+/%-]{0,60}\\.[A-Za-z0-9_=+/%-]{0,200}\\.[A-Za-z0-9_=+/%-]{0,60}"
    ) {
        prop_assert!(ref_verifier().verify::<SimpleJwtClaims>(&s).is_err());
    }

    #[test]
    fn validly_macd_arbitrary_headers_never_panic(
        header in prop::collection::vec((
            prop::sample::select(vec!["alg", "typ", "kid", "cty", "crit", "jwk", "zip", "b64", "x"]),
            json_value(),
        ), 0..5)
    ) {
        let h: Map<String, Value> = header.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let h = Value::Object(h).to_string();
        let token = forge(&h, &access_payload());
        let r = ref_verifier().verify::<SimpleJwtClaims>(&token);
        // Only the exact simplejwt header shape (alg HS256, no kid, nothing forbidden) passes.
        if r.is_ok() {
            let parsed: Value = serde_json::from_str(&h).expect("json");
            prop_assert_eq!(parsed["alg"].as_str(), Some("HS256"));
            prop_assert!(parsed.get("kid").is_none());
            for k in ["crit", "jwk", "zip", "b64"] {
                prop_assert!(parsed.get(k).is_none());
            }
        }
    }

    #[test]
    fn validly_macd_arbitrary_payloads_never_panic_and_only_valid_claims_pass(
        payload in payload_object()
    ) {
        let token = forge(HS256_HEADER, &payload);
        match ref_verifier().verify::<SimpleJwtClaims>(&token) {
            Ok(v) => {
                // Whatever got through satisfies every documented check.
                let p: Value = serde_json::from_str(&payload).expect("json");
                prop_assert!(v.exp > T_IAT);
                prop_assert_eq!(v.claims.token_type.as_str(), "access");
                prop_assert_eq!(v.token_type.as_deref(), Some("access"));
                prop_assert!(v.jti.is_some());
                prop_assert!(v.user_id.is_some());
                prop_assert!(p.get("aud").is_none());
                if let Some(nbf) = p.get("nbf") {
                    prop_assert!(nbf.as_f64().expect("number").floor() <= T_IAT as f64);
                }
                if let Some(iat) = p.get("iat") {
                    prop_assert!(iat.as_f64().expect("number").floor() <= T_IAT as f64);
                }
            }
            Err(e) => {
                prop_assert_ne!(e.kind(), AuthErrorKind::BadSignature);
                prop_assert_ne!(e.kind(), AuthErrorKind::AlgorithmNotAllowed);
            }
        }
    }

    #[test]
    fn payload_bytes_reencoded_in_the_standard_alphabet_are_rejected(extra in ".{0,40}") {
        let token = with_extra(&extra);
        prop_assert!(ref_verifier().verify::<SimpleJwtClaims>(&token).is_ok());
        let std = token.replace('-', "+").replace('_', "/");
        if std != token {
            prop_assert!(ref_verifier().verify::<SimpleJwtClaims>(&std).is_err());
        }
    }

    #[test]
    fn the_layer_answers_arbitrary_header_bytes_with_400_or_401(
        values in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..3)
    ) {
        let values: Vec<HeaderValue> = values
            .iter()
            .filter_map(|v| HeaderValue::from_bytes(v).ok())
            .collect();
        let mut req = Request::get("/").body(String::new()).expect("request");
        for v in &values {
            req.headers_mut().append("authorization", v.clone());
        }
        let r = block_on(call(req));
        let want = if values.len() > 1 { StatusCode::BAD_REQUEST } else { StatusCode::UNAUTHORIZED };
        prop_assert_eq!(r.status, want);
        prop_assert_eq!(r.header("content-type"), "application/json");
        prop_assert!(r.headers.get("www-authenticate").is_some());
        prop_assert!(r.error.is_some());
    }

    #[test]
    fn the_layer_answers_bearer_plus_arbitrary_bytes_with_401(
        scheme in prop::sample::select(vec!["Bearer ", "bearer ", "BEARER\t", "Bearer  "]),
        tail in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = scheme.as_bytes().to_vec();
        bytes.extend_from_slice(&tail);
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()); };
        let mut req = Request::get("/").body(String::new()).expect("request");
        req.headers_mut().insert("authorization", value);
        let r = block_on(call(req));
        prop_assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        prop_assert_eq!(r.header("content-type"), "application/json");
    }
}

fn with_extra(extra: &str) -> String {
    let mut c = access_claims();
    c["extra"] = Value::String(extra.to_owned());
    mint(&c)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_single_byte_change_of_an_eddsa_token_is_rejected(i in any::<usize>(), b in any::<u8>()) {
        let (v, token) = eddsa();
        prop_assert!(!rejected(&v, token.as_bytes()));
        if let Some(m) = flipped(&token, i, b) {
            prop_assert!(rejected(&v, &m));
        }
    }

    #[test]
    fn any_single_byte_change_of_an_es256_token_is_rejected(i in any::<usize>(), b in any::<u8>()) {
        let (v, token) = es256();
        if let Some(m) = flipped(&token, i, b) {
            prop_assert!(rejected(&v, &m));
        }
    }

    #[test]
    fn any_truncation_of_an_es256_signature_is_rejected(n in 0usize..86) {
        let (v, token) = es256();
        let (input, sig) = token.rsplit_once('.').expect("dot");
        let raw = URL_SAFE_NO_PAD.decode(sig).expect("b64");
        let n = n.min(raw.len() - 1);
        let cut = format!("{input}.{}", b64(&raw[..n]));
        prop_assert!(rejected(&v, cut.as_bytes()));
    }
}
