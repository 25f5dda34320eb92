//! The one helper module of the integration tests, included by every test binary with
//! `#[path = "../support/mod.rs"] mod support;`: the reference HS256 secret and clock, minting and
//! forging tokens, request builders, one `send` that collects any response, assertions on the
//! layer's answers, and fixture readers. The recorded simplejwt tokens and exchanges are in
//! `transcript.rs`; the token-service environment (stores, endpoints) is in `endpoints.rs`.
#![allow(dead_code, unreachable_pub)]

#[cfg(feature = "token")]
pub mod endpoints;
pub mod transcript;

#[cfg(feature = "token")]
#[allow(unused_imports)] // the binaries without token-service tests
pub use endpoints::*;

use std::convert::Infallible;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tower::{Service, ServiceExt, service_fn};
use tower_jwt_auth::{
    Anonymous, AuthError, AuthErrorKind, Claims, Clock, JwtAuthLayer, Keys, SimpleJwtClaims,
    Verifier,
};

// ---------------------------------------------------------------------------------------------
// The example's executable
// ---------------------------------------------------------------------------------------------

/// Builds `examples/schedule_server` once per test binary and returns the executable cargo
/// reports: with the default features, exactly as `cargo run --example schedule_server` builds
/// it, or with every feature (Redis, PostgreSQL) when `all_features`.
pub fn example_exe(all_features: bool) -> &'static std::path::Path {
    static DEFAULT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    static ALL: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let cell = if all_features { &ALL } else { &DEFAULT };
    cell.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut args = vec![
            "build",
            "--example",
            "schedule_server",
            "--message-format=json",
        ];
        if all_features {
            args.push("--all-features");
        }
        let out = std::process::Command::new(cargo)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(out.status.success(), "building the example failed");
        let exe = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| {
                m["reason"] == "compiler-artifact" && m["target"]["name"] == "schedule_server"
            })
            .find_map(|m| m["executable"].as_str().map(std::path::PathBuf::from))
            .expect("cargo reported the example's executable");
        assert!(exe.is_file(), "{}", exe.display());
        exe
    })
}

// ---------------------------------------------------------------------------------------------
// The reference secret and clock
// ---------------------------------------------------------------------------------------------

/// The HS256 secret (Django `SECRET_KEY`) of the reference simplejwt server that recorded
/// tests/fixtures/simplejwt_transcript.json.
pub const SECRET: &str = "reference-only-test-secret-key-for-simplejwt-wire-format-probe-0123456789abcdef0123456789abcdef";

/// `iat` of the transcript's first access token: "now" for every recorded token.
pub const T_IAT: i64 = 1_795_655_419;

/// `exp` of the transcript's first access token (`T_IAT` + 300).
pub const T_EXP: i64 = 1_795_655_719;

/// The reference keys.
pub fn ref_keys() -> Keys {
    Keys::hs256(SECRET).expect("reference secret is long enough")
}

/// A verifier with the reference keys and the clock stopped at [`T_IAT`].
pub fn ref_verifier() -> Verifier {
    Verifier::new(ref_keys()).clock(Clock::fixed(T_IAT))
}

/// The layer with the reference verifier.
pub fn ref_layer() -> JwtAuthLayer<SimpleJwtClaims> {
    JwtAuthLayer::new(ref_verifier())
}

/// A clock tests can set and move, shared by everything built from [`TestClock::clock`].
#[derive(Clone, Debug)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new(t: i64) -> Self {
        Self(Arc::new(AtomicI64::new(t)))
    }
    pub fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
    pub fn advance(&self, d: i64) {
        self.0.fetch_add(d, Ordering::SeqCst);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    pub fn clock(&self) -> Clock {
        let a = Arc::clone(&self.0);
        Clock::from_fn(move || a.load(Ordering::SeqCst))
    }
}

/// The system clock's Unix time, for tokens checked against the real clock.
pub fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("seconds fit i64")
}

/// Runs a future to completion on a fresh current-thread runtime (for plain `#[test]`s and
/// proptest bodies).
pub fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

