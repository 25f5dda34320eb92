//! The HTTP surface: [`app`] builds the whole router from an [`AppState`], so tests drive it
//! in-process with `tower::ServiceExt::oneshot` and `main` serves it.
//!
//! | route | auth | methods |
//! |---|---|---|
//! | `/api/token/`, `/api/token/refresh/`, `/api/token/verify/`, `/api/token/blacklist/` | none | `POST`, `OPTIONS` (the crate's token services, mounted as they are) |
//! | `/api/weekly_schedule/` | `JwtAuthLayer` + user check | `GET`, `POST`, `DELETE`, `HEAD`, `OPTIONS`; others 405 |
//! | `/healthz` | none | `GET`, `HEAD` |
//! | `/.well-known/jwks.json`, `/.well-known/openid-configuration` | none | `GET`: only with `serve --algorithm … --signing-key FILE` ([`publish_routes`]) |
//! | `/`, `/static/app.js`, `/static/app.css`, `/static/icon.svg` | none | `GET`, `HEAD`: the page (`web/`, embedded in the binary) |
//! | `/api/schema/` | none | `GET`, `HEAD`: the OpenAPI 3.1 description (`openapi.json`) |
//! | the same paths without the trailing slash | | 301 to the slash form (Django's `APPEND_SLASH`) |
//!
//! The whole app sits under one `ServiceBuilder` of tower-http layers, outermost first: a log
//! line per request (`TraceLayer`) → JSON bodies for the layers' own 408 and 413 → request
//! timeout (`TimeoutLayer`) → panics as a JSON 500 (`CatchPanicLayer`) → the peer address for
//! the login throttle → body limit (`RequestBodyLimitLayer`). The schedule route adds its own:
//! DRF's `Allow`/`Vary` headers (`SetResponseHeaderLayer`, so 401s carry them too) →
//! `JwtAuthLayer` with the per-request user check → the handlers, which take [`Claims`].
//! What only Django compatibility needs is in `compat.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Serialize;
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tower_jwt_auth::store::{RevocationStore, UserStore};
use tower_jwt_auth::token::{ClientAddr, TokenEndpoints};
use tower_jwt_auth::{
    AuthCheck, AuthError, AuthErrorKind, Claims, DefaultResponder, JwtAuthLayer, SimpleJwtClaims,
    Verified, Verifier, WithCheck,
};
use tracing::Span;

use crate::compat::{self, detail, json};
use crate::domain;
use crate::storage::ScheduleStore;

/// The schedule route's path.
pub(crate) const SCHEDULE: &str = "/api/weekly_schedule/";

/// The schedule route's methods, in the order Django lists them.
pub(crate) const SCHEDULE_ALLOW: &str = "GET, POST, DELETE, HEAD, OPTIONS";

/// The routes that answer a path without its trailing slash with a 301 (Django's `APPEND_SLASH`).
const SLASHED: [&str; 6] = [
    "/api/schema/",
    "/api/token/",
    "/api/token/refresh/",
    "/api/token/verify/",
    "/api/token/blacklist/",
    SCHEDULE,
];

/// Everything the routes need.
#[derive(Clone, Debug)]
pub(crate) struct AppState<U, R> {
    /// The token endpoints (they own the issuer, and share `users` and the revocation store).
    pub(crate) tokens: TokenEndpoints<U, R>,
    /// Verifies bearer tokens on the protected routes (simplejwt's defaults: access tokens).
    pub(crate) verifier: Verifier,
    /// Users, for the per-request "exists and is active" check.
    pub(crate) users: U,
    /// The schedules.
    pub(crate) schedules: ScheduleStore,
    /// The largest request body accepted, in bytes.
    pub(crate) body_limit: usize,
    /// How long a request may take, body upload included, before a JSON 408.
    pub(crate) request_timeout: Duration,
}

/// The default request timeout.
pub(crate) const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The default request body limit: 64 KiB, plenty for a week of slots.
pub(crate) const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The whole application.
pub(crate) fn app<U: UserStore, R: RevocationStore>(state: AppState<U, R>) -> Router {
    let schedule = schedule_handlers().layer(
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::ALLOW,
                HeaderValue::from_static(SCHEDULE_ALLOW),
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::VARY,
                HeaderValue::from_static("Accept"),
            ))
            .layer(auth(&state))
            .layer(MapRequestLayer::new(log_user)),
    );
    with_middleware(
        token_routes(&state.tokens)
            .route(SCHEDULE, schedule)
            .route(
                "/healthz",
                get(healthz).fallback(|m: Method| async move {
                    compat::method_not_allowed(&m, "GET, HEAD")
                }),
            )
            .merge(page_routes())
            .fallback(
                |req: Request| async move { compat::append_slash_or_not_found(&req, &SLASHED) },
            )
            .with_state(state.schedules.clone()),
        &state,
    )
}

