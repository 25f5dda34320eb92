//! The token services' test environment: the crate's in-memory stores with cheap password
//! hashing (plus a switch that makes the user store fail), token endpoints on a [`TestClock`]
//! with the transcript's users, request bodies, and the framing every token-view answer carries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use http::{Request, StatusCode};
use tower_jwt_auth::password::PasswordHasher;
use tower_jwt_auth::store::{MemoryRevocationStore, MemoryUserStore, StoreError, User, UserStore};
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{TokenPayload, UserId};

use super::{Reply, T_IAT, TestClock, json, ref_keys};

/// alice's login, as the transcript sends it.
pub const ALICE_LOGIN: &str = r#"{"username":"alice","password":"wonderland-42"}"#;

/// The body of a refresh or blacklist request for `token`.
pub fn refresh_body(token: &str) -> String {
    format!(r#"{{"refresh":"{token}"}}"#)
}

/// A JSON refresh or blacklist request for `token`.
pub fn refresh_req(token: &str) -> Request<String> {
    json(&refresh_body(token))
}

/// A JSON verify or sliding-refresh request for `token`.
pub fn token_req(token: &str) -> Request<String> {
    json(&format!(r#"{{"token":"{token}"}}"#))
}

/// Cheap argon2id costs (m = 64 KiB, t = 1, p = 1) so tests are fast; the OWASP costs are
/// tested on their own.
pub fn fast_hasher() -> PasswordHasher {
    PasswordHasher::with_params(64, 1, 1, 4).expect("valid params")
}

/// The hash prefix of [`fast_hasher`].
pub const FAST_PREFIX: &str = "$argon2id$v=19$m=64,t=1,p=1$";

/// A user record whose hash is never checked (for issuing tokens directly).
pub fn user(id: &str, name: &str, password: &str, active: bool) -> User {
    User {
        id: UserId::from(id),
        username: name.into(),
        is_active: active,
        password_hash: format!("unused:{password}"),
        extra_claims: Default::default(),
    }
}

/// The crate's `MemoryUserStore` with [`fast_hasher`], plus a switch that makes every call
/// fail, to test the 503 path, a count of password checks (`authenticate` calls), and a delay
/// added to each check (milliseconds), to hold logins in the hashing queue.
#[derive(Clone, Debug)]
pub struct Users {
    pub store: MemoryUserStore,
    pub fail: Arc<AtomicBool>,
    pub checks: Arc<AtomicUsize>,
    pub check_delay_ms: Arc<AtomicU64>,
}

impl Users {
    pub fn new() -> Self {
        Self {
            store: MemoryUserStore::with_hasher(fast_hasher()).upgrade_on_login(false),
            fail: Arc::new(AtomicBool::new(false)),
            checks: Arc::new(AtomicUsize::new(0)),
            check_delay_ms: Arc::new(AtomicU64::new(0)),
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
        self.store
            .add_user(name, password, active)
            .await
            .expect("add user")
    }

    pub async fn set_active(&self, id: &str, active: bool) {
        let found = self.store.set_active(&UserId::from(id), active).await;
        assert!(found.expect("set_active"), "no user {id}");
    }

    pub async fn remove(&self, id: &str) {
        let found = self.store.remove(&UserId::from(id)).await;
        assert!(found.expect("remove"), "no user {id}");
    }

    pub async fn set_claims(&self, id: &str, claims: serde_json::Map<String, serde_json::Value>) {
        let found = self.store.set_extra_claims(&UserId::from(id), claims).await;
        assert!(found.expect("set_extra_claims"), "no user {id}");
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
        self.checks.fetch_add(1, Ordering::SeqCst);
        let delay = self.check_delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        }
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

/// Token endpoints over the transcript's users, all on one [`TestClock`] started at [`T_IAT`].
pub struct Env {
    pub clock: TestClock,
    pub users: Users,
    pub revocations: Revocations,
    pub endpoints: Endpoints,
}

/// An [`Env`] whose issuer `issuer` may configure further.
pub async fn env_with(settings: TokenSettings, issuer: impl FnOnce(Issuer) -> Issuer) -> Env {
    let clock = TestClock::new(T_IAT);
    let users = Users::transcript().await;
    let revocations = Revocations::new().with_clock(clock.clock());
    let iss = issuer(
        Issuer::new(ref_keys())
            .expect("issuer")
            .clock(clock.clock()),
    );
    let endpoints =
        TokenEndpoints::new(iss, users.clone(), revocations.clone(), settings).expect("endpoints");
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

/// Sends `req` to the obtain view (a login) and checks the framing of the answer.
pub async fn login(env: &Env, req: Request<String>) -> Reply {
    let res = super::send(env.endpoints.obtain(), req).await;
    assert_framing(&res);
    res
}

/// The headers every token-view response carries, and the 401 challenge.
pub fn assert_framing(res: &Reply) {
    assert_eq!(
        res.header_opt("content-type"),
        Some("application/json"),
        "{res:?}"
    );
    assert_eq!(res.header_opt("allow"), Some("POST, OPTIONS"), "{res:?}");
    assert_eq!(res.header_opt("vary"), Some("Accept"), "{res:?}");
    assert_eq!(res.header_opt("cache-control"), Some("no-store"), "{res:?}");
    if res.status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            res.header_opt("www-authenticate"),
            Some(r#"Bearer realm="api""#)
        );
    } else {
        assert_eq!(res.header_opt("www-authenticate"), None, "{res:?}");
    }
}

/// Signs an arbitrary payload (given as raw JSON text, so its key order is kept) with the
/// reference secret.
pub fn mint_raw(payload_json: &str) -> String {
    let v: TokenPayload = serde_json::from_str(payload_json).expect("a JSON object");
    ref_keys().encode(&v).expect("encode")
}
