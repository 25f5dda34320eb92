//! The real provider: discovery, its JWT access tokens (RS256, ES256, EdDSA) through the layer,
//! and its key rotation picked up without a restart.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use http::{Request, StatusCode};
use serde_json::Value;
use tower::Layer;
use tower_jwt_auth::{AuthErrorKind, Claims, JwtAuthLayer, RemoteKeys, Verifier};

use crate::support::send;

pub(crate) const AUDIENCE: &str = "https://api.example.test";
const CLIENT: (&str, &str) = ("resource-test", "resource-test-secret-resource-test-secret");

/// A provider process on 127.0.0.1 (an ephemeral port). It exits when its stdin closes, that is
/// when this test binary ends; `Drop` (for the ones a test owns) kills it by PID.
struct Provider {
    issuer: String,
    child: Child,
}

impl Provider {
    fn start() -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/idp/provider");
        assert!(
            std::path::Path::new(dir).join("node_modules").exists(),
            "run .ci/install-deps (npm ci in {dir})"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the provider says where it listens");
        let v: Value = serde_json::from_str(&line).expect("one JSON line");
        assert_eq!(v["pid"].as_u64(), Some(u64::from(child.id())));
        Self {
            issuer: v["issuer"].as_str().expect("issuer").to_owned(),
            child,
        }
    }

    fn kill(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .arg(self.child.id().to_string())
                .stderr(Stdio::null())
                .status();
            let _ = self.child.wait();
        }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The provider shared by the tests that do not change it.
pub(crate) fn shared() -> &'static str {
    static P: OnceLock<(String, u32)> = OnceLock::new();
    let (issuer, _pid) = P.get_or_init(|| {
        let p = Provider::start();
        let out = (p.issuer.clone(), p.child.id());
        // Lives as long as the binary: its stdin closes when the binary exits.
        std::mem::forget(p);
        out
    });
    issuer
}

/// POSTs a form with curl-free hyper: the provider is plain http on loopback.
async fn post(url: &str, basic: Option<(&str, &str)>, form: &str) -> (StatusCode, Value) {
    use base64::Engine as _;
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let mut req = Request::post(url).header("content-type", "application/x-www-form-urlencoded");
    if let Some((u, p)) = basic {
        let b = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
        req = req.header("authorization", format!("Basic {b}"));
    }
    let res = client
        .request(req.body(Full::from(form.to_owned())).expect("request"))
        .await
        .expect("the provider answers");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A JWT access token from the provider for `resource` (`…/rs256`, `…/es256`, `…/eddsa`).
pub(crate) async fn token(issuer: &str, alg: &str, scope: &str) -> String {
    let form = format!("grant_type=client_credentials&scope={scope}&resource={AUDIENCE}/{alg}");
    let (status, body) = post(&format!("{issuer}/token"), Some(CLIENT), &form).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn verifier(keys: &RemoteKeys, issuer: &str) -> Verifier {
    Verifier::access_token(keys, issuer, AUDIENCE).require_at_jwt_typ(true)
}

async fn through(verifier: Verifier, token: &str) -> crate::support::Reply {
    let svc = JwtAuthLayer::<Value>::new(verifier).layer(tower::service_fn(
        |req: Request<String>| async move {
            let claims = req
                .extensions()
                .get::<Claims<Value>>()
                .map(|c| c.to_string())
                .unwrap_or_default();
            Ok::<_, std::convert::Infallible>(http::Response::new(claims))
        },
    ));
    let req = Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .expect("request");
    send(svc, req).await
}

#[tokio::test]
async fn provider_tokens_verify_through_the_layer_via_discovery() {
    let issuer = shared();
    let keys = RemoteKeys::discover(issuer)
        .await
        .expect("discovery and first JWKS");
    assert_eq!(keys.jwks_uri(), format!("{issuer}/jwks"));
    assert_eq!(keys.issuer(), Some(issuer));
    assert_eq!(keys.keys().keys().len(), 3);
    for alg in ["rs256", "es256", "eddsa"] {
        let token = token(issuer, alg, "read").await;
        let r = through(verifier(&keys, issuer), &token).await;
        assert_eq!(r.status, StatusCode::OK, "{alg}: {r:?}");
        let claims: Value = serde_json::from_str(&r.body).expect("claims");
        assert_eq!(claims["sub"], "resource-test", "{alg}");
        assert_eq!(claims["iss"], *issuer);
        assert_eq!(claims["aud"], AUDIENCE);
        assert_eq!(claims["scope"], "read");

        // Another audience, or the signature broken: refused with the reason.
        let r = through(
            Verifier::access_token(&keys, issuer, "https://other.example.test"),
            &token,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.kind(), AuthErrorKind::InvalidAudience);
        let mut bad = token.clone();
        let last = bad.pop().expect("char");
        bad.push(if last == 'A' { 'B' } else { 'A' });
        let r = through(verifier(&keys, issuer), &bad).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{alg}");
        assert_eq!(r.kind(), AuthErrorKind::BadSignature, "{alg}");
    }
    assert_eq!(keys.fetches(), 1, "no fetch beyond the first");
}

#[tokio::test]
async fn provider_key_rotation_is_picked_up_without_a_restart() {
    let p = Provider::start();
    let keys = RemoteKeys::discover(&p.issuer)
        .cooldown(Duration::from_millis(200))
        .await
        .expect("start");
    let old = token(&p.issuer, "es256", "read").await;
    assert_eq!(
        through(verifier(&keys, &p.issuer), &old).await.status,
        StatusCode::OK
    );

    let (status, rotated) = post(&format!("{}/test/rotate", p.issuer), None, "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rotated["kids"].as_array().map(Vec::len), Some(6));
    let new = token(&p.issuer, "es256", "read").await;
    assert_ne!(
        crate::support::decode_raw(&new).0,
        crate::support::decode_raw(&old).0
    );

    // The new kid is unknown: refused at once, and one fetch is started.
    let r = through(verifier(&keys, &p.issuer), &new).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.kind(), AuthErrorKind::UnknownKey);
    for _ in 0..100 {
        if keys.generation() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(keys.generation(), 2, "the rotated set was fetched");
    assert_eq!(keys.fetches(), 2);
    assert_eq!(keys.keys().keys().len(), 6);
    assert_eq!(
        through(verifier(&keys, &p.issuer), &new).await.status,
        StatusCode::OK
    );
    assert_eq!(
        through(verifier(&keys, &p.issuer), &old).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn provider_down_at_start_up_fails_clearly() {
    let mut p = Provider::start();
    let issuer = p.issuer.clone();
    p.kill();
    let err = RemoteKeys::discover(&issuer)
        .timeout(Duration::from_secs(2))
        .await
        .expect_err("nothing listens");
    assert!(
        matches!(&err, tower_jwt_auth::RemoteKeysError::Http { url, .. } if *url == format!("{issuer}/.well-known/openid-configuration")),
        "{err:?}"
    );
    // The issuer must be exactly the document's.
    let err = RemoteKeys::discover(format!("{}/", shared()))
        .await
        .expect_err("another issuer");
    assert!(
        matches!(&err, tower_jwt_auth::RemoteKeysError::Discovery(m) if m.contains("expected")),
        "{err:?}"
    );
}
