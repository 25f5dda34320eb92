//! Public keys are validated when they are built, not on every request: degenerate Ed25519 keys
//! (which accept forged signatures), wrong-length Ed25519 keys (which made the RustCrypto backend
//! panic on every EdDSA token), EC points of the wrong curve, and JWKS documents whose usable-
//! looking keys are broken.

use serde_json::json;
use tower_jwt_auth::{Algorithm, AuthErrorKind, ConfigError, Key, Keys, Verifier};

use crate::support::*;

fn invalid_key<T: std::fmt::Debug>(r: Result<T, ConfigError>) {
    assert!(matches!(r, Err(ConfigError::InvalidKey(_))), "{r:?}");
}

/// The eight small-order Ed25519 points in their canonical encodings (both signs where the
/// point has two), and the non-canonical encodings `y = p` and `y = p + 1`.
fn weak_ed25519_keys() -> Vec<[u8; 32]> {
    let mut order8a = [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ];
    let mut order8b = [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ];
    let high = |lo: u8| {
        let mut b = [0xff; 32];
        b[0] = lo;
        b[31] = 0x7f;
        b
    };
    let mut zero_neg = [0u8; 32];
    zero_neg[31] = 0x80;
    let mut one = [0u8; 32];
    one[0] = 1;
    let mut out = vec![[0u8; 32], zero_neg, one, order8a, order8b];
    order8a[31] |= 0x80;
    order8b[31] |= 0x80;
    out.extend([
        order8a,
        order8b,
        high(0xec),
        high(0xed),
        high(0xee),
        high(0xf0),
    ]);
    out
}

#[test]
fn the_all_zero_ed25519_key_is_refused_because_it_accepts_a_forged_signature() {
    // What the key used to do: a token "signed" with 64 zero bytes verified against it.
    let payload = b64(access_payload());
    let forged = format!("{}.{payload}.{}", b64(r#"{"alg":"EdDSA"}"#), b64([0u8; 64]));
    invalid_key(Key::ed_der([0u8; 32]));
    // So no verifier can be built that would accept `forged`.
    let good = Key::ed_der(fixture("keys/ed25519.public.raw.bin")).expect("the real key loads");
    assert_eq!(
        verify_with(&Verifier::new(Keys::new(good)), &forged),
        Err(AuthErrorKind::BadSignature)
    );
}

#[test]
fn small_order_and_non_canonical_ed25519_keys_are_refused_in_every_form() {
    for raw in weak_ed25519_keys() {
        invalid_key(Key::ed_der(raw));
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64(raw)});
        invalid_key(Key::from_jwk_json(&jwk.to_string()));
        // SubjectPublicKeyInfo for Ed25519 (RFC 8410) around the raw key, as PEM.
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(&raw);
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64_std(&der)
        );
        invalid_key(Key::ed_pem(pem));
    }
    // The same SPKI wrapping around the real key loads (the wrapper above is right).
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(&fixture("keys/ed25519.public.raw.bin"));
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64_std(&der)
    );
    assert!(Key::ed_pem(pem).is_ok());
}

#[test]
fn ed25519_raw_keys_must_be_exactly_32_bytes() {
    // A 3-byte key made the RustCrypto backend panic (slice index) on every EdDSA token; a
    // 64-byte one (secret ‖ public) was silently truncated to its first half by that backend.
    let real = fixture("keys/ed25519.public.raw.bin");
    for raw in [
        vec![],
        vec![1, 2, 3],
        real[..31].to_vec(),
        [real.as_slice(), &[0]].concat(),
        [real.as_slice(), real.as_slice()].concat(),
    ] {
        invalid_key(Key::ed_der(&raw));
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64(&raw)});
        invalid_key(Key::from_jwk_json(&jwk.to_string()));
    }
}

#[test]
fn ec_keys_must_be_points_of_the_algorithms_curve() {
    // ES256 declared on a P-384 key (and the reverse) used to load, then fail every token.
    invalid_key(Key::ec_pem(
        Algorithm::ES256,
        fixture("keys/ec384.public.pem"),
    ));
    invalid_key(Key::ec_pem(
        Algorithm::ES384,
        fixture("keys/ec256.public.pem"),
    ));
    invalid_key(Key::ec_der(
        Algorithm::ES256,
        fixture("keys/ec384.public.point.bin"),
    ));
    invalid_key(Key::ec_der(
        Algorithm::ES384,
        fixture("keys/ec256.public.point.bin"),
    ));
    invalid_key(Key::ec_der(Algorithm::ES256, [1u8, 2, 3]));
    invalid_key(Key::ec_der(Algorithm::ES256, [0u8; 65]));
    // A JWK whose `crv` does not fit its `alg`.
    let mut jwk: serde_json::Value =
        serde_json::from_str(&fixture_str("keys/ec256.public.jwk.json")).expect("jwk");
    assert!(Key::from_jwk_json(&jwk.to_string()).is_ok());
    jwk["crv"] = json!("P-384");
    invalid_key(Key::from_jwk_json(&jwk.to_string()));
    // An OKP JWK that is not Ed25519.
    let mut jwk: serde_json::Value =
        serde_json::from_str(&fixture_str("keys/ed25519.public.jwk.json")).expect("jwk");
    assert!(Key::from_jwk_json(&jwk.to_string()).is_ok());
    jwk["crv"] = json!("P-256");
    invalid_key(Key::from_jwk_json(&jwk.to_string()));
}