// ---------------------------------------------------------------------------------------------
// Claims, minting and forging
// ---------------------------------------------------------------------------------------------

/// simplejwt's payload for an access token at [`T_IAT`].
pub fn access_claims() -> Value {
    json!({
        "token_type": "access",
        "exp": T_EXP,
        "iat": T_IAT,
        "jti": "fac5344d01d34db3b5575d65f5ee8c0f",
        "user_id": "1",
    })
}

/// `access_claims()` with `edits` applied (a `null` value removes the claim).
pub fn claims_with(edits: Value) -> Value {
    let mut c = access_claims();
    let m = c.as_object_mut().expect("object");
    for (k, v) in edits.as_object().expect("edits must be an object") {
        if v.is_null() {
            m.remove(k);
        } else {
            m.insert(k.clone(), v.clone());
        }
    }
    c
}

/// The compact payload of [`access_claims`].
pub fn access_payload() -> String {
    access_claims().to_string()
}

/// The `jti` of [`live_claims`].
pub const LIVE_JTI: &str = "5f0c6a5cbd8e4b8f9e0c1a2b3c4d5e6f";

/// simplejwt's claims for a token valid by the system clock: issued 10 s ago, expiring `ttl`
/// seconds from now (a negative `ttl` gives an expired token).
pub fn live_claims(user_id: &str, token_type: &str, ttl: i64) -> Value {
    let now = now();
    json!({
        "token_type": token_type,
        "exp": now + ttl,
        "iat": now - 10,
        "jti": LIVE_JTI,
        "user_id": user_id,
    })
}

/// Mints a token with the reference keys through the public `Keys::encode`.
pub fn mint(claims: &Value) -> String {
    ref_keys().encode(claims).expect("encode")
}

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The decoded (header, payload) JSON texts of a compact JWS, byte for byte.
pub fn decode_raw(token: &str) -> (String, String) {
    let mut parts = token.split('.');
    let mut next = || {
        let seg = URL_SAFE_NO_PAD
            .decode(parts.next().expect("segment"))
            .expect("base64url");
        String::from_utf8(seg).expect("UTF-8 segment")
    };
    let header = next();
    (header, next())
}

/// The raw HMAC of `msg`, for `alg` in HS256/HS384/HS512.
pub fn hmac(alg: &str, secret: &[u8], msg: &[u8]) -> Vec<u8> {
    fn mac<M: Mac + hmac::digest::KeyInit>(secret: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = <M as Mac>::new_from_slice(secret).expect("any key length");
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }
    match alg {
        "HS384" => mac::<Hmac<sha2::Sha384>>(secret, msg),
        "HS512" => mac::<Hmac<sha2::Sha512>>(secret, msg),
        _ => mac::<Hmac<sha2::Sha256>>(secret, msg),
    }
}

/// A token with exactly these header and payload bytes, HMAC-signed (`mac_alg`) with `secret`.
/// The header's `alg` is whatever the caller wrote: this is how attackers build tokens.
pub fn forge_raw(header: &[u8], payload: &[u8], mac_alg: &str, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let sig = hmac(mac_alg, secret, signing_input.as_bytes());
    format!("{signing_input}.{}", b64(sig))
}

/// [`forge_raw`] with HS256 and the reference secret.
pub fn forge(header: &str, payload: &str) -> String {
    forge_raw(
        header.as_bytes(),
        payload.as_bytes(),
        "HS256",
        SECRET.as_bytes(),
    )
}

/// The standard simplejwt header, for forging.
pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

// ---------------------------------------------------------------------------------------------
// Verifying
// ---------------------------------------------------------------------------------------------

/// What `v` says of `token` when read as claims `C`: `Ok(())` or the error kind.
pub fn verify_as<C: DeserializeOwned>(v: &Verifier, token: &str) -> Result<(), AuthErrorKind> {
    v.verify::<C>(token).map(|_| ()).map_err(|e| e.kind())
}

/// [`verify_as`] with `SimpleJwtClaims`.
pub fn verify_with(v: &Verifier, token: &str) -> Result<(), AuthErrorKind> {
    verify_as::<SimpleJwtClaims>(v, token)
}

