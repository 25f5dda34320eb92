//! Verification throughput: the bearer parse, `Verifier::verify` per algorithm next to a bare
//! `jsonwebtoken::decode` on the same token, the layer against the bare service, the verified-token
//! cache, and the scaling tables. See BENCHMARKS.md for how to run it and what the numbers mean.
//!
//! The `shapes/…` groups run every token shape of `benches/fixtures/` (simplejwt's, an
//! identity provider's ~1.4 KB access token into a struct and into `serde_json::Value`, an
//! 8 KiB one), HS256 and RS256, as `Verifier::verify`, through the layer and as a cache hit.
//!
//! `cargo bench --bench verify` (add `-- GROUP` to run one group).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::clone_on_copy
)]

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderValue, Request, Response, header::AUTHORIZATION};
use serde::{Deserialize, Serialize};
use tower::{Layer, ServiceExt, service_fn};
use tower_jwt_auth::{
    Algorithm, JwtAuthLayer, Key, Keys, SimpleJwtClaims, TokenCache, Verifier, bearer_token,
};

/// Test-only secret (64 bytes, enough for HS512).
const SECRET: &[u8] = b"bench-only-secret-not-for-production-use-0123456789abcdef0123456";

/// The claims of a simplejwt access token, in simplejwt's order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Access {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: String,
}

/// The same, with one padding claim to reach a target token size.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Padded {
    token_type: String,
    exp: i64,
    iat: i64,
    jti: String,
    user_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pad: String,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(jti: &str, pad: usize) -> Padded {
    let iat = now();
    Padded {
        token_type: "access".into(),
        // A day: the token outlives any bench run.
        exp: iat + 86_400,
        iat,
        jti: jti.into(),
        user_id: "1".into(),
        pad: "x".repeat(pad),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/benches/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One algorithm's key for us and for jsonwebtoken.
struct Alg {
    name: &'static str,
    key: Key,
    jwt_key: jsonwebtoken::DecodingKey,
    alg: Algorithm,
}

fn algs() -> Vec<Alg> {
    let hmac = |alg, name| Alg {
        name,
        key: Key::hmac(alg, SECRET).unwrap(),
        jwt_key: jsonwebtoken::DecodingKey::from_secret(SECRET),
        alg,
    };
    let rsa = |alg, name| Alg {
        name,
        key: Key::rsa_pem(alg, fixture("rsa_public.pem"))
            .unwrap()
            .with_private_pem(fixture("rsa_private.pem"))
            .unwrap(),
        jwt_key: jsonwebtoken::DecodingKey::from_rsa_pem(&fixture("rsa_public.pem")).unwrap(),
        alg,
    };
    let ec = |alg, name, file: &str| Alg {
        name,
        key: Key::ec_pem(alg, fixture(&format!("{file}_public.pem")))
            .unwrap()
            .with_private_pem(fixture(&format!("{file}_private.pem")))
            .unwrap(),
        jwt_key: jsonwebtoken::DecodingKey::from_ec_pem(&fixture(&format!("{file}_public.pem")))
            .unwrap(),
        alg,
    };
    vec![
        hmac(Algorithm::HS256, "HS256"),
        hmac(Algorithm::HS384, "HS384"),
        hmac(Algorithm::HS512, "HS512"),
        rsa(Algorithm::RS256, "RS256"),
        rsa(Algorithm::PS256, "PS256"),
        ec(Algorithm::ES256, "ES256", "ec256"),
        ec(Algorithm::ES384, "ES384", "ec384"),
        Alg {
            name: "EdDSA",
            key: Key::ed_pem(fixture("ed25519_public.pem"))
                .unwrap()
                .with_private_pem(fixture("ed25519_private.pem"))
                .unwrap(),
            jwt_key: jsonwebtoken::DecodingKey::from_ed_pem(&fixture("ed25519_public.pem"))
                .unwrap(),
            alg: Algorithm::EdDSA,
        },
    ]
}

/// jsonwebtoken's validation with the same checks as ours (alg pinned, exp required).
fn jwt_validation(alg: Algorithm) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp"]);
    v
}

/// jsonwebtoken decodes through its process-wide provider: use the backend our build uses.
fn install_jsonwebtoken_provider() -> &'static str {
    #[cfg(feature = "aws-lc-rs")]
    {
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        "aws_lc_rs"
    }
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        "rust_crypto"
    }
}

