//! Token verification on raw bytes (header, payload, signature segments): never a panic, with
//! every key type and policy. Starting inputs: the recorded tokens (fuzz/initial/verify_token).
#![no_main]

use std::sync::LazyLock;

use fuzz_support::{NOW, SECRET};
use libfuzzer_sys::fuzz_target;
use tower_jwt_auth::{Algorithm, Clock, Key, Keys, SimpleJwtClaims, Verifier};

const KEYS: &str = "../tests/fixtures/keys/";

static VERIFIERS: LazyLock<Vec<Verifier>> = LazyLock::new(|| {
    let pem = |name: &str| {
        std::fs::read(format!("{}/{KEYS}{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let hs = Keys::hs256(SECRET).expect("secret");
    let clock = Clock::fixed(NOW);
    let ring = Keys::from_keys([
        Key::rsa_pem(Algorithm::RS256, pem("rsa.public.pem"))
            .expect("rsa")
            .with_kid("rsa"),
        Key::ec_pem(Algorithm::ES256, pem("ec256.public.pem"))
            .expect("ec")
            .with_kid("ec"),
        Key::ed_pem(pem("ed25519.public.pem"))
            .expect("ed")
            .with_kid("ed"),
        Key::rsa_pem(Algorithm::PS256, pem("rsa2.public.pem"))
            .expect("ps")
            .with_kid("ps"),
    ])
    .expect("ring");
    vec![
        Verifier::simplejwt(hs.clone()).clock(clock.clone()),
        Verifier::jwt(hs.clone())
            .clock(clock.clone())
            .audience(["api"])
            .leeway(30)
            .expect("leeway"),
        Verifier::jwt(ring.clone()).clock(clock.clone()),
        Verifier::access_token(ring, "https://idp.example.com/", "api")
            .require_at_jwt_typ(true)
            .clock(clock.clone()),
    ]
});

fuzz_target!(|data: &[u8]| {
    for v in VERIFIERS.iter() {
        let _ = v.verify_bytes::<serde_json::Value>(data);
        let _ = v.verify_bytes::<SimpleJwtClaims>(data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VERIFIERS[0].verify::<serde_json::Value>(text);
    }
});