/// [`verify_with`] the reference verifier.
pub fn verify(token: &str) -> Result<(), AuthErrorKind> {
    verify_with(&ref_verifier(), token)
}

// ---------------------------------------------------------------------------------------------
// Requests, the echo service, and collecting responses
// ---------------------------------------------------------------------------------------------

/// A request with no body and this `Authorization` value (none for `None`).
pub fn request(method: Method, uri: &str, authorization: Option<&str>) -> Request<String> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(v) = authorization {
        b = b.header("authorization", v);
    }
    b.body(String::new()).expect("request")
}

/// A GET of the reference app's protected route with this `Authorization` value.
pub fn get(authorization: Option<&str>) -> Request<String> {
    request(Method::GET, "/api/weekly_schedule/", authorization)
}

/// [`get`] with `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> Request<String> {
    get(Some(&format!("Bearer {token}")))
}

/// A POST with this `Content-Type` (none for `None`) and body.
pub fn post(content_type: Option<&str>, body: &str) -> Request<String> {
    let mut b = Request::post("/");
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body.to_owned()).expect("request")
}

/// A POST of a JSON body.
pub fn json(body: &str) -> Request<String> {
    post(Some("application/json"), body)
}

/// The response body type of the echo service.
pub type EchoBody = Full<Bytes>;

/// The inner service: 200 with a JSON body describing what the layer put in the extensions:
/// `{"claims":<SimpleJwtClaims or null>,"anonymous":<bool>}`.
pub fn echo()
-> impl Service<Request<String>, Response = Response<EchoBody>, Error = Infallible> + Clone {
    service_fn(|req: Request<String>| async move {
        let claims = req.extensions().get::<Claims<SimpleJwtClaims>>().cloned();
        let anonymous = req.extensions().get::<Anonymous>().is_some();
        let body = json!({ "claims": claims, "anonymous": anonymous }).to_string();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    })
}

/// A collected response: what a test needs from it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The `AuthError` the layer put into a rejection's extensions.
    pub error: Option<AuthError>,
}

impl Reply {
    /// A header as a string (panics if absent or not visible ASCII).
    pub fn header(&self, name: &str) -> &str {
        self.header_opt(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:?}"))
    }

    /// A header as a string, if present (panics if not visible ASCII).
    pub fn header_opt(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("visible ASCII"))
    }

    /// The kind of the `AuthError` in the extensions.
    pub fn kind(&self) -> AuthErrorKind {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("no AuthError in the response extensions: {self:?}"))
            .kind()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }

    /// A string field of the JSON body (a token the services issued).
    pub fn token(&self, field: &str) -> String {
        self.json()[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field:?} in {self:?}"))
            .to_owned()
    }
}

/// Sends `req` through `svc` and collects the response.
pub async fn send<S, ReqBody, ResBody>(svc: S, req: Request<ReqBody>) -> Reply
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: Debug,
    ResBody: Body<Data = Bytes>,
    ResBody::Error: Debug,
{
    let res = svc.oneshot(req).await.expect("the service never fails");
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        error: parts.extensions.get::<AuthError>().cloned(),
    }
}

/// Sends `req` through the reference layer in front of [`echo`].
pub async fn call(req: Request<String>) -> Reply {
    send(tower::Layer::layer(&ref_layer(), echo()), req).await
}

// ---------------------------------------------------------------------------------------------
// The layer's answers
// ---------------------------------------------------------------------------------------------

/// simplejwt's `messages` envelope for an access-token failure.
pub fn envelope(message: &str) -> String {
    format!(
        r#"{{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{{"token_class":"AccessToken","token_type":"access","message":"{message}"}}]}}"#
    )
}

/// The body for "no credentials".
pub const MISSING_BODY: &str = r#"{"detail":"Authentication credentials were not provided."}"#;

/// The challenge for "no credentials".
pub const MISSING_CHALLENGE: &str = r#"Bearer realm="api""#;

