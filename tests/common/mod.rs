//! Shared helpers for the token-service tests: small in-memory store doubles (the crate's real
//! stores are tested on their own), a settable clock, and a request helper.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_jwt_auth::store::{RevocationStore, Rotation, StoreError, User, UserStore};
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{Clock, Keys, UserId};

/// The HS256 secret of the reference Django server that recorded the transcript.
pub const SECRET: &str = "reference-only-test-secret-key-for-simplejwt-wire-format-probe-0123456789abcdef0123456789abcdef";

/// The `iat` of the transcript's first tokens.
pub const T0: i64 = 1_795_655_419;

pub fn keys() -> Keys {
    Keys::hs256(SECRET).unwrap()
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
        password_hash: format!("plain${password}"),
        extra_claims: Default::default(),
    }
}

/// Users keyed by id; the "hash" is the plain password (a test double only).
#[derive(Clone, Debug, Default)]
pub struct Users {
    pub users: Arc<Mutex<HashMap<String, User>>>,
    pub fail: Arc<AtomicBool>,
}

impl Users {
    /// The transcript's users: alice (1, active), dormant (2, inactive).
    pub fn transcript() -> Self {
        let u = Self::default();
        u.add(user("1", "alice", "wonderland-42", true));
        u.add(user("2", "dormant", "sleepy-hollow-7", false));
        u
    }
    pub fn add(&self, u: User) {
        self.users.lock().unwrap().insert(u.id.to_string(), u);
    }
    pub fn remove(&self, id: &str) {
        self.users.lock().unwrap().remove(id);
    }
    pub fn set_active(&self, id: &str, active: bool) {
        if let Some(u) = self.users.lock().unwrap().get_mut(id) {
            u.is_active = active;
        }
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
        let users = self.users.lock().unwrap();
        Ok(users
            .values()
            .find(|u| u.username == username && u.password_hash == format!("plain${password}"))
            .cloned())
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.check()?;
        Ok(self.users.lock().unwrap().get(id.as_str()).cloned())
    }
}

#[derive(Debug, Default)]
struct RevState {
    revoked: HashSet<String>,
    family_of: HashMap<String, u64>,
    revoked_families: HashSet<u64>,
    next_family: u64,
}

impl RevState {
    fn revoked(&self, jti: &str) -> bool {
        self.revoked.contains(jti)
            || self
                .family_of
                .get(jti)
                .is_some_and(|f| self.revoked_families.contains(f))
    }
    fn family(&mut self, jti: &str) -> u64 {
        if let Some(f) = self.family_of.get(jti) {
            return *f;
        }
        self.next_family += 1;
        let f = self.next_family;
        self.family_of.insert(jti.to_owned(), f);
        f
    }
}

/// An in-memory revocation store with atomic rotate and family revocation (a test double).
#[derive(Clone, Debug, Default)]
pub struct Revocations {
    state: Arc<Mutex<RevState>>,
}

impl Revocations {
    pub fn revoked(&self, jti: &str) -> bool {
        self.state.lock().unwrap().revoked(jti)
    }
}

impl RevocationStore for Revocations {
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        Ok(self.state.lock().unwrap().revoked(jti))
    }

    async fn revoke_if_absent(&self, jti: &str, _exp: i64) -> Result<bool, StoreError> {
        let mut s = self.state.lock().unwrap();
        if s.revoked(jti) {
            return Ok(false);
        }
        s.revoked.insert(jti.to_owned());
        Ok(true)
    }

    async fn rotate(
        &self,
        old: &str,
        _old_exp: i64,
        new: &str,
        _new_exp: i64,
    ) -> Result<Rotation, StoreError> {
        let mut s = self.state.lock().unwrap();
        let fam = s.family(old);
        if s.revoked(old) {
            s.revoked_families.insert(fam);
            return Ok(Rotation::Reused);
        }
        s.revoked.insert(old.to_owned());
        s.family_of.insert(new.to_owned(), fam);
        Ok(Rotation::Rotated)
    }
}

pub type Endpoints = TokenEndpoints<Users, Revocations>;

pub struct Env {
    pub clock: TestClock,
    pub users: Users,
    pub revocations: Revocations,
    pub endpoints: Endpoints,
}

pub fn env_with(settings: TokenSettings, issuer: impl FnOnce(Issuer) -> Issuer) -> Env {
    let clock = TestClock::new(T0);
    let users = Users::transcript();
    let revocations = Revocations::default();
    let iss = issuer(Issuer::new(keys()).unwrap().clock(clock.clock()));
    let endpoints = TokenEndpoints::new(iss, users.clone(), revocations.clone(), settings).unwrap();
    Env {
        clock,
        users,
        revocations,
        endpoints,
    }
}

pub fn env(settings: TokenSettings) -> Env {
    env_with(settings, |i| i)
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
