//! Shared stores, so several replicas of this server can run behind one load balancer:
//!
//! * `--database-url postgres://…` or `sqlite://FILE` (the `sqlx` feature, or `SCHEDULE_DATABASE_URL`):
//!   users in Django's `auth_user` table; without `--redis-url`, revoked refresh tokens in
//!   simplejwt's blacklist tables too;
//! * `--redis-url redis://…` (the `redis` feature, or `SCHEDULE_REDIS_URL`): every revocation (then in
//!   Redis only: the database's blacklist tables are not used) and rotation (one atomic Lua
//!   script each), the login throttle, and the protected route's revocation check (a local copy
//!   of every revocation, kept current by pub/sub, failing closed while Redis is unreachable).
//!
//! With Redis, every login starts a session: its tokens carry a random `sid` claim (copied into
//! rotated refresh tokens and the access tokens minted from them, as simplejwt copies custom
//! claims), the protected route checks the `sid` against the revocation set, and a logout
//! (`POST /api/token/blacklist/`) revokes the session's `sid` before the refresh token itself, so
//! the session's access tokens are refused by every replica within milliseconds, not at their
//! expiry. A refresh or a verify of a token whose `sid` is revoked is refused, and a refresh
//! refused with 401 (a reused rotated token, a logged-out one) ends the session too, so reuse
//! detection refuses the whole family's access tokens as well as its refresh tokens
//! ([`end_sessions_on_logout`]).
//!
//! URLs are printed and logged with their password masked ([`mask_url`]).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_jwt_auth::store::{FileUserStore, RevocationStore, StoreError, User};
use tower_jwt_auth::token::body_field;
use tower_jwt_auth::{RevocationCheck, SimpleJwtClaims, TokenType, Verifier};

