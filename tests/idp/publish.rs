//! Publishing: `Keys::public_jwks` for every asymmetric key type, read back by
//! `Keys::from_jwks_json` and by a `RemoteKeys` source; never a secret or a private part.

use serde_json::{Value, json};
use tower_jwt_auth::{Algorithm, Key, Keys, Verifier};

use crate::support::now;

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn pairs() -> Vec<Key> {
    vec![
        Key::rsa_pem(Algorithm::RS256, pem("rsa.public.pem"))
            .and_then(|k| k.with_private_pem(pem("rsa.private.pem")))
            .expect("rsa")
            .with_kid("rsa-2026"),
        Key::ec_pem(Algorithm::ES256, pem("ec256.public.pem"))
            .and_then(|k| k.with_private_pem(pem("ec256.private.pem")))
            .expect("ec")
            .with_kid("ec-2026"),
        Key::ec_pem(Algorithm::ES384, pem("ec384.public.pem"))
            .and_then(|k| k.with_private_pem(pem("ec384.private.pem")))
            .expect("ec384")
            .with_kid("ec384-2026"),
        Key::ed_pem(pem("ed25519.public.pem"))
            .and_then(|k| k.with_private_pem(pem("ed25519.private.pem")))
            .expect("ed")
            .with_kid("ed-2026"),
    ]
}

#[test]
fn public_jwks_round_trips_and_verifies_what_each_key_signed() {
    let secret = Key::hmac(Algorithm::HS256, b"a-secret-that-must-never-be-published!!")
        .expect("hmac")
        .with_kid("hs");
    let mut all = pairs();
    all.push(secret);
    let ring = Keys::from_keys(all).expect("ring");
    let jwks = ring.public_jwks();
    let text = jwks.to_string();
    assert!(
        !text.contains("\"d\""),
        "no private exponent or scalar: {text}"
    );
    assert!(!text.contains("\"k\""), "no symmetric secret: {text}");
    assert!(!text.contains("hs\""), "the HMAC key is left out: {text}");
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids, ["rsa-2026", "ec-2026", "ec384-2026", "ed-2026"]);
    assert_eq!(
        jwks["keys"][3],
        json!({
            "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "ed-2026",
            "x": jwks["keys"][3]["x"].clone(),
        })
    );
    // The published ed25519 key is the fixture's.
    let fixture: Value =
        serde_json::from_str(&String::from_utf8(pem("ed25519.public.jwk.json")).expect("utf-8"))
            .expect("jwk");
    assert_eq!(jwks["keys"][3]["x"], fixture["x"]);

    let published = Keys::from_jwks_json(&text).expect("reads back");
    let claims = json!({ "sub": "alice", "exp": now() + 60 });
    for key in pairs() {
        let kid = key.kid().expect("kid").to_owned();
        let token = Keys::new(key).encode(&claims).expect("sign");
        let got = Verifier::jwt(published.clone()).verify::<Value>(&token);
        assert!(got.is_ok(), "{kid}: {got:?}");
    }
    // A ring of a JWK-loaded key (RSA from n/e) publishes the same n/e.
    let again = Keys::from_jwks_json(&published.public_jwks().to_string()).expect("again");
    assert_eq!(again.public_jwks(), published.public_jwks());

    let only_secret = Keys::hs256(b"a-secret-that-must-never-be-published!!").expect("hmac");
    assert_eq!(only_secret.public_jwks(), json!({ "keys": [] }));
}

#[test]
fn signing_keys_from_a_private_pem_alone_with_thumbprint_kids() {
    let claims = json!({ "sub": "alice", "exp": now() + 60 });
    for (alg, file, public) in [
        (Algorithm::RS256, "rsa.private.pem", "rsa.public.pem"),
        (Algorithm::ES256, "ec256.private.pem", "ec256.public.pem"),
        (Algorithm::ES384, "ec384.private.pem", "ec384.public.pem"),
        (
            Algorithm::EdDSA,
            "ed25519.private.pem",
            "ed25519.public.pem",
        ),
    ] {
        let pem_text = String::from_utf8(pem(file)).expect("utf-8");
        let key = Key::from_private_pem(alg, &pem_text).expect("private key");
        assert!(key.can_sign(), "{alg:?}");
        let kid = key.thumbprint().expect("thumbprint");
        assert_eq!(kid.len(), 43, "SHA-256, base64url");
        let token = Keys::new(key.with_kid(kid.clone()))
            .encode(&claims)
            .expect("sign");
        // Verified by the public key file, so the derived public key is the right one.
        let public = match alg {
            Algorithm::RS256 => Key::rsa_pem(alg, pem(public)),
            Algorithm::EdDSA => Key::ed_pem(pem(public)),
            _ => Key::ec_pem(alg, pem(public)),
        }
        .expect("public")
        .with_kid(kid.clone());
        assert_eq!(public.thumbprint().as_deref(), Some(kid.as_str()));
        assert!(
            Verifier::jwt(Keys::new(public))
                .verify::<Value>(&token)
                .is_ok(),
            "{alg:?}"
        );
        // The wrong algorithm for the key type is refused.
        let wrong = if alg == Algorithm::EdDSA {
            Algorithm::ES256
        } else {
            Algorithm::EdDSA
        };
        assert!(
            Key::from_private_pem(wrong, &pem_text).is_err(),
            "{alg:?} as {wrong:?}"
        );
    }
    assert!(Key::from_private_pem(Algorithm::RS256, "not a pem").is_err());
    assert!(Key::from_private_pem(Algorithm::HS256, "x").is_err());
}

/// RFC 7638 §3.1: the example RSA key's thumbprint.
#[test]
fn thumbprint_matches_rfc_7638() {
    let jwk = r#"{"kty":"RSA","alg":"RS256","kid":"2011-04-29","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#;
    let key = Key::from_jwk_json(jwk).expect("jwk");
    assert_eq!(
        key.thumbprint().as_deref(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
}
