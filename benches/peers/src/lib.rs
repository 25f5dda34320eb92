//! What the peer benches (`benches/`), the load server (`src/bin/load_server.rs`) and the
//! profiling loop (`examples/prof.rs`) share: the token's claims, the bench secret, a poller for
//! futures that never wait, and the load server's router.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tower_jwt_auth::{JwtAuthLayer, Keys};

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
pub async fn schedule(user: Option<Extension<Access>>) -> Json<serde_json::Value> {
    let user = user.map(|Extension(a)| a.user_id);
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
