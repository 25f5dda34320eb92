//! A bare `jsonwebtoken::decode` with jsonwebtoken's aws_lc_rs backend (its process-wide provider
//! can be set once per process, so this runs apart from `peers`, in the same `cargo bench`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Duration;

use aws_lc_rs::signature as awslc;
use base64::Engine as _;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, header::AUTHORIZATION};
use std::convert::Infallible;
use tower::{Layer, ServiceExt, service_fn};
use tower_jwt_auth::{Algorithm, JwtAuthLayer, Key, Keys, TokenCache, Verifier};
use tower_jwt_auth_peers::{Access, IDP_AUD, IDP_ISS, Idp, SECRET, access, ready, shapes};

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

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_maybe_shared(bytes::Bytes::from(format!("Bearer {token}"))).unwrap()
}

fn request(auth: &HeaderValue) -> Request<()> {
    let mut req = Request::new(());
    req.headers_mut().insert(AUTHORIZATION, auth.clone());
    req
}

/// Every token shape, RS256: ours (verify, layer, cache hit) against the floor (raw aws-lc-rs
/// signature check with a parsed key plus one `serde_json::from_slice` of the decoded payload)
/// and `jsonwebtoken::decode` (aws_lc_rs, the faster backend for RSA), bare and with the
/// extension insert.
fn bench_shapes(c: &mut Criterion) {
    jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
        .install_default()
        .ok();
    for (name, claims, simplejwt) in shapes() {
        let key = Key::rsa_pem(Algorithm::RS256, fixture("rsa_public.pem"))
            .unwrap()
            .with_private_pem(fixture("rsa_private.pem"))
            .unwrap();
        let keys = Keys::new(key);
        let token = keys.encode(&claims).unwrap();
        let mut g = c.benchmark_group(format!("shapes RS256/{name} ({} B)", token.len()));
        if simplejwt {
            shape::<Access>(&mut g, "struct", &keys, &token, true);
        } else {
            shape::<Idp>(&mut g, "struct", &keys, &token, false);
        }
        shape::<serde_json::Value>(&mut g, "Value", &keys, &token, simplejwt);
        g.finish();
    }
}

fn shape<C>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ty: &str,
    keys: &Keys,
    token: &str,
    simplejwt: bool,
) where
    C: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    let verifier = if simplejwt {
        Verifier::new(keys.clone())
    } else {
        Verifier::access_token(keys.clone(), IDP_ISS, IDP_AUD)
    };
    // The floor: the signature check alone, with a parsed key, and one serde_json pass.
    let (msg, sig) = token.rsplit_once('.').unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let sig = b64.decode(sig).unwrap();
    let payload = b64.decode(msg.split_once('.').unwrap().1).unwrap();
    let parsed = awslc::UnparsedPublicKey::new(
        &awslc::RSA_PKCS1_2048_8192_SHA256,
        fixture("rsa_public_pkcs1.der"),
    )
    .parse()
    .unwrap();
    g.bench_function(
        format!("{ty}: aws-lc-rs raw verify + serde_json pass"),
        |b| {
            b.iter(|| {
                parsed
                    .verify_sig(black_box(msg.as_bytes()), black_box(&sig))
                    .unwrap();
                serde_json::from_slice::<C>(black_box(&payload)).unwrap()
            })
        },
    );
    g.bench_function(format!("{ty}: tower-jwt-auth Verifier::verify"), |b| {
        b.iter(|| verifier.verify::<C>(black_box(token)).unwrap())
    });
    let auth = bearer(token);
    let inner =
        service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(http::Response::new(())) });
    let ours = JwtAuthLayer::<C>::new(verifier.clone()).layer(inner.clone());
    assert_eq!(
        ready(ours.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function(format!("{ty}: tower-jwt-auth JwtAuthLayer"), |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(ours.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let cache = TokenCache::<C>::new(verifier.clone(), 10_000);
    cache.verify(token.as_bytes()).unwrap();
    g.bench_function(format!("{ty}: tower-jwt-auth TokenCache hit"), |b| {
        b.iter(|| cache.verify(black_box(token.as_bytes())).unwrap())
    });
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(&fixture("rsa_public.pem")).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp"]);
    if !simplejwt {
        validation.set_issuer(&[IDP_ISS]);
        validation.set_audience(&[IDP_AUD]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    }
    jsonwebtoken::decode::<C>(token, &key, &validation).expect("jsonwebtoken verifies");
    g.bench_function(format!("{ty}: jsonwebtoken 11 decode (aws_lc_rs)"), |b| {
        b.iter(|| jsonwebtoken::decode::<C>(black_box(token), &key, &validation).unwrap())
    });
    let theirs = move |mut req: Request<()>| {
        let token = tower_jwt_auth::bearer_token(req.headers())
            .unwrap()
            .unwrap();
        let data = jsonwebtoken::decode::<C>(token, &key, &validation).unwrap();
        req.extensions_mut().insert(data.claims);
        ready(inner.clone().oneshot(req)).unwrap()
    };
    g.bench_function(
        format!("{ty}: jsonwebtoken 11 decode + extension insert"),
        |b| b.iter_batched(|| request(&auth), &theirs, BatchSize::SmallInput),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench, bench_shapes
}
criterion_main!(benches);
