//! The JSON payload readers, differential: the verifier's fused one-pass reader and its
//! registered-claims reader against serde_json and an independent reference (fuzz/src/lib.rs).
//! Same accept/reject, same claims `C` (a struct, `serde_json::Value`, simplejwt's claims), same
//! registered claims. Any mismatch panics.
//!
//! Input: one byte choosing the claim names, then the payload bytes.
#![no_main]

use std::collections::BTreeMap;
use std::fmt::Debug;

use fuzz_support::{names_from, reference_registered};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tower_jwt_auth::__fuzz::{Fused, Names, RegisteredClaims, fused_pass, registered_claims};
use tower_jwt_auth::AuthErrorKind;
use tower_jwt_auth::SimpleJwtClaims;

/// A claims struct with the field shapes applications use.
#[derive(Debug, PartialEq, Deserialize)]
struct App {
    exp: Option<f64>,
    #[serde(default)]
    iat: Option<i64>,
    nbf: Option<u32>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    jti: Option<Box<str>>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    realm_access: Option<BTreeMap<String, Vec<String>>>,
    user_id: Option<UserKey>,
    token_type: Option<Kind>,
    #[serde(flatten)]
    rest: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(untagged)]
enum UserKey {
    Int(i64),
    Str(String),
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Access,
    Refresh,
    Sliding,
}

/// A strict struct: unknown fields refused, tuples and bools.
#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Strict {
    exp: i64,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    pair: Option<(u8, bool)>,
    #[serde(default)]
    jti: Option<char>,
    /// Read through `deserialize_bytes`, serde_json's one string path without the
    /// control-character check: the fused pass must not be more lenient there.
    #[serde(default, deserialize_with = "raw_bytes")]
    role: Option<Vec<u8>>,
}

fn raw_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
    struct Raw;
    impl serde::de::Visitor<'_> for Raw {
        type Value = Option<Vec<u8>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string, as bytes")
        }
        fn visit_bytes<E>(self, v: &[u8]) -> Result<Self::Value, E> {
            Ok(Some(v.to_vec()))
        }
    }
    d.deserialize_bytes(Raw)
}

fn check<C: DeserializeOwned + PartialEq + Debug>(
    payload: &[u8],
    names: &Names,
    two_pass: &Result<RegisteredClaims, AuthErrorKind>,
) {
    let serde = serde_json::from_slice::<C>(payload).ok();
    match fused_pass::<C>(payload, names) {
        Fused::Both(c, reg) => {
            assert_eq!(
                Some(&c),
                serde.as_ref(),
                "fused C differs from serde_json's"
            );
            assert_eq!(
                Ok(&reg),
                two_pass.as_ref(),
                "fused registered claims differ"
            );
        }
        Fused::ClaimsOnly(c) => {
            assert_eq!(
                Some(&c),
                serde.as_ref(),
                "fused C differs from serde_json's"
            );
        }
        Fused::Failed => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&cfg, payload)) = data.split_first() else {
        return;
    };
    let names = names_from(cfg);
    let two_pass = registered_claims(payload, &names);
    let reference = reference_registered(payload, &names);
    match (&two_pass, &reference) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "registered claims differ from the reference"),
        (Err(_), Err(None)) => {}
        (Err(a), Err(Some(b))) => assert_eq!(a, b, "error kinds differ from the reference"),
        _ => panic!("accept/reject differs: reader {two_pass:?}, reference {reference:?}"),
    }
    let two_pass = &two_pass;
    check::<serde_json::Value>(payload, &names, two_pass);
    check::<SimpleJwtClaims>(payload, &names, two_pass);
    check::<App>(payload, &names, two_pass);
    check::<Strict>(payload, &names, two_pass);
    check::<Option<serde_json::Value>>(payload, &names, two_pass);
    check::<BTreeMap<String, serde_json::Value>>(payload, &names, two_pass);
});
