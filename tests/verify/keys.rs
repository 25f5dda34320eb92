//! Keys: a sign + verify round trip for every algorithm, with verification keys from PEM, DER, a
//! JWK and a JWKS document; rotation by `kid`; algorithm-confusion attempts. Only the public API,
//! so it runs on either crypto backend (`aws-lc-rs` or `--no-default-features --features
//! rust-crypto`). The keys are the test-only fixtures in tests/fixtures/keys/.

use serde_json::{Value, json};
use tower_jwt_auth::{
    Algorithm, AuthErrorKind, Clock, ConfigError, Key, Keys, SimpleJwtClaims, Verifier,
};

use crate::support::*;

fn verifier(keys: Keys) -> Verifier {
    Verifier::new(keys).clock(Clock::fixed(T_IAT))
}

/// Verifies `token` with `keys` and returns the error kind, if any.
fn check(keys: &Keys, token: &str) -> Result<(), AuthErrorKind> {
    verifier(keys.clone())
        .verify::<SimpleJwtClaims>(token)
        .map(|v| {
            assert_eq!(v.claims.user_id.as_str(), "1");
            assert_eq!(v.user_id.as_ref().map(|u| u.as_str()), Some("1"));
            assert_eq!(v.exp, T_EXP);
            assert_eq!(v.jti.as_deref(), Some("fac5344d01d34db3b5575d65f5ee8c0f"));
        })
        .map_err(|e| e.kind())
}

/// The decoded JOSE header of a token.
fn header_of(token: &str) -> Value {
    use base64::Engine as _;
    let h = token.split('.').next().expect("segment");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON header")
}

fn sign(key: Key) -> String {
    Keys::new(key).encode(&access_claims()).expect("encode")
}

fn rsa_signer(alg: Algorithm) -> Key {
    Key::rsa_pem(alg, fixture("keys/rsa.public.pem"))
        .expect("RSA public PEM")
        .with_private_pem(fixture("keys/rsa.private.pem"))
        .expect("RSA private PEM")
}

fn ec_signer(alg: Algorithm) -> Key {
    let name = if alg == Algorithm::ES384 {
        "ec384"
    } else {
        "ec256"
    };
    Key::ec_pem(alg, fixture(&format!("keys/{name}.public.pem")))
        .expect("EC public PEM")
        .with_private_pem(fixture(&format!("keys/{name}.private.pem")))
        .expect("EC private PEM")
}