/// Polls a future that never waits (the layer's, over a `service_fn` that returns at once).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the future waited"),
    }
}

fn request(auth: &HeaderValue) -> Request<()> {
    let mut req = Request::new(());
    req.headers_mut().insert(AUTHORIZATION, auth.clone());
    req
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_maybe_shared(bytes_of(format!("Bearer {token}"))).unwrap()
}

fn bytes_of(s: String) -> bytes::Bytes {
    bytes::Bytes::from(s)
}

fn hs256_token() -> (Keys, String) {
    let keys = Keys::hs256(SECRET).unwrap();
    let t = keys
        .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0))
        .unwrap();
    (keys, t)
}

fn bench_bearer(c: &mut Criterion) {
    let (_, token) = hs256_token();
    let req = request(&bearer(&token));
    let mut g = c.benchmark_group("bearer");
    g.bench_function("parse", |b| {
        b.iter(|| {
            bearer_token(black_box(req.headers()))
                .unwrap()
                .unwrap()
                .len()
        })
    });
    g.finish();
}

fn bench_algorithms(c: &mut Criterion) {
    let backend = install_jsonwebtoken_provider();
    let mut g = c.benchmark_group("verify");
    for a in algs() {
        let keys = Keys::new(a.key.clone());
        let token = keys
            .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0))
            .unwrap();
        let verifier = Verifier::new(keys);
        verifier.verify::<Access>(&token).expect("ours verifies");
        let validation = jwt_validation(a.alg);
        jsonwebtoken::decode::<Access>(&token, &a.jwt_key, &validation).expect("jwt verifies");
        g.bench_with_input(BenchmarkId::new("ours", a.name), &token, |b, t| {
            b.iter(|| verifier.verify::<Access>(black_box(t)).unwrap())
        });
        g.bench_with_input(
            BenchmarkId::new(format!("jsonwebtoken-{backend}"), a.name),
            &token,
            |b, t| {
                b.iter(|| {
                    jsonwebtoken::decode::<Access>(black_box(t), &a.jwt_key, &validation).unwrap()
                })
            },
        );
    }
    g.finish();
}

