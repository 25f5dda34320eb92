//! `RemoteKeys` against in-process HTTP clients (tower services) that serve a JWKS we control,
//! count the fetches, fail, stall or answer too much: the unknown-kid cooldown, stale-if-error,
//! a key leaving the set (cache included), bad keys skipped, the timeout and the size cap.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use serde_json::{Value, json};
use tower::Layer;
use tower_jwt_auth::{
    Algorithm, AuthErrorKind, JwtAuthLayer, Key, Keys, RemoteKeys, RemoteKeysError, Verifier,
};

use crate::support::{b64, now, send};

const JWKS_URL: &str = "https://idp.example.test/jwks";

/// A JWKS "server" as a tower service: counts requests, can be down or changed.
#[derive(Clone, Default)]
struct Jwks {
    fetches: Arc<AtomicU64>,
    down: Arc<AtomicBool>,
    body: Arc<Mutex<String>>,
}

impl Jwks {
    fn new(keys: &[Value]) -> Self {
        let j = Self::default();
        j.set(keys);
        j
    }
    fn set(&self, keys: &[Value]) {
        *self.body.lock().expect("lock") = json!({ "keys": keys }).to_string();
    }
    fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }
    fn service(
        self,
    ) -> impl tower::Service<
        tower_jwt_auth::verify::FetchRequest,
        Response = Response<Full<Bytes>>,
        Error = std::io::Error,
        Future = impl Send,
    > + Clone
    + Send
    + Sync
    + 'static {
        let me = self;
        tower::service_fn(move |req: tower_jwt_auth::verify::FetchRequest| {
            let me = me.clone();
            async move {
                assert_eq!(req.uri(), JWKS_URL);
                assert_eq!(req.headers()["accept"], "application/json");
                me.fetches.fetch_add(1, Ordering::SeqCst);
                if me.down.load(Ordering::SeqCst) {
                    return Err(std::io::Error::other("connection refused"));
                }
                let body = me.body.lock().expect("lock").clone();
                Ok(Response::builder()
                    .header("cache-control", "max-age=3600")
                    .body(Full::new(Bytes::from(body)))
                    .expect("response"))
            }
        })
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
}

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// Signs with the fixture RSA key (kid `rsa-1`) or the EC one (kid `ec256-1`).
fn signer(rsa: bool) -> Keys {
    let key = if rsa {
        Key::rsa_pem(Algorithm::RS256, pem("rsa.public.pem"))
            .and_then(|k| k.with_private_pem(pem("rsa.private.pem")))
            .expect("pair")
            .with_kid("rsa-1")
    } else {
        Key::ec_pem(Algorithm::ES256, pem("ec256.public.pem"))
            .and_then(|k| k.with_private_pem(pem("ec256.private.pem")))
            .expect("pair")
            .with_kid("ec256-1")
    };
    Keys::new(key)
}

fn claims() -> Value {
    json!({ "sub": "alice", "exp": now() + 300, "iat": now() })
}

async fn status(
    verifier: &Verifier,
    cache: bool,
    token: &str,
) -> (StatusCode, Option<AuthErrorKind>) {
    let mut layer = JwtAuthLayer::<Value>::new(verifier.clone());
    if cache {
        layer = layer.cache(100);
    }
    status_with(layer, token).await
}