/// The challenge for a presented but rejected token.
pub fn invalid_token_challenge(description: &str) -> String {
    format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
}

/// Asserts the exact "credentials were not provided" answer.
pub fn assert_missing(r: &Reply) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.body, MISSING_BODY);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("www-authenticate"), MISSING_CHALLENGE);
    assert_eq!(r.kind(), AuthErrorKind::Missing);
}

/// Asserts the exact envelope answer for a rejected token.
pub fn assert_rejected(r: &Reply, message: &str, kind: AuthErrorKind) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.body, envelope(message), "{r:?}");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        invalid_token_challenge(message)
    );
    assert_eq!(r.kind(), kind, "{r:?}");
}

/// Asserts the exact `bad_authorization_header` answer.
pub fn assert_bad_header(r: &Reply) {
    assert_invalid_request(
        r,
        StatusCode::UNAUTHORIZED,
        "Authorization header must contain two space-delimited values",
        "bad_authorization_header",
        AuthErrorKind::BadAuthorizationHeader,
    );
}

/// Asserts the exact answer to more than one set of credentials (400, `invalid_request`).
pub fn assert_multiple_credentials(r: &Reply) {
    assert_invalid_request(
        r,
        StatusCode::BAD_REQUEST,
        "More than one set of credentials was sent; send exactly one Authorization header",
        "invalid_request",
        AuthErrorKind::MultipleCredentials,
    );
}

/// Asserts an answer with RFC 6750's `invalid_request` challenge.
fn assert_invalid_request(
    r: &Reply,
    status: StatusCode,
    detail: &str,
    code: &str,
    kind: AuthErrorKind,
) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(
        r.body,
        format!(r#"{{"detail":"{detail}","code":"{code}"}}"#)
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        format!(r#"Bearer realm="api", error="invalid_request", error_description="{detail}""#)
    );
    assert_eq!(r.kind(), kind);
}

/// Asserts a 200 from the echo service with claims for `user_id`, and no `AuthError`.
pub fn assert_ok_user(r: &Reply, user_id: &str) {
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.error.is_none());
    let v = r.json();
    assert_eq!(v["claims"]["user_id"], user_id, "{r:?}");
    assert_eq!(v["anonymous"], false);
}

// ---------------------------------------------------------------------------------------------
// Fixtures and child processes
// ---------------------------------------------------------------------------------------------

/// Reads a fixture under tests/fixtures.
pub fn fixture(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Reads a text fixture under tests/fixtures.
pub fn fixture_str(path: &str) -> String {
    String::from_utf8(fixture(path)).expect("UTF-8 fixture")
}

/// Reads a JSON fixture under tests/fixtures.
pub fn fixture_json(path: &str) -> Value {
    serde_json::from_slice(&fixture(path)).expect("JSON fixture")
}

/// Asserts that these files can be read and written by their owner only (mode 0600 on Unix).
pub fn assert_owner_only<P: AsRef<std::path::Path>>(paths: impl IntoIterator<Item = P>) {
    for p in paths {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = p.as_ref();
            let mode = std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        #[cfg(not(unix))]
        let _ = p;
    }
}

/// The libtest name of test `name` in the module `module` (pass `module_path!()`): what a test
/// that re-runs its own binary as a child gives to `--exact`.
pub fn test_name(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_crate, path)) => format!("{path}::{name}"),
        None => name.to_owned(),
    }
}

/// What `tracing` logs on this thread while it lives (a current-thread test runtime keeps every
/// log line of the code under test on this thread).
pub struct LogCapture {
    buf: Arc<std::sync::Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl LogCapture {
    /// Starts capturing.
    pub fn start() -> Self {
        #[derive(Clone)]
        struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("log buffer").extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Buf(Arc::clone(&buf));
        let sub = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        Self {
            buf,
            _guard: tracing::subscriber::set_default(sub),
        }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().expect("log buffer")).into_owned()
    }
}

/// What `tracing` logs while `f` runs.
pub fn logs_of(f: impl FnOnce()) -> String {
    let capture = LogCapture::start();
    f();
    capture.text()
}