fn ed_signer() -> Key {
    Key::ed_pem(fixture("keys/ed25519.public.pem"))
        .expect("Ed25519 public PEM")
        .with_private_pem(fixture("keys/ed25519.private.pem"))
        .expect("Ed25519 private PEM")
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn hmac_round_trip_per_algorithm() {
    for (alg, name, len) in [
        (Algorithm::HS256, "HS256", 32),
        (Algorithm::HS384, "HS384", 48),
        (Algorithm::HS512, "HS512", 64),
    ] {
        let keys = Keys::new(Key::hmac(alg, vec![0x5a; len]).expect("secret long enough"));
        let token = keys.encode(&access_claims()).expect("encode");
        assert_eq!(header_of(&token), json!({"alg": name, "typ": "JWT"}));
        assert_eq!(check(&keys, &token), Ok(()), "{name}");
        // The MAC is the standard one (PyJWT would produce the same bytes).
        let input = token.rsplit_once('.').expect("dot").0;
        assert_eq!(
            token.rsplit_once('.').expect("dot").1,
            b64(hmac(name, &vec![0x5a; len], input.as_bytes()))
        );
        // Another secret of the same algorithm does not verify it.
        let other = Keys::new(Key::hmac(alg, vec![0x5b; len]).expect("secret"));
        assert_eq!(check(&other, &token), Err(AuthErrorKind::BadSignature));
    }
}

#[test]
fn hs256_matches_the_simplejwt_reference_token() {
    // `Keys::encode` reproduces simplejwt's exact bytes (the transcript's first access token) for
    // the same claims in the same order. `SimpleJwtClaims` serializes its fields in simplejwt's
    // order.
    let claims: SimpleJwtClaims = serde_json::from_str(
        r#"{"token_type":"access","exp":1795655719,"iat":1795655419,"jti":"fac5344d01d34db3b5575d65f5ee8c0f","user_id":"1"}"#,
    )
    .expect("claims");
    assert_eq!(
        ref_keys().encode(&claims).expect("encode"),
        transcript::ACCESS
    );
}

#[test]
fn rsa_round_trip_per_algorithm_with_pem_der_and_jwk() {
    let der = Key::rsa_der;
    for (alg, name) in [
        (Algorithm::RS256, "RS256"),
        (Algorithm::RS384, "RS384"),
        (Algorithm::RS512, "RS512"),
        (Algorithm::PS256, "PS256"),
        (Algorithm::PS384, "PS384"),
        (Algorithm::PS512, "PS512"),
    ] {
        let token = sign(rsa_signer(alg));
        assert_eq!(header_of(&token), json!({"alg": name, "typ": "JWT"}));
        // The signing key verifies its own tokens.
        assert_eq!(check(&Keys::new(rsa_signer(alg)), &token), Ok(()), "{name}");
        // Verification-only keys from PEM and PKCS#1 DER.
        let pem = Key::rsa_pem(alg, fixture("keys/rsa.public.pem")).expect("pem");
        assert!(!pem.can_sign());
        assert_eq!(check(&Keys::new(pem), &token), Ok(()), "{name} PEM");
        let der = der(alg, fixture("keys/rsa.public.pkcs1.der")).expect("der");
        assert_eq!(check(&Keys::new(der), &token), Ok(()), "{name} DER");
        // A JWK with this algorithm.
        let mut jwk: Value =
            serde_json::from_str(&fixture_str("keys/rsa.public.jwk.json")).expect("jwk");
        jwk["alg"] = json!(name);
        jwk.as_object_mut().expect("object").remove("kid");
        let from_jwk = Key::from_jwk_json(&jwk.to_string()).expect("jwk");
        assert_eq!(from_jwk.algorithm(), alg);
        assert_eq!(check(&Keys::new(from_jwk), &token), Ok(()), "{name} JWK");
        // The other RSA key does not verify it.
        let other = Key::rsa_pem(alg, fixture("keys/rsa2.public.pem")).expect("pem");
        assert_eq!(
            check(&Keys::new(other), &token),
            Err(AuthErrorKind::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn ecdsa_round_trip_per_algorithm_with_pem_der_and_jwk() {
    for (alg, name, file) in [
        (Algorithm::ES256, "ES256", "ec256"),
        (Algorithm::ES384, "ES384", "ec384"),
    ] {
        let token = sign(ec_signer(alg));
        assert_eq!(header_of(&token), json!({"alg": name, "typ": "JWT"}));
        // JWS ECDSA signatures are r || s, not DER.
        let sig = token.rsplit_once('.').expect("dot").1;
        let want: usize = if alg == Algorithm::ES256 { 64 } else { 96 };
        assert_eq!(sig.len(), (want * 4).div_ceil(3), "{name}");
        let pem = Key::ec_pem(alg, fixture(&format!("keys/{file}.public.pem"))).expect("pem");
        assert_eq!(check(&Keys::new(pem), &token), Ok(()), "{name} PEM");
        let point =
            Key::ec_der(alg, fixture(&format!("keys/{file}.public.point.bin"))).expect("der");
        assert_eq!(check(&Keys::new(point), &token), Ok(()), "{name} DER point");
    }
    let token = sign(ec_signer(Algorithm::ES256));
    let jwk = Key::from_jwk_json(&fixture_str("keys/ec256.public.jwk.json")).expect("jwk");
    assert_eq!(jwk.kid(), Some("ec256-1"));
    // A kid-less token goes to the ring's default key, here the JWK's.
    assert_eq!(check(&Keys::new(jwk), &token), Ok(()));
}

#[test]
fn eddsa_round_trip_with_pem_raw_and_jwk() {
    let token = sign(ed_signer());
    assert_eq!(header_of(&token), json!({"alg": "EdDSA", "typ": "JWT"}));
    let pem = Key::ed_pem(fixture("keys/ed25519.public.pem")).expect("pem");
    assert_eq!(pem.algorithm(), Algorithm::EdDSA);
    assert_eq!(check(&Keys::new(pem), &token), Ok(()));
    let raw = Key::ed_der(fixture("keys/ed25519.public.raw.bin")).expect("raw");
    assert_eq!(check(&Keys::new(raw), &token), Ok(()));
    let jwk = Key::from_jwk_json(&fixture_str("keys/ed25519.public.jwk.json")).expect("jwk");
    assert_eq!(check(&Keys::new(jwk), &token), Ok(()));
}

#[test]
fn jwks_document_verifies_every_algorithm_by_kid() {
    let ring = Keys::from_jwks_json(&fixture_str("keys/jwks.json")).expect("jwks");
    // The `use: enc` key is skipped.
    let kids: Vec<_> = ring.keys().iter().map(|k| k.kid()).collect();
    assert_eq!(
        kids,
        [
            Some("rsa-1"),
            Some("rsa2-ps"),
            Some("ec256-1"),
            Some("ec384-1"),
            Some("ed-1")
        ]
    );
    let cases: Vec<(&str, Key)> = vec![
        ("rsa-1", rsa_signer(Algorithm::RS256)),
        (
            "rsa2-ps",
            Key::rsa_pem(Algorithm::PS256, fixture("keys/rsa2.public.pem"))
                .expect("pem")
                .with_private_pem(fixture("keys/rsa2.private.pem"))
                .expect("private"),
        ),
        ("ec256-1", ec_signer(Algorithm::ES256)),
        ("ec384-1", ec_signer(Algorithm::ES384)),
        ("ed-1", ed_signer()),
    ];
    for (kid, signer) in cases {
        let token = sign(signer.with_kid(kid));
        assert_eq!(header_of(&token)["kid"], kid);
        assert_eq!(check(&ring, &token), Ok(()), "{kid}");
    }
    // The skipped encryption key's kid is unknown.
    let token = sign(
        Key::rsa_pem(Algorithm::RS512, fixture("keys/rsa2.public.pem"))
            .expect("pem")
            .with_private_pem(fixture("keys/rsa2.private.pem"))
            .expect("private")
            .with_kid("rsa2-enc"),
    );
    assert_eq!(check(&ring, &token), Err(AuthErrorKind::UnknownKey));
    // JWKS keys cannot sign.
    assert!(ring.encode(&access_claims()).is_err());
}

#[test]
fn jwks_without_a_pinnable_alg_or_with_a_weak_secret_are_refused() {
    let base: Value = serde_json::from_str(&fixture_str("keys/rsa.public.jwk.json")).expect("jwk");
    // No `alg`: the server must pin one.
    let mut j = base.clone();
    j.as_object_mut().expect("object").remove("alg");
    assert!(matches!(
        Key::from_jwk_json(&j.to_string()),
        Err(ConfigError::InvalidKey(_))
    ));
    // For encryption.
    let mut j = base.clone();
    j["use"] = json!("enc");
    assert!(Key::from_jwk_json(&j.to_string()).is_err());
    // An algorithm of another family than the key type.
    let mut j = base.clone();
    j["alg"] = json!("ES256");
    assert!(matches!(
        Key::from_jwk_json(&j.to_string()),
        Err(ConfigError::UnsupportedAlgorithm(_))
    ));
    let mut j = base.clone();
    j["alg"] = json!("HS256");
    assert!(Key::from_jwk_json(&j.to_string()).is_err());
    // Not a JWK at all.
    assert!(Key::from_jwk_json("[]").is_err());
    assert!(Keys::from_jwks_json(r#"{"keys":[]}"#).is_err());
    assert!(Keys::from_jwks_json("{").is_err());
    // An `oct` JWK is an HMAC key, and its secret must be long enough.
    let k = b64([7u8; 32]);
    let oct = Key::from_jwk_json(&format!(r#"{{"kty":"oct","alg":"HS256","k":"{k}"}}"#))
        .expect("oct jwk");
    assert_eq!(oct.algorithm(), Algorithm::HS256);
    let short = b64([7u8; 16]);
    assert!(matches!(
        Key::from_jwk_json(&format!(r#"{{"kty":"oct","alg":"HS256","k":"{short}"}}"#)),
        Err(ConfigError::WeakSecret { .. })
    ));
}

#[test]
fn private_keys_must_match_and_fit() {
    // The private key of another RSA pair.
    let r = Key::rsa_pem(Algorithm::RS256, fixture("keys/rsa.public.pem"))
        .expect("pem")
        .with_private_pem(fixture("keys/rsa2.private.pem"));
    assert!(matches!(r, Err(ConfigError::InvalidKey(_))), "{r:?}");
    // A private key of another family.
    let r = Key::rsa_pem(Algorithm::RS256, fixture("keys/rsa.public.pem"))
        .expect("pem")
        .with_private_pem(fixture("keys/ec256.private.pem"));
    assert!(r.is_err());
    let r = Key::ec_pem(Algorithm::ES256, fixture("keys/ec256.public.pem"))
        .expect("pem")
        .with_private_pem(fixture("keys/ec384.private.pem"));
    assert!(r.is_err());
    // A public PEM where a private one is expected.
    let r = Key::ed_pem(fixture("keys/ed25519.public.pem"))
        .expect("pem")
        .with_private_pem(fixture("keys/ed25519.public.pem"));
    assert!(r.is_err());
    // Public PEMs of the wrong type.
    assert!(Key::rsa_pem(Algorithm::RS256, fixture("keys/ec256.public.pem")).is_err());
    assert!(Key::ec_pem(Algorithm::ES256, fixture("keys/rsa.public.pem")).is_err());
    assert!(Key::ed_pem(fixture("keys/rsa.public.pem")).is_err());
    // A verification-only key cannot sign, and says why without key bytes.
    let pem = fixture_str("keys/rsa.public.pem");
    let err = Keys::new(Key::rsa_pem(Algorithm::RS256, &pem).expect("pem"))
        .encode(&access_claims())
        .expect_err("cannot sign");
    assert!(matches!(err, ConfigError::InvalidKey(_)));
    let body: String = pem.lines().nth(1).expect("line").to_owned();
    assert!(!err.to_string().contains(&body), "{err}");
    // Debug never shows key material.
    let dbg = format!("{:?}", rsa_signer(Algorithm::RS256));
    assert!(!dbg.contains(&body), "{dbg}");
    assert!(dbg.contains("redacted"), "{dbg}");
}

// ---------------------------------------------------------------------------------------------
// Rotation
// ---------------------------------------------------------------------------------------------

const OLD: &[u8] = b"the-old-secret-still-32-bytes-long!!";
const NEW: &[u8] = b"the-new-secret-also-32-bytes-long!!!";

fn hs(secret: &[u8]) -> Key {
    Key::hmac(Algorithm::HS256, secret).expect("secret")
}

fn rotating_ring() -> Keys {
    Keys::from_keys([hs(OLD).with_kid("2025-a"), hs(NEW).with_kid("2025-b")])
        .expect("ring")
        .signing_kid("2025-b")
        .expect("kid exists")
}

#[test]
fn rotation_old_and_new_keys_both_verify() {
    let ring = rotating_ring();
    assert_eq!(ring.signing_key().kid(), Some("2025-b"));
    let new_token = ring.encode(&access_claims()).expect("encode");
    assert_eq!(
        header_of(&new_token),
        json!({"alg": "HS256", "kid": "2025-b", "typ": "JWT"})
    );
    assert_eq!(check(&ring, &new_token), Ok(()));
    let old_token = sign(hs(OLD).with_kid("2025-a"));
    assert_eq!(check(&ring, &old_token), Ok(()));
    // Each kid selects its own key only: the old secret under the new kid fails.
    let wrong = sign(hs(OLD).with_kid("2025-b"));
    assert_eq!(check(&ring, &wrong), Err(AuthErrorKind::BadSignature));
}

#[test]
fn rotation_unknown_kid_is_rejected() {
    let ring = rotating_ring();
    // Signed with a ring key's secret, but under a kid the ring does not have.
    let token = sign(hs(NEW).with_kid("2025-c"));
    assert_eq!(check(&ring, &token), Err(AuthErrorKind::UnknownKey));
    // kids are compared exactly.
    let token = sign(hs(NEW).with_kid("2025-B"));
    assert_eq!(check(&ring, &token), Err(AuthErrorKind::UnknownKey));
    // A ring of kid-less keys does not use the token's kid: the key of its alg verifies it.
    let token = sign(hs(SECRET.as_bytes()).with_kid("x"));
    assert_eq!(check(&ref_keys(), &token), Ok(()));
}

#[test]
fn rotation_kidless_token_uses_the_default_key() {
    // Without `signing_kid`, the default is the first key.
    let ring =
        Keys::from_keys([hs(OLD).with_kid("2025-a"), hs(NEW).with_kid("2025-b")]).expect("ring");
    assert_eq!(check(&ring, &sign(hs(OLD))), Ok(()));
    assert_eq!(
        check(&ring, &sign(hs(NEW))),
        Err(AuthErrorKind::BadSignature)
    );
    // `signing_kid` moves the default too.
    let ring = rotating_ring();
    assert_eq!(check(&ring, &sign(hs(NEW))), Ok(()));
    assert_eq!(
        check(&ring, &sign(hs(OLD))),
        Err(AuthErrorKind::BadSignature)
    );
}

#[test]
fn bad_key_ring_configurations_are_errors() {
    assert!(matches!(
        rotating_ring().signing_kid("nope"),
        Err(ConfigError::InvalidKey(_))
    ));
    assert_eq!(
        Keys::from_keys(Vec::<Key>::new()).err(),
        Some(ConfigError::NoKeys)
    );
    assert_eq!(
        Keys::from_keys([hs(OLD).with_kid("k"), hs(NEW).with_kid("k")]).err(),
        Some(ConfigError::DuplicateKid("k".into()))
    );
}

#[test]
fn mixed_family_ring_selects_by_kid() {
    let ring = Keys::from_keys([
        Key::rsa_pem(Algorithm::RS256, fixture("keys/rsa.public.pem"))
            .expect("pem")
            .with_kid("rsa"),
        Key::ec_pem(Algorithm::ES256, fixture("keys/ec256.public.pem"))
            .expect("pem")
            .with_kid("ec"),
        hs(NEW).with_kid("hs"),
        Key::ed_pem(fixture("keys/ed25519.public.pem"))
            .expect("pem")
            .with_kid("ed"),
    ])
    .expect("ring");
    assert_eq!(
        check(&ring, &sign(rsa_signer(Algorithm::RS256).with_kid("rsa"))),
        Ok(())
    );
    assert_eq!(
        check(&ring, &sign(ec_signer(Algorithm::ES256).with_kid("ec"))),
        Ok(())
    );
    assert_eq!(check(&ring, &sign(hs(NEW).with_kid("hs"))), Ok(()));
    assert_eq!(check(&ring, &sign(ed_signer().with_kid("ed"))), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Confusion attempts
// ---------------------------------------------------------------------------------------------

#[test]
fn rs256_token_against_an_hs256_ring_is_rejected() {
    let token = sign(rsa_signer(Algorithm::RS256));
    assert_eq!(
        check(&ref_keys(), &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
}

#[test]
fn hs256_signed_with_the_rsa_public_key_pem_against_an_rs256_ring_is_rejected() {
    // The classic HS/RS confusion: the attacker MACs with the public key's PEM text.
    let public_pem = fixture("keys/rsa.public.pem");
    let ring = Keys::new(Key::rsa_pem(Algorithm::RS256, &public_pem).expect("pem"));
    let payload = access_payload();
    for secret in [
        public_pem.clone(),
        fixture_str("keys/rsa.public.pem")
            .trim_end()
            .as_bytes()
            .to_vec(),
        fixture("keys/rsa.public.pkcs1.der"),
        fixture("keys/rsa.public.jwk.json"),
    ] {
        let token = forge_raw(
            HS256_HEADER.as_bytes(),
            payload.as_bytes(),
            "HS256",
            &secret,
        );
        assert_eq!(
            check(&ring, &token),
            Err(AuthErrorKind::AlgorithmNotAllowed)
        );
    }
    // Same with a kid that selects the RSA key.
    let ring = Keys::new(
        Key::rsa_pem(Algorithm::RS256, &public_pem)
            .expect("pem")
            .with_kid("rsa"),
    );
    let header = r#"{"alg":"HS256","kid":"rsa","typ":"JWT"}"#;
    let token = forge_raw(header.as_bytes(), payload.as_bytes(), "HS256", &public_pem);
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
}

#[test]
fn ecdsa_zero_signature_is_rejected() {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0.
    let ring =
        Keys::new(Key::ec_pem(Algorithm::ES256, fixture("keys/ec256.public.pem")).expect("pem"));
    let token = sign(ec_signer(Algorithm::ES256));
    assert_eq!(check(&ring, &token), Ok(()));
    let input = token.rsplit_once('.').expect("dot").0;
    for sig in [
        vec![0u8; 64],
        vec![0u8; 1],
        // DER-encoded r = s = 0.
        vec![0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00],
        // r = s = n (the P-256 group order).
        [
            hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
            hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"),
        ]
        .concat(),
    ] {
        let forged = format!("{input}.{}", b64(&sig));
        assert_eq!(
            check(&ring, &forged),
            Err(AuthErrorKind::BadSignature),
            "{sig:?}"
        );
    }
    // An empty signature segment.
    assert_eq!(
        check(&ring, &format!("{input}.")),
        Err(AuthErrorKind::BadSignature)
    );
}

fn hex32(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn kid_selecting_one_family_with_a_token_claiming_another_alg_is_rejected() {
    let ring = Keys::from_keys([
        Key::rsa_pem(Algorithm::RS256, fixture("keys/rsa.public.pem"))
            .expect("pem")
            .with_kid("rsa"),
        Key::ec_pem(Algorithm::ES256, fixture("keys/ec256.public.pem"))
            .expect("pem")
            .with_kid("ec"),
        hs(NEW).with_kid("hs"),
    ])
    .expect("ring");
    // A valid ES256 signature, but the kid names the RSA key.
    let token = sign(ec_signer(Algorithm::ES256).with_kid("rsa"));
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
    // A valid RS256 signature under the EC kid.
    let token = sign(rsa_signer(Algorithm::RS256).with_kid("ec"));
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
    // Same family, other algorithm: PS256 with the very key pinned to RS256.
    let token = sign(rsa_signer(Algorithm::PS256).with_kid("rsa"));
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
    // RS512 with the RS256 key.
    let token = sign(rsa_signer(Algorithm::RS512).with_kid("rsa"));
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
    // An HS256 token MACed with the HMAC key's secret but naming the RSA kid.
    let header = r#"{"alg":"HS256","kid":"rsa","typ":"JWT"}"#;
    let token = forge_raw(header.as_bytes(), access_payload().as_bytes(), "HS256", NEW);
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
    // HS384 under the HS256 kid, MACed with the right secret.
    let header = r#"{"alg":"HS384","kid":"hs","typ":"JWT"}"#;
    let token = forge_raw(header.as_bytes(), access_payload().as_bytes(), "HS384", NEW);
    assert_eq!(
        check(&ring, &token),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
}

#[test]
fn algorithms_are_pinned_to_key_families_at_construction() {
    assert!(matches!(
        Key::hmac(Algorithm::RS256, [1u8; 64]),
        Err(ConfigError::UnsupportedAlgorithm(_))
    ));
    assert!(Key::rsa_pem(Algorithm::ES256, fixture("keys/rsa.public.pem")).is_err());
    assert!(Key::rsa_pem(Algorithm::HS256, fixture("keys/rsa.public.pem")).is_err());
    assert!(Key::ec_pem(Algorithm::RS256, fixture("keys/ec256.public.pem")).is_err());
    assert!(Key::ec_der(Algorithm::EdDSA, fixture("keys/ec256.public.point.bin")).is_err());
    assert!(Key::rsa_der(Algorithm::HS512, fixture("keys/rsa.public.pkcs1.der")).is_err());
}
