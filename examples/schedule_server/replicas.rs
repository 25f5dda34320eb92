//! Shared stores, so several replicas of this server can run behind one load balancer:
//!
//! * `--database-url postgres://…` or `sqlite://FILE` (the `sqlx` feature): users in Django's
//!   `auth_user` table, revoked refresh tokens in simplejwt's blacklist tables;
//! * `--redis-url redis://…` (the `redis` feature): revocations and rotation (one atomic Lua
//!   script each), the login throttle, and the protected route's revocation check (a local copy
//!   of every revocation, kept current by pub/sub, failing closed while Redis is unreachable).
//!
//! With Redis, every login starts a session: its tokens carry a random `sid` claim (copied into
//! rotated refresh tokens and the access tokens minted from them, as simplejwt copies custom
//! claims), the protected route checks the `sid` against the revocation set, and a logout
//! (`POST /api/token/blacklist/`) revokes the session's `sid` before the refresh token itself, so
//! the session's access tokens are refused by every replica within milliseconds, not at their
//! expiry. A refresh refused with 401 (a reused rotated token, a logged-out one) ends the session
//! too, so reuse detection refuses the whole family's access tokens as well as its refresh
//! tokens.
//!
//! URLs are printed and logged with their password masked ([`mask_url`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_jwt_auth::store::{FileUserStore, RevocationStore, StoreError, User};
use tower_jwt_auth::{RevocationCheck, SimpleJwtClaims, TokenType, Verifier};

use crate::compat;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `url` with the password of its userinfo (`scheme://user:PASSWORD@host`) replaced by `***`.
#[cfg_attr(not(any(feature = "sqlx", feature = "redis")), allow(dead_code))]
pub(crate) fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// Refuses `--database-url` and `--redis-url` in a build without the feature they need.
pub(crate) fn check_features(database: Option<&str>, redis: Option<&str>) -> Result<(), BoxError> {
    if database.is_some() && !cfg!(feature = "sqlx") {
        return Err("--database-url needs the sqlx feature: \
                    cargo run --example schedule_server --features sqlx -- …"
            .into());
    }
    if redis.is_some() && !cfg!(feature = "redis") {
        return Err("--redis-url needs the redis feature: \
                    cargo run --example schedule_server --features sqlx,redis -- …"
            .into());
    }
    Ok(())
}

/// Connects to the database (`postgres://`, `postgresql://` or `sqlite://`) and creates the
/// tables if missing.
#[cfg(feature = "sqlx")]
pub(crate) async fn open_database(
    url: &str,
) -> Result<tower_jwt_auth::store::SqlDatabase, BoxError> {
    let shown = mask_url(url);
    let db = tower_jwt_auth::store::SqlDatabase::connect(url)
        .await
        .map_err(|e| format!("database {shown}: {e}"))?;
    db.migrate()
        .await
        .map_err(|e| format!("database {shown}: creating the tables: {e}"))?;
    Ok(db)
}

/// What `--redis-url` provides.
#[cfg(feature = "redis")]
pub(crate) struct RedisStores {
    /// Revocations and rotation; records this replica's own revocations in `set` at once.
    pub(crate) revocations: tower_jwt_auth::store::RedisRevocationStore,
    /// The login throttle, shared by every replica.
    pub(crate) throttle: tower_jwt_auth::store::RedisThrottle,
    /// Every replica's revocations, in memory: the protected route's check (fails closed).
    pub(crate) set: tower_jwt_auth::store::RedisRevocationSet,
}

/// Connects to Redis and starts the local revocation set (fail closed).
#[cfg(feature = "redis")]
pub(crate) async fn open_redis(
    url: &str,
    throttle: tower_jwt_auth::token::ThrottleSettings,
) -> Result<RedisStores, BoxError> {
    use tower_jwt_auth::store::{RedisConnection, RevocationFailMode};
    let shown = mask_url(url);
    let redis = RedisConnection::connect(url)
        .await
        .map_err(|e| format!("redis {shown}: {e}"))?;
    let set = redis.revocation_set(RevocationFailMode::Closed).await;
    if !set.is_current() {
        tracing::warn!(
            "revocation set: not loaded yet; protected routes refuse tokens until it is"
        );
    }
    Ok(RedisStores {
        revocations: redis.revocations().with_local_set(&set),
        throttle: redis.throttle(throttle),
        set,
    })
}

/// The claim naming a token's session.
pub(crate) const SESSION_CLAIM: &str = "sid";

/// The issuer's claims hook with Redis: a fresh random session id for each login.
pub(crate) fn session_claims(_user: &User) -> serde_json::Map<String, serde_json::Value> {
    let mut claims = serde_json::Map::new();
    match crate::storage::random_hex(16) {
        Ok(sid) => {
            claims.insert(SESSION_CLAIM.to_owned(), sid.into());
        }
        // Without a session id the protected route refuses the token ("Token has no id").
        Err(e) => tracing::error!(error = %e, "no session id"),
    }
    claims
}

/// The protected route's verifier with sessions: simplejwt's access-token policy, the `sid` as
/// the revocable id, checked against `check`.
pub(crate) fn session_verifier(
    keys: tower_jwt_auth::Keys,
    check: Arc<dyn RevocationCheck>,
) -> Verifier {
    Verifier::new(keys)
        .jti_claim(SESSION_CLAIM)
        .revocation(move |sid: &str| check.is_revoked(sid))
}

