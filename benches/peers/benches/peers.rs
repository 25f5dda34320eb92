//! tower-jwt-auth against its peers, in one criterion run, on the same tokens:
//! jwt-authorizer's tower layer, axum-jwt-auth's extractor, jwt-simple, a bare
//! `jsonwebtoken::decode` (rust_crypto backend: jsonwebtoken's process-wide provider is set once
//! here; the aws_lc_rs backend runs in the `peers_aws_lc` bench), and raw aws-lc-rs signature
//! verification as the floor for RS/PS/ES/EdDSA; in the shape benches, a raw HMAC check plus
//! base64 plus one serde_json pass as the floor for HS256.
//!
//! `cd benches/peers && cargo bench` (see BENCHMARKS.md).
#![allow(missing_docs, clippy::unwrap_used, clippy::clone_on_copy)]

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{self as awslc, VerificationAlgorithm};
use base64::Engine as _;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, header::AUTHORIZATION};
use jwt_authorizer::IntoLayer as _;
use serde::{Deserialize, Serialize};
use tower::{Layer, ServiceExt, service_fn};
use tower_jwt_auth::{Algorithm, Claims, JwtAuthLayer, Key, Keys, TokenCache, Verifier};
use tower_jwt_auth_peers::{Access, IDP_AUD, IDP_ISS, Idp, SECRET, access, ready, shapes};

/// jwt-simple's custom part (it parses `exp`, `iat`, `jti` itself).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SimpleCustom {
    pub token_type: String,
    pub user_id: String,
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn jwt_validation(alg: jsonwebtoken::Algorithm) -> jsonwebtoken::Validation {
    let mut v = jsonwebtoken::Validation::new(alg);
    v.leeway = 0;
    v.set_required_spec_claims(&["exp"]);
    v
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_maybe_shared(bytes::Bytes::from(format!("Bearer {token}"))).unwrap()
}

fn request<B: Default>(auth: &HeaderValue) -> Request<B> {
    let mut req = Request::new(B::default());
    req.headers_mut().insert(AUTHORIZATION, auth.clone());
    req
}

fn hs256() -> (Keys, String) {
    let keys = Keys::hs256(SECRET).unwrap();
    let token = keys.encode(&access()).unwrap();
    (keys, token)
}

/// HS256 verification alone, no HTTP.
fn bench_hs256_verify(c: &mut Criterion) {
    let (keys, token) = hs256();
    let mut g = c.benchmark_group("hs256 verify");
    let verifier = Verifier::new(keys);
    g.bench_function("tower-jwt-auth Verifier::verify", |b| {
        b.iter(|| verifier.verify::<Access>(black_box(&token)).unwrap())
    });
    let cache = TokenCache::<Access>::new(verifier.clone(), 10_000);
    cache.verify(token.as_bytes()).unwrap();
    g.bench_function("tower-jwt-auth TokenCache hit", |b| {
        b.iter(|| cache.verify(black_box(token.as_bytes())).unwrap())
    });
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let validation = jwt_validation(jsonwebtoken::Algorithm::HS256);
    g.bench_function("jsonwebtoken 11 decode (rust_crypto)", |b| {
        b.iter(|| jsonwebtoken::decode::<Access>(black_box(&token), &key, &validation).unwrap())
    });
    use jwt_simple::prelude::MACLike as _;
    let simple_key = jwt_simple::prelude::HS256Key::from_bytes(SECRET);
    simple_key
        .verify_token::<SimpleCustom>(&token, None)
        .expect("jwt-simple verifies");
    g.bench_function("jwt-simple 0.12 verify_token (pure-rust)", |b| {
        b.iter(|| {
            simple_key
                .verify_token::<SimpleCustom>(black_box(&token), None)
                .unwrap()
        })
    });
    g.finish();
}