fn bench_layer(c: &mut Criterion) {
    let (keys, token) = hs256_token();
    let auth = bearer(&token);
    let inner = service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let mut g = c.benchmark_group("layer");
    g.bench_function("bare service", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(inner.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let ours = JwtAuthLayer::<Access>::new(keys.clone()).layer(inner.clone());
    let res = ready(ours.clone().oneshot(request(&auth))).unwrap();
    assert_eq!(res.status(), 200);
    g.bench_function("ours HS256", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(ours.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let simple = JwtAuthLayer::<SimpleJwtClaims>::new(keys.clone()).layer(inner.clone());
    g.bench_function("ours HS256 SimpleJwtClaims", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(simple.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let cached = JwtAuthLayer::<Access>::new(keys.clone())
        .cache(10_000)
        .layer(inner.clone());
    g.bench_function("ours HS256 cached", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(cached.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let rejected = request(&bearer("not.a.jwt"));
    assert_eq!(ready(ours.clone().oneshot(rejected)).unwrap().status(), 401);
    g.bench_function("ours HS256 rejection (malformed)", |b| {
        b.iter_batched(
            || request(&bearer("not.a.jwt")),
            |req| ready(ours.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn bench_cache(c: &mut Criterion) {
    install_jsonwebtoken_provider();
    let (keys, token) = hs256_token();
    let mut g = c.benchmark_group("cache");
    let verifier = Verifier::new(keys.clone());
    g.bench_function("uncached verify", |b| {
        b.iter(|| verifier.verify::<Access>(black_box(&token)).unwrap())
    });
    let cache = TokenCache::<Access>::new(verifier.clone(), 10_000);
    cache.verify(token.as_bytes()).unwrap();
    g.bench_function("cached verify (hit)", |b| {
        b.iter(|| cache.verify(black_box(token.as_bytes())).unwrap())
    });
    let jwt_key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let validation = jwt_validation(Algorithm::HS256);
    g.bench_function("jsonwebtoken decode", |b| {
        b.iter(|| jsonwebtoken::decode::<Access>(black_box(&token), &jwt_key, &validation).unwrap())
    });
    g.finish();
}

fn bench_scaling(c: &mut Criterion) {
    install_jsonwebtoken_provider();
    let keys = Keys::hs256(SECRET).unwrap();
    let verifier = Verifier::new(keys.clone());
    let jwt_key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let validation = jwt_validation(Algorithm::HS256);

    // Token size: 231 B (simplejwt's own) up to just under the 8 KiB cap.
    let mut g = c.benchmark_group("scale/token size");
    for target in [231usize, 1024, 2048, 4096, 8000] {
        let base = keys
            .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0))
            .unwrap()
            .len();
        let pad = if target > base {
            // `,"pad":"…"` is 9 bytes of JSON plus the padding; base64 grows it by 4/3.
            ((target - base) * 3 / 4).saturating_sub(9)
        } else {
            0
        };
        let token = keys
            .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", pad))
            .unwrap();
        verifier.verify::<Padded>(&token).expect("verifies");
        g.throughput(Throughput::Bytes(token.len() as u64));
        g.bench_with_input(BenchmarkId::new("ours", token.len()), &token, |b, t| {
            b.iter(|| verifier.verify::<Padded>(black_box(t)).unwrap())
        });
        g.bench_with_input(
            BenchmarkId::new("jsonwebtoken", token.len()),
            &token,
            |b, t| {
                b.iter(|| {
                    jsonwebtoken::decode::<Padded>(black_box(t), &jwt_key, &validation).unwrap()
                })
            },
        );
    }
    g.finish();

    // Ring size: N HS256 keys; the token names the last one by kid. The ring's default key is the
    // first one, so the header is parsed and the key looked up by kid, as during a rotation.
    let mut g = c.benchmark_group("scale/keys");
    for n in [1usize, 10, 100, 1000] {
        let ring = Keys::from_keys((0..n).map(|i| {
            let mut secret = SECRET.to_vec();
            secret.extend_from_slice(format!("{i:04}").as_bytes());
            Key::hmac(Algorithm::HS256, secret)
                .unwrap()
                .with_kid(format!("key-{i:04}"))
        }))
        .unwrap();
        let token = ring
            .clone()
            .signing_kid(&format!("key-{:04}", n - 1))
            .unwrap()
            .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0))
            .unwrap();
        let v = Verifier::new(ring);
        v.verify::<Access>(&token).expect("verifies");
        g.bench_with_input(BenchmarkId::new("ours", n), &token, |b, t| {
            b.iter(|| v.verify::<Access>(black_box(t)).unwrap())
        });
    }
    g.finish();

    // Revoked jtis: an in-memory set of N revoked ids consulted on every verification.
    let mut g = c.benchmark_group("scale/revoked jtis");
    let token = keys
        .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0))
        .unwrap();
    for n in [1usize, 1000, 100_000] {
        let set: Arc<HashSet<String>> = Arc::new((0..n).map(|i| format!("{i:032x}")).collect());
        let s = Arc::clone(&set);
        let v = Verifier::new(keys.clone()).revocation(move |jti: &str| s.contains(jti));
        v.verify::<Access>(&token).expect("not revoked");
        g.bench_with_input(BenchmarkId::new("ours", n), &token, |b, t| {
            b.iter(|| v.verify::<Access>(black_box(t)).unwrap())
        });
        let cache = TokenCache::<Access>::new(v.clone(), 10_000);
        g.bench_with_input(BenchmarkId::new("ours cached", n), &token, |b, t| {
            b.iter(|| cache.verify(black_box(t.as_bytes())).unwrap())
        });
    }
    g.finish();

    // Threads: aggregate time per verification with T threads verifying at once (perfect
    // scaling halves it from 1 to 2 threads on 2 free cores).
    let mut g = c.benchmark_group("scale/threads");
    let token = keys
        .encode(&claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0))
        .unwrap();
    let cache = TokenCache::<Access>::new(verifier.clone(), 10_000);
    for threads in [1u32, 2] {
        g.bench_with_input(BenchmarkId::new("ours", threads), &threads, |b, &t| {
            b.iter_custom(|iters| {
                parallel(t, iters, || {
                    verifier.verify::<Access>(black_box(&token)).unwrap();
                })
            })
        });
        g.bench_with_input(
            BenchmarkId::new("ours cached", threads),
            &threads,
            |b, &t| {
                b.iter_custom(|iters| {
                    parallel(t, iters, || {
                        cache.verify(black_box(token.as_bytes())).unwrap();
                    })
                })
            },
        );
    }
    g.finish();
}

/// Runs `f` `iters` times on each of `threads` threads at once; returns wall time / threads, the
/// aggregate time per operation.
fn parallel(threads: u32, iters: u64, f: impl Fn() + Sync) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..iters {
                    f();
                }
            });
        }
    });
    start.elapsed() / threads
}

