//! A bare `jsonwebtoken::decode` with jsonwebtoken's aws_lc_rs backend (its process-wide provider
//! can be set once per process, so this runs apart from `peers`, in the same `cargo bench`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tower_jwt_auth::{Algorithm, Key, Keys};
use tower_jwt_auth_peers::{Access, SECRET, access};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn bench(c: &mut Criterion) {
    jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
        .install_default()
        .ok();
    let claims = access();
    let cases = [
        (
            "HS256",
            Key::hmac(Algorithm::HS256, SECRET).unwrap(),
            jsonwebtoken::DecodingKey::from_secret(SECRET),
        ),
        (
            "RS256",
            Key::rsa_pem(Algorithm::RS256, fixture("rsa_public.pem"))
                .unwrap()
                .with_private_pem(fixture("rsa_private.pem"))
                .unwrap(),
            jsonwebtoken::DecodingKey::from_rsa_pem(&fixture("rsa_public.pem")).unwrap(),
        ),
        (
            "ES256",
            Key::ec_pem(Algorithm::ES256, fixture("ec256_public.pem"))
                .unwrap()
                .with_private_pem(fixture("ec256_private.pem"))
                .unwrap(),
            jsonwebtoken::DecodingKey::from_ec_pem(&fixture("ec256_public.pem")).unwrap(),
        ),
        (
            "EdDSA",
            Key::ed_pem(fixture("ed25519_public.pem"))
                .unwrap()
                .with_private_pem(fixture("ed25519_private.pem"))
                .unwrap(),
            jsonwebtoken::DecodingKey::from_ed_pem(&fixture("ed25519_public.pem")).unwrap(),
        ),
    ];
    let mut g = c.benchmark_group("jsonwebtoken 11 decode (aws_lc_rs)");
    for (name, key, jwt_key) in cases {
        let alg = key.algorithm();
        let token = Keys::new(key).encode(&claims).unwrap();
        let mut v = jsonwebtoken::Validation::new(alg);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp"]);
        jsonwebtoken::decode::<Access>(&token, &jwt_key, &v).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| jsonwebtoken::decode::<Access>(black_box(&token), &jwt_key, &v).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