/// What the logout middleware needs.
#[derive(Clone)]
struct Sessions<R> {
    revocations: R,
    /// Verifies the refresh token a logout presents (simplejwt's refresh policy).
    refresh: Verifier,
    /// How long a session's revocation is kept: a refresh and an access lifetime, so it outlives
    /// every token of the session that exists when it ends.
    hold_secs: i64,
    body_limit: usize,
    timeout: Duration,
}

/// Wraps `router` so that a logout (`POST /api/token/blacklist/` with a valid refresh token,
/// JSON or form body) revokes the token's session in `revocations` before the blacklist
/// endpoint revokes the token. The session is revoked first so that a retried logout after a
/// failure still ends it; a failing store answers 503 and the token stays live. A refresh
/// (`POST /api/token/refresh/`) answered 401 for a validly signed refresh token ends its
/// session after the answer.
pub(crate) fn end_sessions_on_logout<R: RevocationStore>(
    router: Router,
    revocations: R,
    keys: tower_jwt_auth::Keys,
    lifetimes_secs: i64,
    body_limit: usize,
    timeout: Duration,
) -> Router {
    let sessions = Sessions {
        revocations,
        refresh: Verifier::new(keys).token_types([TokenType::REFRESH]),
        hold_secs: lifetimes_secs,
        body_limit,
        timeout,
    };
    router.layer(axum::middleware::from_fn_with_state(sessions, end_session))
}

async fn end_session<R: RevocationStore>(
    State(s): State<Sessions<R>>,
    req: Request,
    next: Next,
) -> Response {
    let logout = match req.uri().path() {
        "/api/token/blacklist/" => true,
        "/api/token/refresh/" => false,
        _ => return next.run(req).await,
    };
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let words = compat::error_bodies::<Body>(s.body_limit);
    let bytes =
        match tokio::time::timeout(s.timeout, axum::body::to_bytes(body, s.body_limit)).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => return words(status_only(StatusCode::PAYLOAD_TOO_LARGE)),
            Err(_) => return words(status_only(StatusCode::REQUEST_TIMEOUT)),
        };
    let sid = refresh_field(&parts.headers, &bytes)
        .and_then(|raw| s.refresh.verify::<SimpleJwtClaims>(&raw).ok())
        .and_then(|token| {
            let sid = token.claims.extra.get(SESSION_CLAIM)?.as_str()?;
            Some(sid.to_owned())
        });
    let Some(sid) = sid else {
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    };
    let until = s.refresh.now().saturating_add(s.hold_secs);
    if logout {
        match s.revocations.revoke_if_absent(&sid, until).await {
            // A malformed sid: no session to end; the endpoint judges the token.
            Ok(_) | Err(StoreError::Invalid(_)) => {}
            Err(e) => {
                tracing::error!(error = %e, "ending a session failed");
                return unavailable();
            }
        }
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if res.status() == StatusCode::UNAUTHORIZED
        && let Err(e) = s.revocations.revoke_if_absent(&sid, until).await
    {
        tracing::error!(error = %e, "ending the session of a refused refresh token failed");
    }
    res
}

/// The token endpoints' own 503 body and headers.
fn unavailable() -> Response {
    let body =
        r#"{"detail":"Authentication is temporarily unavailable.","code":"service_unavailable"}"#;
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    for (name, value) in [
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        res.headers_mut()
            .insert(name, axum::http::HeaderValue::from_static(value));
    }
    res
}

fn status_only(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
}

/// The `refresh` field of a JSON or form body, as the blacklist endpoint would read it.
fn refresh_field(headers: &axum::http::HeaderMap, body: &[u8]) -> Option<String> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let value = if media == "application/x-www-form-urlencoded" {
        form_urlencoded::parse(body)
            .filter(|(k, _)| k == "refresh")
            .last()
            .map(|(_, v)| v.into_owned())
    } else {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v.get("refresh")?.as_str().map(str::to_owned)
    };
    value.map(|v| v.trim().to_owned())
}

/// The user store the `users` subcommands work on: a data directory's file or a database.
pub(crate) enum UserAdmin {
    /// `--data-dir DIR`.
    File(FileUserStore),
    /// `--database-url URL`.
    #[cfg(feature = "sqlx")]
    Sql(tower_jwt_auth::store::SqlUserStore),
}

impl UserAdmin {
    /// Adds a user.
    pub(crate) async fn add_user(
        &self,
        name: &str,
        password: &str,
        active: bool,
    ) -> Result<User, StoreError> {
        match self {
            Self::File(s) => s.add_user(name, password, active).await,
            #[cfg(feature = "sqlx")]
            Self::Sql(s) => s.add_user(name, password, active).await,
        }
    }

    /// Every user.
    pub(crate) async fn list(&self) -> Result<Vec<User>, StoreError> {
        match self {
            Self::File(s) => s.list().await,
            #[cfg(feature = "sqlx")]
            Self::Sql(s) => s.list().await,
        }
    }

    /// Imports Django's `dumpdata auth.user`.
    pub(crate) async fn import_django(&self, json: &str) -> Result<Vec<User>, StoreError> {
        match self {
            Self::File(s) => s.import_django(json).await,
            #[cfg(feature = "sqlx")]
            Self::Sql(s) => s.import_django(json).await,
        }
    }
}