async fn status_with(
    layer: JwtAuthLayer<Value>,
    token: &str,
) -> (StatusCode, Option<AuthErrorKind>) {
    let svc = layer.layer(tower::service_fn(|_req: Request<String>| async {
        Ok::<_, std::convert::Infallible>(Response::new(String::new()))
    }));
    let req = Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .expect("request");
    let r = send(svc, req).await;
    (r.status, r.error.map(|e| e.kind()))
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn a_random_kid_storm_fetches_at_most_once_per_cooldown() {
    let jwks = Jwks::new(&[fixture("rsa.public.jwk.json")]);
    let keys = RemoteKeys::jwks(JWKS_URL)
        .client(jwks.clone().service())
        .cooldown(Duration::from_millis(500))
        .await
        .expect("start");
    assert_eq!(jwks.fetches(), 1);
    let verifier = Verifier::jwt(&keys);
    let payload = b64(claims().to_string());
    let storm = |round: u32| -> Vec<String> {
        (0..300)
            .map(|i| {
                let header = b64(format!(r#"{{"alg":"RS256","kid":"random-{round}-{i}"}}"#));
                format!("{header}.{payload}.c2ln")
            })
            .collect()
    };
    for token in storm(0) {
        // Refused at once: the layer never waits for the fetch it caused.
        assert_eq!(
            status(&verifier, false, &token).await,
            (StatusCode::UNAUTHORIZED, Some(AuthErrorKind::UnknownKey))
        );
    }
    wait_for("the one fetch", || jwks.fetches() == 2).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(jwks.fetches(), 2, "300 unknown kids, one fetch");
    assert_eq!(keys.generation(), 1, "same key set: no new generation");

    tokio::time::sleep(Duration::from_millis(500)).await;
    for token in storm(1) {
        assert_eq!(
            status(&verifier, false, &token).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    wait_for("one more fetch after the cooldown", || jwks.fetches() == 3).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(jwks.fetches(), 3);

    // The real key still verifies throughout.
    let good = signer(true).encode(&claims()).expect("sign");
    assert_eq!(
        status(&verifier, false, &good).await,
        (StatusCode::OK, None)
    );
}

#[tokio::test]
async fn stale_keys_keep_working_while_the_provider_is_down_up_to_max_stale() {
    let jwks = Jwks::new(&[fixture("rsa.public.jwk.json")]);
    let keys = RemoteKeys::jwks(JWKS_URL)
        .client(jwks.clone().service())
        .min_refresh(Duration::from_millis(50))
        .max_refresh(Duration::from_millis(50))
        .retry(Duration::from_millis(50))
        .max_stale(Duration::from_millis(600))
        .await
        .expect("start");
    let verifier = Verifier::jwt(&keys);
    let token = signer(true).encode(&claims()).expect("sign");
    assert_eq!(status(&verifier, false, &token).await.0, StatusCode::OK);

    jwks.down.store(true, Ordering::SeqCst);
    let down_at = jwks.fetches();
    wait_for("failed fetches", || jwks.fetches() >= down_at + 3).await;
    assert!(!keys.is_stale());
    assert_eq!(
        status(&verifier, false, &token).await.0,
        StatusCode::OK,
        "stale but within max_stale"
    );

    wait_for("the keys to go stale", || keys.is_stale()).await;
    assert_eq!(
        status(&verifier, false, &token).await,
        (StatusCode::UNAUTHORIZED, Some(AuthErrorKind::UnknownKey))
    );

    jwks.down.store(false, Ordering::SeqCst);
    wait_for("a good fetch", || !keys.is_stale()).await;
    assert_eq!(status(&verifier, false, &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_key_that_leaves_the_set_stops_verifying_cache_included() {
    // A short RSA key and an EC key claiming P-384 are skipped, not fatal.
    let mut wrong_curve = fixture("ec256.public.jwk.json");
    wrong_curve["alg"] = "ES384".into();
    wrong_curve["kid"] = "wrong-curve".into();
    let jwks = Jwks::new(&[
        fixture("rsa1024.public.jwk.json"),
        wrong_curve,
        fixture("rsa.public.jwk.json"),
        fixture("ec256.public.jwk.json"),
    ]);
    let keys = RemoteKeys::jwks(JWKS_URL)
        .client(jwks.clone().service())
        .await
        .expect("start: the bad keys are skipped");
    let kids: Vec<_> = keys
        .keys()
        .keys()
        .iter()
        .filter_map(|k| k.kid().map(str::to_owned))
        .collect();
    assert_eq!(kids, ["rsa-1", "ec256-1"]);

    let layer = JwtAuthLayer::<Value>::new(Verifier::jwt(&keys)).cache(100);
    let rsa = signer(true).encode(&claims()).expect("sign");
    let ec = signer(false).encode(&claims()).expect("sign");
    assert_eq!(status_with(layer.clone(), &rsa).await.0, StatusCode::OK);
    assert_eq!(
        status_with(layer.clone(), &rsa).await.0,
        StatusCode::OK,
        "from the cache"
    );
    assert_eq!(status_with(layer.clone(), &ec).await.0, StatusCode::OK);

    // The RSA key leaves the set.
    jwks.set(&[fixture("ec256.public.jwk.json")]);
    keys.refresh_now();
    wait_for("the new set", || keys.generation() == 2).await;
    assert_eq!(
        status_with(layer.clone(), &rsa).await,
        (StatusCode::UNAUTHORIZED, Some(AuthErrorKind::UnknownKey)),
        "a cached token of a removed key"
    );
    assert_eq!(status_with(layer, &ec).await.0, StatusCode::OK);
}

#[tokio::test]
async fn every_fetch_has_a_timeout_a_size_cap_and_a_status_check() {
    // A client that never answers.
    let stall = tower::service_fn(|_req: tower_jwt_auth::verify::FetchRequest| async {
        std::future::pending::<Result<Response<Full<Bytes>>, std::io::Error>>().await
    });
    let err = RemoteKeys::jwks(JWKS_URL)
        .client(stall)
        .timeout(Duration::from_millis(200))
        .await
        .expect_err("times out");
    assert_eq!(
        err,
        RemoteKeysError::Timeout {
            url: JWKS_URL.into()
        }
    );

    let jwks = Jwks::new(&[fixture("rsa.public.jwk.json")]);
    let err = RemoteKeys::jwks(JWKS_URL)
        .client(jwks.clone().service())
        .max_body_bytes(100)
        .await
        .expect_err("too large");
    assert_eq!(
        err,
        RemoteKeysError::TooLarge {
            url: JWKS_URL.into(),
            limit: 100
        }
    );

    let not_found = tower::service_fn(|_req: tower_jwt_auth::verify::FetchRequest| async {
        Ok::<_, std::io::Error>(
            Response::builder()
                .status(404)
                .body(Full::new(Bytes::from("{}")))
                .expect("response"),
        )
    });
    let err = RemoteKeys::jwks(JWKS_URL)
        .client(not_found)
        .await
        .expect_err("404");
    assert_eq!(
        err,
        RemoteKeysError::Status {
            url: JWKS_URL.into(),
            status: 404
        }
    );

    let only_bad = Jwks::new(&[fixture("rsa1024.public.jwk.json")]);
    let err = RemoteKeys::jwks(JWKS_URL)
        .client(only_bad.service())
        .await
        .expect_err("no usable key");
    assert!(matches!(err, RemoteKeysError::Jwks { .. }), "{err:?}");

    let err = RemoteKeys::jwks("http://idp.example.test/jwks")
        .await
        .expect_err("plain http");
    assert!(matches!(err, RemoteKeysError::Url(_)), "{err:?}");
}