/// An identity provider's access token (Keycloak's layout), typed as a resource server would.
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)]
struct Idp {
    exp: i64,
    iat: i64,
    auth_time: Option<i64>,
    jti: String,
    iss: String,
    aud: Vec<String>,
    sub: String,
    typ: String,
    azp: String,
    sid: String,
    acr: String,
    #[serde(rename = "allowed-origins")]
    allowed_origins: Vec<String>,
    realm_access: Roles,
    resource_access: std::collections::HashMap<String, Roles>,
    scope: String,
    email_verified: bool,
    name: String,
    preferred_username: String,
    given_name: String,
    family_name: String,
    email: String,
    locale: String,
    tenant: String,
    client_id: String,
    session_state: String,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)]
struct Roles {
    roles: Vec<String>,
}

/// `benches/fixtures/{name}` as JSON, `exp` in 2100.
fn json_fixture(name: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

const IDP_ISS: &str = "https://idp.example.com/realms/acme";
const IDP_AUD: &str = "api.example.com";

/// One token shape: its claims, and whether it is simplejwt's (policy) or an IdP's.
struct Shape {
    name: &'static str,
    claims: serde_json::Value,
    simplejwt: bool,
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape {
            name: "simplejwt",
            claims: serde_json::to_value(claims("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 0)).unwrap(),
            simplejwt: true,
        },
        Shape {
            name: "idp",
            claims: json_fixture("idp.json"),
            simplejwt: false,
        },
        Shape {
            name: "idp 8k",
            claims: json_fixture("idp_8k.json"),
            simplejwt: false,
        },
    ]
}

/// Every shape × HS256/RS256 × (`Verifier::verify`, the layer, a cache hit) next to
/// `jsonwebtoken::decode` into the same type, bare and with the extension insert a layer makes.
fn bench_shapes(c: &mut Criterion) {
    let backend = install_jsonwebtoken_provider();
    let algs: Vec<Alg> = algs()
        .into_iter()
        .filter(|a| matches!(a.name, "HS256" | "RS256"))
        .collect();
    for shape in shapes() {
        for a in &algs {
            let keys = Keys::new(a.key.clone());
            let token = keys.encode(&shape.claims).unwrap();
            let (verifier, mut validation) = if shape.simplejwt {
                (Verifier::new(keys.clone()), jwt_validation(a.alg))
            } else {
                let mut v = jwt_validation(a.alg);
                v.set_issuer(&[IDP_ISS]);
                v.set_audience(&[IDP_AUD]);
                v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                (Verifier::access_token(keys.clone(), IDP_ISS, IDP_AUD), v)
            };
            validation.validate_nbf = true;
            let mut g = c.benchmark_group(format!(
                "shapes/{} {} ({} B)",
                shape.name,
                a.name,
                token.len()
            ));
            if shape.simplejwt {
                shape_cases::<Access>(&mut g, "struct", &token, &verifier, a, &validation, backend);
                shape_cases::<SimpleJwtClaims>(
                    &mut g,
                    "SimpleJwtClaims",
                    &token,
                    &verifier,
                    a,
                    &validation,
                    backend,
                );
            } else {
                shape_cases::<Idp>(&mut g, "struct", &token, &verifier, a, &validation, backend);
            }
            shape_cases::<serde_json::Value>(
                &mut g,
                "Value",
                &token,
                &verifier,
                a,
                &validation,
                backend,
            );
            g.finish();
        }
    }
}

fn shape_cases<C>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ty: &str,
    token: &str,
    verifier: &Verifier,
    a: &Alg,
    validation: &jsonwebtoken::Validation,
    backend: &str,
) where
    C: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    verifier.verify::<C>(token).expect("ours verifies");
    jsonwebtoken::decode::<C>(token, &a.jwt_key, validation).expect("jsonwebtoken verifies");
    // The floor of any verifier: one serde_json pass into `C` over the decoded payload.
    let payload = {
        use base64::Engine as _;
        let p64 = token.split('.').nth(1).unwrap();
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(p64)
            .unwrap()
    };
    g.bench_function(format!("{ty}: serde_json::from_slice alone"), |b| {
        b.iter(|| serde_json::from_slice::<C>(black_box(&payload)).unwrap())
    });
    g.bench_function(format!("{ty}: ours Verifier::verify"), |b| {
        b.iter(|| verifier.verify::<C>(black_box(token)).unwrap())
    });
    g.bench_function(format!("{ty}: jsonwebtoken decode ({backend})"), |b| {
        b.iter(|| jsonwebtoken::decode::<C>(black_box(token), &a.jwt_key, validation).unwrap())
    });
    let cache = TokenCache::<C>::new(verifier.clone(), 10_000);
    cache.verify(token.as_bytes()).unwrap();
    g.bench_function(format!("{ty}: ours TokenCache hit"), |b| {
        b.iter(|| cache.verify(black_box(token.as_bytes())).unwrap())
    });

    let auth = bearer(token);
    let inner = service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let ours = JwtAuthLayer::<C>::new(verifier.clone()).layer(inner.clone());
    assert_eq!(
        ready(ours.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function(format!("{ty}: ours JwtAuthLayer"), |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(ours.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let cached = JwtAuthLayer::<C>::new(verifier.clone())
        .cache(10_000)
        .layer(inner.clone());
    assert_eq!(
        ready(cached.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function(format!("{ty}: ours JwtAuthLayer + cache hit"), |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(cached.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    // What a hand-written layer over jsonwebtoken does: decode, insert the claims, call on.
    let key = a.jwt_key.clone();
    let validation = validation.clone();
    let theirs = move |mut req: Request<()>| {
        let token = bearer_token(req.headers()).unwrap().unwrap();
        let data = jsonwebtoken::decode::<C>(token, &key, &validation).unwrap();
        req.extensions_mut().insert(data.claims);
        ready(inner.clone().oneshot(req)).unwrap()
    };
    g.bench_function(
        format!("{ty}: jsonwebtoken decode + extension insert"),
        |b| b.iter_batched(|| request(&auth), &theirs, BatchSize::SmallInput),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench_bearer, bench_algorithms, bench_layer, bench_cache, bench_scaling, bench_shapes
}
criterion_main!(benches);