#[test]
fn an_oct_jwk_claiming_an_asymmetric_alg_is_refused() {
    let k = b64([7u8; 32]);
    for alg in ["RS256", "PS256", "ES256", "EdDSA"] {
        let jwk = json!({"kty": "oct", "alg": alg, "k": k, "kid": "a"});
        assert!(
            matches!(
                Key::from_jwk_json(&jwk.to_string()),
                Err(ConfigError::UnsupportedAlgorithm(_))
            ),
            "{alg}"
        );
        // Inside a JWKS it fails the document instead of silently vanishing.
        let set = json!({"keys": [jwk, {"kty": "oct", "alg": "HS256", "k": k, "kid": "b"}]});
        assert!(
            matches!(
                Keys::from_jwks_json(&set.to_string()),
                Err(ConfigError::UnsupportedAlgorithm(_))
            ),
            "{alg}"
        );
    }
}

#[test]
fn jwks_skips_only_keys_it_cannot_pin_and_fails_on_broken_ones() {
    let k = b64([7u8; 32]);
    let ok = json!({"kty": "oct", "alg": "HS256", "k": k, "kid": "ok"});
    // Skipped: encryption keys, keys without alg, non-signature algs, unsupported curves.
    let skipped = [
        json!({"kty": "oct", "alg": "HS256", "k": k, "kid": "enc", "use": "enc"}),
        json!({"kty": "oct", "k": k, "kid": "no-alg"}),
        json!({"kty": "RSA", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB", "kid": "oaep"}),
    ];
    for s in &skipped {
        let ring = Keys::from_jwks_json(&json!({"keys": [s, ok]}).to_string())
            .unwrap_or_else(|e| panic!("{s}: {e}"));
        let kids: Vec<_> = ring.keys().iter().map(|k| k.kid()).collect();
        assert_eq!(kids, [Some("ok")], "{s}");
    }
    // Broken: a short secret, a weak Ed25519 key, an EC key on the wrong curve.
    let broken = [
        json!({"kty": "oct", "alg": "HS256", "k": b64([7u8; 8]), "kid": "short"}),
        json!({"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "x": b64([0u8; 32]), "kid": "z"}),
    ];
    for b in &broken {
        assert!(
            Keys::from_jwks_json(&json!({"keys": [b, ok]}).to_string()).is_err(),
            "{b}"
        );
    }
    // The fixture JWKS (which has an encryption key) still loads every signing key.
    let ring = Keys::from_jwks_json(&fixture_str("keys/jwks.json")).expect("jwks");
    assert_eq!(ring.keys().len(), 5);
}

#[test]
fn every_real_fixture_key_still_loads() {
    for alg in [Algorithm::RS256, Algorithm::PS512] {
        Key::rsa_pem(alg, fixture("keys/rsa.public.pem")).expect("rsa pem");
        Key::rsa_der(alg, fixture("keys/rsa.public.pkcs1.der")).expect("rsa der");
    }
    Key::ec_pem(Algorithm::ES256, fixture("keys/ec256.public.pem")).expect("p256 pem");
    Key::ec_pem(Algorithm::ES384, fixture("keys/ec384.public.pem")).expect("p384 pem");
    Key::ec_der(Algorithm::ES256, fixture("keys/ec256.public.point.bin")).expect("p256 point");
    Key::ec_der(Algorithm::ES384, fixture("keys/ec384.public.point.bin")).expect("p384 point");
    Key::ed_pem(fixture("keys/ed25519.public.pem")).expect("ed pem");
    for f in ["rsa", "ec256", "ed25519"] {
        Key::from_jwk_json(&fixture_str(&format!("keys/{f}.public.jwk.json"))).expect(f);
    }
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn rsa_keys_under_2048_bits_are_refused_in_every_form() {
    // RFC 7518 section 3.3. The `rust-crypto` backend verified tokens under 512- and 1024-bit keys
    // (AWS-LC refused them only at verification time, failing every token).
    for alg in [Algorithm::RS256, Algorithm::PS256, Algorithm::RS512] {
        invalid_key(Key::rsa_pem(alg, fixture("keys/rsa1024.public.pem")));
        invalid_key(Key::rsa_der(alg, fixture("keys/rsa1024.public.pkcs1.der")));
    }
    let jwk = fixture_str("keys/rsa1024.public.jwk.json");
    invalid_key(Key::from_jwk_json(&jwk));
    let set = format!(r#"{{"keys":[{jwk}]}}"#);
    invalid_key(Keys::from_jwks_json(&set));
    // Bytes that are not a PKCS#1 RSAPublicKey at all.
    for der in [
        &[][..],
        &[1, 2, 3],
        &[0x30, 0x82, 0xff],
        &[0x30, 0x03, 0x02, 0x01, 0x00],
    ] {
        invalid_key(Key::rsa_der(Algorithm::RS256, der));
    }
}