use crate::compat;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `raw` as it may be printed: the userinfo's password and the value of every query parameter
/// whose name contains `pass` (sqlx's `password=`, redis-rs's `pass=`) replaced by `***`. A URL
/// that does not parse, or whose path, query or fragment holds an `@` (a password with an
/// unencoded `#`, `/` or `?` spills there), is shown as `scheme://***` only.
#[cfg_attr(not(any(feature = "sqlx", feature = "redis")), allow(dead_code))]
pub(crate) fn mask_url(raw: &str) -> String {
    let hidden = match raw.split_once("://") {
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            format!("{scheme}://***")
        }
        _ => "***".to_owned(),
    };
    let Ok(mut url) = url::Url::parse(raw) else {
        return hidden;
    };
    let spilled = [Some(url.path()), url.query(), url.fragment()]
        .into_iter()
        .flatten()
        .any(|part| part.contains('@'));
    if spilled {
        return hidden;
    }
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return hidden;
    }
    let secret = |name: &str| name.to_ascii_lowercase().contains("pass");
    if url.query_pairs().any(|(k, _)| secret(&k)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret(&k) {
                    "***".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
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

/// The protected route's verifier with sessions: `verifier` (simplejwt's access-token policy)
/// with the `sid` as the revocable id, checked against `check`.
pub(crate) fn session_verifier(verifier: Verifier, check: Arc<dyn RevocationCheck>) -> Verifier {
    verifier
        .jti_claim(SESSION_CLAIM)
        .revocation(move |sid: &str| check.is_revoked(sid))
}

/// What the session middleware needs to know beyond the store and the verifier.
pub(crate) struct SessionSettings {
    /// The access token lifetime, in seconds.
    pub(crate) access_lifetime: u64,
    /// The refresh token lifetime, in seconds.
    pub(crate) refresh_lifetime: u64,
    /// The token endpoints' realm (`TokenSettings::realm`), for `WWW-Authenticate`.
    pub(crate) realm: String,
    /// The token endpoints' leeway (`TokenSettings::leeway`), in seconds: the session checks
    /// accept a token exactly as long as the endpoints do.
    pub(crate) leeway: u64,
    /// The largest request body.
    pub(crate) body_limit: usize,
    /// The request timeout of the app (`TimeoutLayer`), also the bound of this middleware's body
    /// read and store calls.
    pub(crate) timeout: Duration,
}

/// What the session middleware needs.
#[derive(Clone)]
struct Sessions<R> {
    revocations: R,
    /// Verifies the refresh token a logout or refresh presents (simplejwt's refresh policy).
    refresh: Verifier,
    /// Verifies the token a verify request presents (any token type, as the endpoint does).
    any: Verifier,
    /// How long a session's revocation is kept, from when it is written (see
    /// [`end_sessions_on_logout`] for why this is enough).
    hold_secs: i64,
    /// `Bearer realm="…"`.
    challenge: HeaderValue,
    body_limit: usize,
    timeout: Duration,
}

/// Wraps `router` so that sessions end for good (`verifier` is the protected route's, before
/// its session check: the refresh and verify checks here take its keys and leeway):
///
/// * a logout (`POST /api/token/blacklist/` with a valid refresh token, in a JSON, form or
///   multipart body as the endpoint reads it) revokes the token's session in `revocations`
///   before the blacklist endpoint revokes the token. The session is revoked first so that a
///   retried logout after a failure still ends it; a failing store answers 503 and the token
///   stays live;
/// * a refresh (`POST /api/token/refresh/`) of a token whose session is revoked is refused with
///   the endpoint's own 401 "Token is blacklisted" before it reaches the endpoint, whatever the
///   endpoint's settings (without blacklisting after rotation, an older refresh token of a
///   logged-out session is still live for the endpoint);
/// * a refresh answered 401 for a validly signed refresh token (a reused rotated token) ends its
///   session after the answer;
/// * a verify (`POST /api/token/verify/`) of a token of an ended session, access or refresh, is
///   answered as the endpoint answers for a blacklisted token: 400
///   `{"non_field_errors":["Token is blacklisted"]}`, so a client asking whether its token is
///   still good gets the protected route's answer.
///
/// How long a session's revocation is held: `access + refresh lifetime + timeout` from when it
/// is written, at `T`. Once it is written, no refresh of the session passes this middleware
/// while it is held, so the session's tokens are those minted by refreshes that passed the
/// check before `T`. Each of those mints within the request timeout of its check (the endpoint
/// runs under the app's `TimeoutLayer`, inside this middleware), so every refresh token of the
/// session expires by `T + timeout + refresh lifetime` and every access token by
/// `T + timeout + access lifetime`, and is accepted up to the leeway after that: when the hold
/// (which adds the leeway) lapses, no token of the session is live and none can be minted any
/// more. (Replicas are assumed to agree on the time to within a second; a replica started with
/// longer lifetimes or leeway than the one that ended the session is not covered.)
pub(crate) fn end_sessions_on_logout<R: RevocationStore>(
    router: Router,
    revocations: R,
    verifier: Verifier,
    settings: &SessionSettings,
) -> Result<Router, BoxError> {
    let hold = settings
        .access_lifetime
        .saturating_add(settings.refresh_lifetime)
        .saturating_add(settings.timeout.as_secs().saturating_add(1))
        .saturating_add(settings.leeway);
    let sessions = Sessions {
        revocations,
        refresh: verifier.clone().token_types([TokenType::REFRESH]),
        any: verifier.any_token_type(),
        hold_secs: i64::try_from(hold)?,
        challenge: HeaderValue::from_str(&format!("Bearer realm=\"{}\"", settings.realm))?,
        body_limit: settings.body_limit,
        timeout: settings.timeout,
    };
    Ok(router.layer(axum::middleware::from_fn_with_state(sessions, end_session)))
}

/// Which token endpoint a request is for, as far as sessions are concerned.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `POST /api/token/blacklist/`: ends the session.
    Logout,
    /// `POST /api/token/refresh/`: refused for an ended session, ends it on a refused refresh.
    Refresh,
    /// `POST /api/token/verify/`: a token of an ended session is not valid.
    Verify,
}

async fn end_session<R: RevocationStore>(
    State(s): State<Sessions<R>>,
    req: Request,
    next: Next,
) -> Response {
    let route = match req.uri().path() {
        "/api/token/blacklist/" => Route::Logout,
        "/api/token/refresh/" => Route::Refresh,
        "/api/token/verify/" => Route::Verify,
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
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    // The token as the endpoint will read it, checked as the endpoint will check it.
    let (field, verifier) = match route {
        Route::Verify => ("token", &s.any),
        Route::Logout | Route::Refresh => ("refresh", &s.refresh),
    };
    let sid = body_field(content_type, &bytes, field)
        .and_then(|raw| verifier.verify::<SimpleJwtClaims>(&raw).ok())
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
    if route == Route::Logout {
        match tokio::time::timeout(s.timeout, s.revocations.revoke_if_absent(&sid, until)).await {
            // A malformed sid: no session to end; the endpoint judges the token.
            Ok(Ok(_) | Err(StoreError::Invalid(_))) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "ending a session failed");
                return token_reply(&s, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
            }
            Err(_) => {
                tracing::error!("ending a session timed out");
                return token_reply(&s, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
            }
        }
        return next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
    }
    match tokio::time::timeout(s.timeout, s.revocations.is_revoked(&sid)).await {
        Ok(Ok(false) | Err(StoreError::Invalid(_))) => {}
        Ok(Ok(true)) if route == Route::Verify => {
            return token_reply(&s, StatusCode::BAD_REQUEST, VERIFY_BLACKLISTED);
        }
        Ok(Ok(true)) => return token_reply(&s, StatusCode::UNAUTHORIZED, BLACKLISTED),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "checking a session failed");
            return token_reply(&s, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
        Err(_) => {
            tracing::error!("checking a session timed out");
            return token_reply(&s, StatusCode::SERVICE_UNAVAILABLE, UNAVAILABLE);
        }
    }
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if route == Route::Refresh && res.status() == StatusCode::UNAUTHORIZED {
        match tokio::time::timeout(s.timeout, s.revocations.revoke_if_absent(&sid, until)).await {
            Ok(Ok(_) | Err(StoreError::Invalid(_))) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "ending the session of a refused refresh token failed");
            }
            Err(_) => tracing::error!("ending the session of a refused refresh token timed out"),
        }
    }
    res
}

/// The token endpoints' 503 body.
const UNAVAILABLE: &str =
    r#"{"detail":"Authentication is temporarily unavailable.","code":"service_unavailable"}"#;
/// The refresh endpoint's 401 for a revoked token.
const BLACKLISTED: &str = r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#;
/// The verify endpoint's 400 for a revoked token.
const VERIFY_BLACKLISTED: &str = r#"{"non_field_errors":["Token is blacklisted"]}"#;

/// An answer framed as the token endpoints frame theirs: JSON, `Allow`, `Vary`,
/// `Cache-Control: no-store`, and the challenge on a 401.
fn token_reply<R>(s: &Sessions<R>, status: StatusCode, body: &'static str) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "application/json"),
        (header::ALLOW, "POST, OPTIONS"),
        (header::VARY, "Accept"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if status == StatusCode::UNAUTHORIZED {
        h.insert(header::WWW_AUTHENTICATE, s.challenge.clone());
    }
    res
}

fn status_only(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
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