/// HS256 through tower layers over the same trivial inner service, `oneshot`.
fn bench_hs256_layer(c: &mut Criterion) {
    let (keys, token) = hs256();
    let auth = bearer(&token);
    // jwt-authorizer needs its inner service to answer with axum 0.7's `Response`.
    let inner = service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(axum07::response::Response::new(axum07::body::Body::empty()))
    });
    let mut g = c.benchmark_group("hs256 layer");
    g.bench_function("bare service", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(inner.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let ours = JwtAuthLayer::<Access>::new(keys.clone()).layer(inner.clone());
    assert_eq!(
        ready(ours.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function("tower-jwt-auth JwtAuthLayer", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(ours.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    let cached = JwtAuthLayer::<Access>::new(keys.clone())
        .cache(10_000)
        .layer(inner.clone());
    assert_eq!(
        ready(cached.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function("tower-jwt-auth JwtAuthLayer + cache", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(cached.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let authorizer_layer = rt.block_on(async {
        jwt_authorizer::JwtAuthorizer::<Access>::from_secret(std::str::from_utf8(SECRET).unwrap())
            .validation(jwt_authorizer::Validation::new().leeway(0))
            .build()
            .await
            .unwrap()
            .into_layer()
    });
    let authorizer = authorizer_layer.layer(inner.clone());
    assert_eq!(
        ready(authorizer.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function("jwt-authorizer 0.15 layer", |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(authorizer.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// HS256 on an axum 0.8 router: our layer vs axum-jwt-auth's extractor.
fn bench_axum(c: &mut Criterion) {
    use axum::Router;
    use axum::routing::get;
    // axum-jwt-auth insists on an audience: the token carries one, and both sides check it.
    #[derive(Clone, Debug, Serialize, Deserialize)]
    struct WithAud {
        #[serde(flatten)]
        access: Access,
        aud: String,
    }
    let keys = Keys::hs256(SECRET).unwrap();
    let token = keys
        .encode(&WithAud {
            access: access(),
            aud: "bench".into(),
        })
        .unwrap();
    let auth = bearer(&token);
    let mut g = c.benchmark_group("hs256 axum 0.8 router");

    let bare: Router = Router::new().route("/", get(|| async { "ok" }));
    g.bench_function("router alone", |b| {
        b.iter_batched(
            || request::<axum::body::Body>(&auth),
            |req| ready(bare.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let ours: Router = Router::new()
        .route(
            "/",
            get(|Claims(c): Claims<Access>| async move { c.user_id.clone() }),
        )
        .layer(JwtAuthLayer::<Access>::new(
            Verifier::new(keys.clone()).audience(["bench"]),
        ));
    assert_eq!(
        ready(ours.clone().oneshot(request::<axum::body::Body>(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function("tower-jwt-auth layer + Extension", |b| {
        b.iter_batched(
            || request::<axum::body::Body>(&auth),
            |req| ready(ours.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let decoder = axum_jwt_auth::LocalDecoder::builder()
        .keys(vec![jsonwebtoken10::DecodingKey::from_secret(SECRET)])
        .validation({
            let mut v = jsonwebtoken10::Validation::new(jsonwebtoken10::Algorithm::HS256);
            v.leeway = 0;
            v.set_audience(&["bench"]);
            v
        })
        .build()
        .unwrap();
    let decoder: axum_jwt_auth::Decoder<Access> = Arc::new(decoder);
    #[derive(Clone, axum::extract::FromRef)]
    struct State {
        decoder: axum_jwt_auth::Decoder<Access>,
    }
    let theirs: Router = Router::new()
        .route(
            "/",
            get(|c: axum_jwt_auth::Claims<Access>| async move { c.claims.user_id }),
        )
        .with_state(State { decoder });
    assert_eq!(
        ready(theirs.clone().oneshot(request::<axum::body::Body>(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function("axum-jwt-auth 0.7 Claims extractor", |b| {
        b.iter_batched(
            || request::<axum::body::Body>(&auth),
            |req| ready(theirs.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

struct Asym {
    name: &'static str,
    alg: Algorithm,
    key: Key,
    jwt_key: jsonwebtoken::DecodingKey,
    raw: &'static dyn VerificationAlgorithm,
    raw_key: Vec<u8>,
}

fn asym() -> Vec<Asym> {
    let rsa = |name, alg, raw: &'static dyn VerificationAlgorithm| Asym {
        name,
        alg,
        key: Key::rsa_pem(alg, fixture("rsa_public.pem"))
            .unwrap()
            .with_private_pem(fixture("rsa_private.pem"))
            .unwrap(),
        jwt_key: jsonwebtoken::DecodingKey::from_rsa_pem(&fixture("rsa_public.pem")).unwrap(),
        raw,
        raw_key: fixture("rsa_public_pkcs1.der"),
    };
    let ec = |name, alg, file: &str, raw: &'static dyn VerificationAlgorithm| Asym {
        name,
        alg,
        key: Key::ec_pem(alg, fixture(&format!("{file}_public.pem")))
            .unwrap()
            .with_private_pem(fixture(&format!("{file}_private.pem")))
            .unwrap(),
        jwt_key: jsonwebtoken::DecodingKey::from_ec_pem(&fixture(&format!("{file}_public.pem")))
            .unwrap(),
        raw,
        raw_key: fixture(&format!("{file}_public.point")),
    };
    vec![
        rsa(
            "RS256",
            Algorithm::RS256,
            &awslc::RSA_PKCS1_2048_8192_SHA256,
        ),
        rsa("PS256", Algorithm::PS256, &awslc::RSA_PSS_2048_8192_SHA256),
        ec(
            "ES256",
            Algorithm::ES256,
            "ec256",
            &awslc::ECDSA_P256_SHA256_FIXED,
        ),
        ec(
            "ES384",
            Algorithm::ES384,
            "ec384",
            &awslc::ECDSA_P384_SHA384_FIXED,
        ),
        Asym {
            name: "EdDSA",
            alg: Algorithm::EdDSA,
            key: Key::ed_pem(fixture("ed25519_public.pem"))
                .unwrap()
                .with_private_pem(fixture("ed25519_private.pem"))
                .unwrap(),
            jwt_key: jsonwebtoken::DecodingKey::from_ed_pem(&fixture("ed25519_public.pem"))
                .unwrap(),
            raw: &awslc::ED25519,
            raw_key: fixture("ed25519_public.raw"),
        },
    ]
}

/// RS/PS/ES/EdDSA: raw aws-lc-rs verification of the token's signature (the floor), our verifier
/// and layer, and jsonwebtoken (rust_crypto) on the same token.
fn bench_asymmetric(c: &mut Criterion) {
    let inner =
        service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(http::Response::new(())) });
    for a in asym() {
        let keys = Keys::new(a.key.clone());
        let token = keys.encode(&access()).unwrap();
        let dot = token.rfind('.').unwrap();
        let (msg, sig) = (&token.as_bytes()[..dot], &token[dot + 1..]);
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .unwrap();
        let unparsed = awslc::UnparsedPublicKey::new(a.raw, a.raw_key.clone());
        unparsed.verify(msg, &sig).expect("raw aws-lc verifies");
        let parsed = unparsed.parse().unwrap();
        let mut g = c.benchmark_group(format!("{} verify", a.name));
        g.bench_function("aws-lc-rs raw verify (parsed key)", |b| {
            b.iter(|| parsed.verify_sig(black_box(msg), black_box(&sig)).unwrap())
        });
        g.bench_function("aws-lc-rs raw verify (unparsed key)", |b| {
            b.iter(|| unparsed.verify(black_box(msg), black_box(&sig)).unwrap())
        });
        let verifier = Verifier::new(keys.clone());
        g.bench_function("tower-jwt-auth Verifier::verify", |b| {
            b.iter(|| verifier.verify::<Access>(black_box(&token)).unwrap())
        });
        let layer = JwtAuthLayer::<Access>::new(keys.clone()).layer(inner.clone());
        let auth = bearer(&token);
        assert_eq!(
            ready(layer.clone().oneshot(request(&auth)))
                .unwrap()
                .status(),
            200
        );
        g.bench_function("tower-jwt-auth JwtAuthLayer", |b| {
            b.iter_batched(
                || request(&auth),
                |req| ready(layer.clone().oneshot(req)).unwrap(),
                BatchSize::SmallInput,
            )
        });
        let validation = jwt_validation(a.alg);
        jsonwebtoken::decode::<Access>(&token, &a.jwt_key, &validation).unwrap();
        g.bench_with_input(
            BenchmarkId::new("jsonwebtoken 11 decode", "rust_crypto"),
            &token,
            |b, t| {
                b.iter(|| {
                    jsonwebtoken::decode::<Access>(black_box(t), &a.jwt_key, &validation).unwrap()
                })
            },
        );
        g.finish();
    }
}

/// Every token shape (simplejwt's, an IdP's into a struct and into `Value`, an 8 KiB one),
/// HS256: ours (verify, layer, cache hits) against a bare `jsonwebtoken::decode` (rust_crypto, the
/// faster backend for HMAC), the same plus the extension insert a layer makes, and
/// jwt-authorizer's layer, all over one inner service.
fn bench_shapes(c: &mut Criterion) {
    for (name, claims, simplejwt) in shapes() {
        let keys = Keys::hs256(SECRET).unwrap();
        let token = keys.encode(&claims).unwrap();
        let mut g = c.benchmark_group(format!("shapes HS256/{name} ({} B)", token.len()));
        if simplejwt {
            shape::<Access>(&mut g, "struct", &keys, &token, true);
        } else {
            shape::<Idp>(&mut g, "struct", &keys, &token, false);
        }
        shape::<serde_json::Value>(&mut g, "Value", &keys, &token, simplejwt);
        g.finish();
    }
}

/// Times the HS256 floor of `token`: base64 of the signature, `check(signing input, signature)`,
/// base64 of the payload and one `serde_json::from_slice::<C>`.
fn hs256_floor<C: serde::de::DeserializeOwned>(
    b: &mut criterion::Bencher<'_>,
    token: &str,
    check: impl Fn(&[u8], &[u8]),
) {
    let (msg, sig) = token.rsplit_once('.').unwrap();
    let payload_b64 = msg.split_once('.').unwrap().1;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    b.iter(|| {
        let sig = b64.decode(black_box(sig)).unwrap();
        check(black_box(msg.as_bytes()), &sig);
        let payload = b64.decode(black_box(payload_b64)).unwrap();
        serde_json::from_slice::<C>(&payload).unwrap()
    })
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
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
    let mut validation = jwt_validation(jsonwebtoken::Algorithm::HS256);
    validation.validate_nbf = true;
    if !simplejwt {
        validation.set_issuer(&[IDP_ISS]);
        validation.set_audience(&[IDP_AUD]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    }
    verifier.verify::<C>(token).expect("ours verifies");
    jsonwebtoken::decode::<C>(token, &key, &validation).expect("jsonwebtoken verifies");
    // The floor: the HMAC check (over the received signature), base64 of the payload and one
    // serde_json pass; what any verifier of this token must do at least.
    let mac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    g.bench_function(
        format!("{ty}: raw HMAC (aws-lc-rs) + base64 + serde_json pass"),
        |b| {
            hs256_floor::<C>(b, token, |msg, sig| {
                aws_lc_rs::hmac::verify(&mac_key, msg, sig).unwrap()
            })
        },
    );
    g.bench_function(
        format!("{ty}: raw HMAC (RustCrypto) + base64 + serde_json pass"),
        |b| {
            use hmac::Mac as _;
            let keyed = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
            hs256_floor::<C>(b, token, |msg, sig| {
                let mut mac = keyed.clone();
                mac.update(msg);
                mac.verify_slice(sig).unwrap();
            })
        },
    );
    g.bench_function(format!("{ty}: tower-jwt-auth Verifier::verify"), |b| {
        b.iter(|| verifier.verify::<C>(black_box(token)).unwrap())
    });
    let cache = TokenCache::<C>::new(verifier.clone(), 10_000);
    cache.verify(token.as_bytes()).unwrap();
    g.bench_function(format!("{ty}: tower-jwt-auth TokenCache hit"), |b| {
        b.iter(|| cache.verify(black_box(token.as_bytes())).unwrap())
    });
    g.bench_function(format!("{ty}: jsonwebtoken 11 decode (rust_crypto)"), |b| {
        b.iter(|| jsonwebtoken::decode::<C>(black_box(token), &key, &validation).unwrap())
    });

    let auth = bearer(token);
    let inner = service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(axum07::response::Response::new(axum07::body::Body::empty()))
    });
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
    let cached = JwtAuthLayer::<C>::new(verifier.clone())
        .cache(10_000)
        .layer(inner.clone());
    assert_eq!(
        ready(cached.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function(
        format!("{ty}: tower-jwt-auth JwtAuthLayer + cache hit"),
        |b| {
            b.iter_batched(
                || request(&auth),
                |req| ready(cached.clone().oneshot(req)).unwrap(),
                BatchSize::SmallInput,
            )
        },
    );
    // A hand-written layer over jsonwebtoken: decode, insert the claims, call the service.
    let theirs = {
        let inner = inner.clone();
        let validation = validation.clone();
        move |mut req: Request<()>| {
            let token = tower_jwt_auth::bearer_token(req.headers())
                .unwrap()
                .unwrap();
            let data = jsonwebtoken::decode::<C>(token, &key, &validation).unwrap();
            req.extensions_mut().insert(data.claims);
            ready(inner.clone().oneshot(req)).unwrap()
        }
    };
    g.bench_function(
        format!("{ty}: jsonwebtoken 11 decode + extension insert"),
        |b| b.iter_batched(|| request(&auth), &theirs, BatchSize::SmallInput),
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut v = jwt_authorizer::Validation::new().leeway(0);
    if !simplejwt {
        v = v.iss(&[IDP_ISS]).aud(&[IDP_AUD]);
    }
    let layer = rt.block_on(async {
        jwt_authorizer::JwtAuthorizer::<C>::from_secret(std::str::from_utf8(SECRET).unwrap())
            .validation(v)
            .build()
            .await
            .unwrap()
            .into_layer()
    });
    let authorizer = layer.layer(inner.clone());
    assert_eq!(
        ready(authorizer.clone().oneshot(request(&auth)))
            .unwrap()
            .status(),
        200
    );
    g.bench_function(format!("{ty}: jwt-authorizer 0.15 layer"), |b| {
        b.iter_batched(
            || request(&auth),
            |req| ready(authorizer.clone().oneshot(req)).unwrap(),
            BatchSize::SmallInput,
        )
    });
}

fn setup(c: &mut Criterion) {
    jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
        .install_default()
        .ok();
    let _ = c;
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = setup, bench_hs256_verify, bench_hs256_layer, bench_axum, bench_asymmetric, bench_shapes
}
criterion_main!(benches);
