//! A remote key source against the same key given statically: the cost of one verification
//! (criterion, `remote_keys/verify`), and the p99 latency of verifications while a fetch is in
//! progress against none (printed: `remote_keys/p99`).
//!
//! `cargo bench --bench remote_keys --features remote-keys`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion};
use http::Response;
use http_body_util::Full;
use serde_json::{Value, json};
use tower_jwt_auth::verify::FetchRequest;
use tower_jwt_auth::{Algorithm, Key, Keys, RemoteKeys, Verifier};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A JWKS client: the first call answers, later calls stall (a fetch in progress) for 30 s.
fn client(
    jwks: String,
    calls: Arc<AtomicU64>,
) -> impl tower::Service<
    FetchRequest,
    Response = Response<Full<Bytes>>,
    Error = std::io::Error,
    Future = impl Send,
> + Clone
+ Send
+ Sync
+ 'static {
    tower::service_fn(move |_req: FetchRequest| {
        let jwks = jwks.clone();
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            Ok(Response::new(Full::new(Bytes::from(jwks))))
        }
    })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut c = Criterion::default().configure_from_args();
    let claims = json!({ "sub": "alice", "exp": 4_000_000_000u64, "iat": 1_700_000_000u64 });
    let mut p99_rows = Vec::new();
    for (alg, private) in [
        (Algorithm::RS256, "rsa.private.pem"),
        (Algorithm::EdDSA, "ed25519.private.pem"),
    ] {
        let key = Key::from_private_pem(alg, fixture(private)).unwrap();
        let kid = key.thumbprint().unwrap();
        let keys = Keys::new(key.with_kid(kid));
        let token = keys.encode(&claims).unwrap();
        let jwks = keys.public_jwks().to_string();
        let calls = Arc::new(AtomicU64::new(0));
        let remote = rt
            .block_on(
                RemoteKeys::jwks("https://idp.example.test/jwks")
                    .client(client(jwks, Arc::clone(&calls)))
                    .start(),
            )
            .unwrap();
        let fixed = Verifier::jwt(Keys::from_jwks_json(&keys.public_jwks().to_string()).unwrap());
        let dynamic = Verifier::jwt(&remote);
        assert!(fixed.verify::<Value>(&token).is_ok());
        assert!(dynamic.verify::<Value>(&token).is_ok());

        let mut g = c.benchmark_group("remote_keys/verify");
        g.bench_with_input(
            BenchmarkId::new("static", format!("{alg:?}")),
            &token,
            |b, t| {
                b.iter(|| fixed.verify::<Value>(black_box(t)).unwrap());
            },
        );
        g.bench_with_input(
            BenchmarkId::new("remote", format!("{alg:?}")),
            &token,
            |b, t| {
                b.iter(|| dynamic.verify::<Value>(black_box(t)).unwrap());
            },
        );
        g.finish();

        // p99 of single verifications, without and then with a fetch in progress.
        let p99 = |v: &Verifier| {
            let mut lat: Vec<Duration> = (0..20_000)
                .map(|_| {
                    let t0 = Instant::now();
                    v.verify::<Value>(black_box(&token)).unwrap();
                    t0.elapsed()
                })
                .collect();
            lat.sort();
            (lat[lat.len() / 2], lat[lat.len() * 99 / 100])
        };
        let idle = p99(&dynamic);
        remote.refresh_now();
        rt.block_on(async {
            while calls.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
        let fetching = p99(&dynamic);
        let fixed_p = p99(&fixed);
        p99_rows.push((alg, fixed_p, idle, fetching));
    }
    c.final_summary();
    println!("remote_keys/p99 (20 000 verifications each; median / p99):");
    for (alg, fixed, idle, fetching) in p99_rows {
        println!(
            "  {alg:?}: static {:?} / {:?}; remote, no fetch {:?} / {:?}; remote, fetch in progress {:?} / {:?}",
            fixed.0, fixed.1, idle.0, idle.1, fetching.0, fetching.1
        );
    }
}