/// With an asymmetric signing key: its public keys at `/.well-known/jwks.json` and a minimal
/// OpenID Connect discovery document naming them, so other services verify this server's tokens
/// with `RemoteKeys::discover(base)`.
pub(crate) fn publish_routes(keys: &tower_jwt_auth::Keys, base: &str) -> Router {
    let jwks = keys.public_jwks().to_string();
    let algs: Vec<String> = keys
        .keys()
        .iter()
        .map(|k| format!("{:?}", k.algorithm()))
        .collect();
    let discovery = serde_json::json!({
        "issuer": base,
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "token_endpoint": format!("{base}/api/token/"),
        "grant_types_supported": ["password", "refresh_token"],
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
    })
    .to_string();
    let doc = |body: String| {
        get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "public, max-age=300"),
                    ],
                    body,
                )
            }
        })
    };
    Router::new()
        .route("/.well-known/jwks.json", doc(jwks))
        .route("/.well-known/openid-configuration", doc(discovery))
}

/// The crate's token services: plain tower services, mounted as they are.
pub(crate) fn token_routes<U: UserStore, R: RevocationStore, S: Clone + Send + Sync + 'static>(
    tokens: &TokenEndpoints<U, R>,
) -> Router<S> {
    Router::new()
        .route_service("/api/token/", tokens.obtain())
        .route_service("/api/token/refresh/", tokens.refresh())
        .route_service("/api/token/verify/", tokens.verify())
        .route_service("/api/token/blacklist/", tokens.blacklist())
}

/// The layers around the whole router (see the module docs for the order).
pub(crate) fn with_middleware<U, R>(router: Router, state: &AppState<U, R>) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(log_response),
            )
            .map_response(compat::error_bodies(state.body_limit))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                state.request_timeout,
            ))
            .layer(CatchPanicLayer::custom(compat::panic_response))
            .layer(MapRequestLayer::new(client_addr))
            .layer(RequestBodyLimitLayer::new(state.body_limit)),
    )
}

/// `JwtAuthLayer` with simplejwt's per-request check: the token's user exists and is active
/// (`user_not_found` / `user_inactive` otherwise), so deactivating a user locks out their
/// still-valid access tokens at once.
fn auth<U: UserStore, R>(
    state: &AppState<U, R>,
) -> JwtAuthLayer<SimpleJwtClaims, DefaultResponder, WithCheck<impl AuthCheck<SimpleJwtClaims>>> {
    let users = state.users.clone();
    JwtAuthLayer::new(state.verifier.clone()).check(move |token: &Verified<SimpleJwtClaims>| {
        let users = users.clone();
        let id = token.user_id.clone();
        async move {
            // The verifier already refused tokens without a usable user id.
            let id = id.ok_or(AuthError::new(AuthErrorKind::MissingUserId))?;
            match users.get(&id).await {
                Ok(Some(user)) if user.is_active => Ok(()),
                Ok(Some(_)) => Err(AuthError::new(AuthErrorKind::UserInactive)),
                Ok(None) => Err(AuthError::new(AuthErrorKind::UserNotFound)),
                Err(e) => {
                    tracing::error!(error = %e, "user store failed");
                    Err(AuthError::new(AuthErrorKind::Internal))
                }
            }
        }
    })
}

// ------------------------------------------------------------------------------------------------
// The page and the API description
// ------------------------------------------------------------------------------------------------

/// The page's Content-Security-Policy: scripts, styles and API calls from this origin only; no
/// inline script, no plugins, no framing.
pub(crate) const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The OpenAPI 3.1 description of this API, served at `/api/schema/`.
pub(crate) const OPENAPI_JSON: &str = include_str!("openapi.json");

/// `/`, its script and style sheet (embedded in the binary: nothing is fetched at run time), and
/// `/api/schema/`.
fn page_routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            static_get("text/html; charset=utf-8", include_str!("web/index.html")),
        )
        .route(
            "/static/app.js",
            static_get("text/javascript; charset=utf-8", include_str!("web/app.js")),
        )
        .route(
            "/static/app.css",
            static_get("text/css; charset=utf-8", include_str!("web/app.css")),
        )
        .route(
            "/static/icon.svg",
            static_get("image/svg+xml", include_str!("web/icon.svg")),
        )
        .route("/api/schema/", static_get("application/json", OPENAPI_JSON))
}

