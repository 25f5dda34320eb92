//! Shared helpers for the token-service tests: small in-memory store doubles (the crate's real
//! stores are tested on their own), a settable clock, and a request helper.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used
)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_jwt_auth::password::PasswordHasher;
use tower_jwt_auth::store::{MemoryRevocationStore, MemoryUserStore, StoreError, User, UserStore};
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{Clock, Keys, UserId};

/// The HS256 secret of the reference Django server that recorded the transcript.
pub use super::SECRET;

/// The `iat` of the transcript's first tokens.
pub const T0: i64 = super::T_IAT;

pub fn keys() -> Keys {
    super::ref_keys()
}

/// A clock tests can move.
#[derive(Clone, Debug)]
pub struct TestClock(pub Arc<AtomicI64>);

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

pub fn user(id: &str, name: &str, password: &str, active: bool) -> User {
    User {
        id: UserId::from(id),
        username: name.into(),
        is_active: active,
        password_hash: format!("unused:{password}"),
        extra_claims: Default::default(),
    }
}

/// The crate's `MemoryUserStore` (with cheap argon2 parameters, tests only), plus a switch that
/// makes every call fail, to test the 503 path.
#[derive(Clone, Debug)]
pub struct Users {
    pub store: MemoryUserStore,
    pub fail: Arc<AtomicBool>,
}

impl Users {
    pub fn new() -> Self {
        let hasher = PasswordHasher::with_params(64, 1, 1, 4).unwrap();
        Self {
            store: MemoryUserStore::with_hasher(hasher).upgrade_on_login(false),
            fail: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The transcript's users: alice (id 1, active), dormant (id 2, inactive).
    pub async fn transcript() -> Self {
        let u = Self::new();
        let alice = u.add("alice", "wonderland-42", true).await;
        assert_eq!(alice.id.as_str(), "1");
        let dormant = u.add("dormant", "sleepy-hollow-7", false).await;
        assert_eq!(dormant.id.as_str(), "2");
        u
    }

    pub async fn add(&self, name: &str, password: &str, active: bool) -> User {
        self.store.add_user(name, password, active).await.unwrap()
    }

    pub async fn set_active(&self, id: &str, active: bool) {
        assert!(
            self.store
                .set_active(&UserId::from(id), active)
                .await
                .unwrap()
        );
    }

    pub async fn remove(&self, id: &str) {
        assert!(self.store.remove(&UserId::from(id)).await.unwrap());
    }

    pub async fn set_claims(&self, id: &str, claims: serde_json::Map<String, serde_json::Value>) {
        assert!(
            self.store
                .set_extra_claims(&UserId::from(id), claims)
                .await
                .unwrap()
        );
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(StoreError::Other("test double told to fail".into()));
        }
        Ok(())
    }
}

impl UserStore for Users {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        self.check()?;
        self.store.authenticate(username, password).await
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.check()?;
        self.store.get(id).await
    }
}

/// The crate's in-memory revocation store.
pub type Revocations = MemoryRevocationStore;

pub type Endpoints = TokenEndpoints<Users, Revocations>;

pub struct Env {
    pub clock: TestClock,
    pub users: Users,
    pub revocations: Revocations,
    pub endpoints: Endpoints,
}

pub async fn env_with(settings: TokenSettings, issuer: impl FnOnce(Issuer) -> Issuer) -> Env {
    let clock = TestClock::new(T0);
    let users = Users::transcript().await;
    let revocations = Revocations::new().with_clock(clock.clock());
    let iss = issuer(Issuer::new(keys()).unwrap().clock(clock.clock()));
    let endpoints = TokenEndpoints::new(iss, users.clone(), revocations.clone(), settings).unwrap();
    Env {
        clock,
        users,
        revocations,
        endpoints,
    }
}

pub async fn env(settings: TokenSettings) -> Env {
    env_with(settings, |i| i).await
}

/// A finished response: status, headers, body text.
#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Res {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
    pub fn token(&self, field: &str) -> String {
        self.json()[field].as_str().unwrap().to_owned()
    }
}

pub async fn send<S, B>(svc: S, req: Request<B>) -> Res
where
    S: tower::Service<
            Request<B>,
            Response = Response<http_body_util::Full<bytes::Bytes>>,
            Error = Infallible,
        >,
{
    let res = svc.oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Res {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

pub fn post(ct: Option<&str>, body: &str) -> Request<String> {
    let mut b = Request::post("/");
    if let Some(ct) = ct {
        b = b.header("content-type", ct);
    }
    b.body(body.to_owned()).unwrap()
}

pub fn json(body: &str) -> Request<String> {
    post(Some("application/json"), body)
}

/// The decoded (header, payload) JSON texts of a compact JWS, byte for byte.
pub fn decode_raw(token: &str) -> (String, String) {
    let mut parts = token.split('.');
    let h = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
    let p = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
    (String::from_utf8(h).unwrap(), String::from_utf8(p).unwrap())
}

/// The headers every token-view response carries, and the 401 challenge.
pub fn assert_framing(res: &Res) {
    assert_eq!(
        res.header("content-type"),
        Some("application/json"),
        "{res:?}"
    );
    assert_eq!(res.header("allow"), Some("POST, OPTIONS"), "{res:?}");
    assert_eq!(res.header("vary"), Some("Accept"), "{res:?}");
    assert_eq!(res.header("cache-control"), Some("no-store"), "{res:?}");
    if res.status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            res.header("www-authenticate"),
            Some(r#"Bearer realm="api""#)
        );
    } else {
        assert_eq!(res.header("www-authenticate"), None, "{res:?}");
    }
}

/// Signs an arbitrary payload (given as raw JSON text, so its key order is kept) with the
/// transcript secret.
pub fn mint_raw(payload_json: &str) -> String {
    let v: tower_jwt_auth::TokenPayload = serde_json::from_str(payload_json).unwrap();
    keys().encode(&v).unwrap()
}
