//! A plain loop for profilers (criterion's harness gets in their way): one HS256 operation,
//! `n` times, then the mean time per operation on stderr.
//!
//! ```text
//! cd benches/peers
//! CARGO_PROFILE_RELEASE_DEBUG=true cargo build --release --example prof
//! perf record -e cpu-clock -F 20000 ./target/release/examples/prof layer 3000000
//! perf report --no-children
//! ```
//!
//! Modes: `layer` (JwtAuthLayer over a trivial service, request built in the loop), `bare` (the
//! trivial service alone, same request), `verify` (`Verifier::verify`), `jwt`
//! (`jsonwebtoken::decode`, rust_crypto), `router-open` / `router-protected` (the load server's
//! router in process). The token is the simplejwt-shaped one of the benches.
#![allow(missing_docs, clippy::unwrap_used, clippy::clone_on_copy)]
use std::convert::Infallible;

use http::{HeaderValue, Request, header::AUTHORIZATION};
use tower::{Layer, ServiceExt, service_fn};
use tower_jwt_auth::{JwtAuthLayer, Keys, Verifier};
use tower_jwt_auth_peers::{Access, SECRET, access, ready, router};

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: usize = std::env::args()
        .nth(2)
        .map(|s| s.parse().unwrap())
        .unwrap_or(5_000_000);
    let keys = Keys::hs256(SECRET).unwrap();
    let token = keys.encode(&access()).unwrap();
    let auth =
        HeaderValue::from_maybe_shared(bytes::Bytes::from(format!("Bearer {token}"))).unwrap();
    let inner = service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(axum07::response::Response::new(axum07::body::Body::empty()))
    });
    let t = std::time::Instant::now();
    match mode.as_str() {
        "verify" => {
            let v = Verifier::new(keys);
            for _ in 0..n {
                std::hint::black_box(v.verify::<Access>(std::hint::black_box(&token)).unwrap());
            }
        }
        "jwt" => {
            let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
            let key = jsonwebtoken::DecodingKey::from_secret(SECRET);
            let mut val = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
            val.leeway = 0;
            for _ in 0..n {
                std::hint::black_box(
                    jsonwebtoken::decode::<Access>(std::hint::black_box(&token), &key, &val)
                        .unwrap(),
                );
            }
        }
        "bare" => {
            for _ in 0..n {
                let mut req = Request::new(());
                req.headers_mut().insert(AUTHORIZATION, auth.clone());
                std::hint::black_box(ready(inner.clone().oneshot(req)).unwrap());
            }
        }
        m if m.starts_with("router") => {
            // The load_server's router, in process: the handler and axum, no sockets.
            let app = router(keys);
            let path = if m == "router-open" {
                "/open"
            } else {
                "/protected"
            };
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                for _ in 0..n {
                    let mut req = Request::builder()
                        .uri(path)
                        .body(axum::body::Body::empty())
                        .unwrap();
                    req.headers_mut().insert(AUTHORIZATION, auth.clone());
                    let r = app.clone().oneshot(req).await.unwrap();
                    assert_eq!(r.status(), 200);
                    let b = axum::body::to_bytes(r.into_body(), 4096).await.unwrap();
                    std::hint::black_box(b);
                }
            });
        }
        _ => {
            let ours = JwtAuthLayer::<Access>::new(keys).layer(inner.clone());
            for _ in 0..n {
                let mut req = Request::new(());
                req.headers_mut().insert(AUTHORIZATION, auth.clone());
                let r = ready(ours.clone().oneshot(req)).unwrap();
                assert_eq!(r.status(), 200);
                std::hint::black_box(r);
            }
        }
    }
    eprintln!(
        "{mode}: {:.1} ns/op",
        t.elapsed().as_nanos() as f64 / n as f64
    );
}