/// A `GET`/`HEAD` route answering a fixed body, with the page's security headers.
fn static_get<S: Clone + Send + Sync + 'static>(
    content_type: &'static str,
    body: &'static str,
) -> MethodRouter<S> {
    get(move || async move {
        (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            body,
        )
    })
    .fallback(|m: Method| async move { compat::method_not_allowed(&m, "GET, HEAD") })
}

// ------------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------------

/// The schedule route's handlers, without authentication (the caller layers it on).
pub(crate) fn schedule_handlers() -> MethodRouter<ScheduleStore> {
    get(get_schedule)
        .post(post_schedule)
        .delete(delete_schedule)
        .options(options_schedule)
        .fallback(|m: Method| async move { compat::method_not_allowed(&m, SCHEDULE_ALLOW) })
}

/// `GET` → `200 {"schedule": {...}}`, `{}` before any `POST`.
async fn get_schedule(
    State(store): State<ScheduleStore>,
    Claims(claims): Claims<SimpleJwtClaims>,
) -> Response {
    let schedule = store.get(claims.user_id.as_str()).await.unwrap_or_default();
    json(StatusCode::OK, &ScheduleBody { schedule })
}

/// `POST {"schedule": {...}}` → replaces the schedule, `201` with the normalised schedule.
async fn post_schedule(
    State(store): State<ScheduleStore>,
    Claims(claims): Claims<SimpleJwtClaims>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match compat::read_body(&headers, body).await {
        Ok(b) => b,
        Err(res) => return res,
    };
    let schedule = match domain::validate_body(&body) {
        Ok(s) => s,
        Err(errors) => return json(StatusCode::BAD_REQUEST, &errors),
    };
    if let Err(e) = store.put(claims.user_id.as_str(), schedule.clone()).await {
        tracing::error!(error = %e, "cannot store a schedule");
        return detail(StatusCode::SERVICE_UNAVAILABLE, "Storage is unavailable.");
    }
    json(StatusCode::CREATED, &ScheduleBody { schedule })
}

/// `DELETE` → clears the schedule, `204`.
async fn delete_schedule(
    State(store): State<ScheduleStore>,
    Claims(claims): Claims<SimpleJwtClaims>,
) -> Response {
    if let Err(e) = store.delete(claims.user_id.as_str()).await {
        tracing::error!(error = %e, "cannot delete a schedule");
        return detail(StatusCode::SERVICE_UNAVAILABLE, "Storage is unavailable.");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `OPTIONS` (authenticated; DRF authenticates `OPTIONS` too) → DRF's metadata.
async fn options_schedule() -> Response {
    compat::view_metadata(
        "Weekly Schedule",
        "The caller's weekly schedule. GET reads it, POST replaces it, DELETE clears it.",
    )
}

/// `GET /healthz` → `200 {"status":"ok"}`.
async fn healthz() -> Response {
    json(StatusCode::OK, &serde_json::json!({"status": "ok"}))
}

#[derive(Serialize)]
struct ScheduleBody {
    schedule: domain::Schedule,
}

// ------------------------------------------------------------------------------------------------
// Request-scoped glue
// ------------------------------------------------------------------------------------------------

/// Hands the peer address (from `into_make_service_with_connect_info`) to the token services'
/// login throttle as a [`ClientAddr`].
fn client_addr(mut req: Request) -> Request {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(ip) = peer {
        req.extensions_mut().insert(ClientAddr(ip));
    }
    req
}

/// The span of a request's log line: method and path (never the query string, which may hold
/// anything), and the user once authenticated ([`log_user`]).
fn request_span<B>(req: &axum::http::Request<B>) -> Span {
    let mut path = req.uri().path();
    if path.len() > 200 {
        let mut cut = 200;
        while !path.is_char_boundary(cut) {
            cut -= 1;
        }
        path = &path[..cut];
    }
    tracing::info_span!(
        target: "schedule_server::http",
        "request",
        method = %req.method(),
        path,
        user = tracing::field::Empty,
    )
}

/// Runs inside `JwtAuthLayer`: the caller's id goes on the request's log line.
fn log_user(req: Request) -> Request {
    if let Some(claims) = req.extensions().get::<Claims<SimpleJwtClaims>>() {
        Span::current().record("user", claims.user_id.as_str());
    }
    req
}

/// One line per request: status, latency and the reason of an authentication failure (the
/// span adds method, path and user). Never a token, password or secret.
fn log_response<B>(res: &axum::http::Response<B>, latency: Duration, _span: &Span) {
    let auth = res
        .extensions()
        .get::<AuthError>()
        .map_or("-", |e| e.kind().reason());
    tracing::info!(
        target: "schedule_server::http",
        status = res.status().as_u16(),
        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        auth,
        "response"
    );
}
