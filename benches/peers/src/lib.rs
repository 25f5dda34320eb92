//! What the peer benches (`benches/`), the load server (`src/bin/load_server.rs`) and the
//! profiling loop (`examples/prof.rs`) share: the token's claims, the bench secret, a poller for
//! futures that never wait, and the load server's router.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tower_jwt_auth::{Claims, JwtAuthLayer, Keys};

/// The HS256 secret of the benches (never a production secret).
pub const SECRET: &[u8] = b"bench-only-secret-not-for-production-use-0123456789abcdef0123456";

/// The `jti` of every bench token.
pub const JTI: &str = "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f";

/// The claims of a simplejwt access token, in simplejwt's order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Access {
    pub token_type: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: String,
}

/// An access token's claims for user `1`, issued now, valid for a day.
///
/// # Panics
/// If the system clock is before 1970.
#[must_use]
pub fn access() -> Access {
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        .try_into()
        .expect("seconds fit in i64");
    Access {
        token_type: "access".into(),
        exp: iat + 86_400,
        iat,
        jti: JTI.into(),
        user_id: "1".into(),
    }
}

/// Polls a future to completion with a no-op waker; every future here finishes without waiting.
///
/// # Panics
/// If the future is still pending after 16 polls.
pub fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..16 {
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("the future waited")
}

/// The load server's one handler: a small JSON body, like the schedule GET.
pub async fn schedule(user: Option<Extension<Claims<Access>>>) -> Json<serde_json::Value> {
    let user = user.map(|Extension(a)| a.user_id.clone());
    Json(serde_json::json!({
        "user": user,
        "schedule": {"monday": [{"start": "00:00", "stop": "01:00", "ids": [1]}]}
    }))
}

/// The load server's router: [`schedule`] unprotected (`/open`), behind `JwtAuthLayer`
/// (`/protected`), and behind the layer with the verified-token cache (`/cached`).
pub fn router(keys: Keys) -> Router {
    Router::new()
        .route("/open", get(schedule))
        .route(
            "/protected",
            get(schedule).layer(JwtAuthLayer::<Access>::new(keys.clone())),
        )
        .route(
            "/cached",
            get(schedule).layer(JwtAuthLayer::<Access>::new(keys).cache(10_000)),
        )
}

/// An identity provider's access token (Keycloak's layout), typed as a resource server would
/// (`benches/fixtures/idp.json`, `idp_8k.json`).
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code, missing_docs)]
pub struct Idp {
    pub exp: i64,
    pub iat: i64,
    pub auth_time: Option<i64>,
    pub jti: String,
    pub iss: String,
    pub aud: Vec<String>,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    pub sid: String,
    pub acr: String,
    #[serde(rename = "allowed-origins")]
    pub allowed_origins: Vec<String>,
    pub realm_access: Roles,
    pub resource_access: std::collections::HashMap<String, Roles>,
    pub scope: String,
    pub email_verified: bool,
    pub name: String,
    pub preferred_username: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub locale: String,
    pub tenant: String,
    pub client_id: String,
    pub session_state: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// `realm_access` / `resource_access.*` of [`Idp`].
#[derive(Clone, Debug, Deserialize)]
#[allow(missing_docs)]
pub struct Roles {
    pub roles: Vec<String>,
}

/// The issuer of the IdP fixtures.
pub const IDP_ISS: &str = "https://idp.example.com/realms/acme";
/// The audience the benches' resource server identifies as.
pub const IDP_AUD: &str = "api.example.com";

/// `benches/fixtures/{name}`.
///
/// # Panics
/// If the file cannot be read.
#[must_use]
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The token shapes of the shape benches: name, claims, and whether it is simplejwt's (checked
/// with simplejwt's policy) or an IdP's (checked as an RFC 9068 access token: `iss`, `aud`).
///
/// # Panics
/// If a fixture is missing or not JSON.
#[must_use]
pub fn shapes() -> Vec<(&'static str, serde_json::Value, bool)> {
    let json = |name| serde_json::from_slice(&fixture(name)).expect("fixture JSON");
    vec![
        (
            "simplejwt",
            serde_json::to_value(access()).expect("json"),
            true,
        ),
        ("idp", json("idp.json"), false),
        ("idp 8k", json("idp_8k.json"), false),
    ]
}
