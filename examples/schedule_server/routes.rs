//! The HTTP surface: [`app`] builds the whole router from an [`AppState`], so tests drive it
//! in-process with `tower::ServiceExt::oneshot` and `main` serves it.
//!
//! | route | auth | methods |
//! |---|---|---|
//! | `/api/token/`, `/api/token/refresh/`, `/api/token/verify/`, `/api/token/blacklist/` | none | `POST`, `OPTIONS` (the crate's token services, mounted as they are) |
//! | `/api/weekly_schedule/` | `JwtAuthLayer` + user check | `GET`, `POST`, `DELETE`, `HEAD`, `OPTIONS`; others 405 |
//! | `/healthz` | none | `GET`, `HEAD` |
//! | the same paths without the trailing slash | | 301 to the slash form (Django's `APPEND_SLASH`) |
//!
//! Layers, outermost first: one log line per request → request timeout (JSON 408) → catch-panic
//! (JSON 500) → peer address for the login throttle → body limit (JSON 413) → router. On the schedule route: DRF's `Allow`/`Vary` headers → `JwtAuthLayer` (401s,
//! which therefore carry those headers too) → the handlers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, Route, get};
use serde::Serialize;
use tower_jwt_auth::store::{RevocationStore, UserStore};
use tower_jwt_auth::token::{ClientAddr, TokenEndpoints};
use tower_jwt_auth::{AuthError, AuthErrorKind, JwtAuthLayer, SimpleJwtClaims, Verified, Verifier};

use crate::domain::{self, Json};
use crate::storage::ScheduleStore;

/// The schedule route's methods, in the order Django lists them.
pub(crate) const SCHEDULE_ALLOW: &str = "GET, POST, DELETE, HEAD, OPTIONS";

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
    let schedule = schedule_route(&state);
    app_with(state, schedule)
}

/// The whole application around the given `/api/weekly_schedule/` route. The load test
/// (`scripts/load.sh example`) mounts [`schedule_methods`] behind a layer that only inserts fixed
/// claims here, to measure what authentication costs against the very same stack.
pub(crate) fn app_with<U: UserStore, R: RevocationStore>(
    state: AppState<U, R>,
    schedule: MethodRouter<ScheduleStore>,
) -> Router {
    let limit = state.body_limit;
    let timeout = state.request_timeout;
    let tokens = &state.tokens;
    Router::new()
        // The token services are plain tower services: mount them as they are.
        .route_service("/api/token/", tokens.obtain())
        .route_service("/api/token/refresh/", tokens.refresh())
        .route_service("/api/token/verify/", tokens.verify())
        .route_service("/api/token/blacklist/", tokens.blacklist())
        .route("/api/weekly_schedule/", schedule)
        .route(
            "/healthz",
            get(healthz).fallback(|m: Method| async move { method_not_allowed(&m, "GET, HEAD") }),
        )
        .fallback(not_found_or_append_slash)
        .with_state(state.schedules)
        .layer(from_fn(move |req, next| limit_body(limit, req, next)))
        .layer(from_fn(client_addr))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .layer(from_fn(move |req, next| time_limit(timeout, req, next)))
        .layer(from_fn(log_request))
}

/// `/api/weekly_schedule/`: the handlers behind `JwtAuthLayer`, whose user check answers
/// simplejwt's `user_not_found` / `user_inactive`.
fn schedule_route<U: UserStore, R>(state: &AppState<U, R>) -> MethodRouter<ScheduleStore> {
    let users = state.users.clone();
    let auth = JwtAuthLayer::<SimpleJwtClaims>::new(state.verifier.clone()).check(
        move |token: &Verified<SimpleJwtClaims>| {
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
        },
    );
    schedule_methods(auth)
}

/// The schedule route's handlers behind `auth`, which must put the caller's
/// [`SimpleJwtClaims`] in the request extensions (or answer itself).
pub(crate) fn schedule_methods<L>(auth: L) -> MethodRouter<ScheduleStore>
where
    L: tower::Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: tower::Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<Request>>::Response: IntoResponse + 'static,
    <L::Service as tower::Service<Request>>::Future: Send + 'static,
{
    get(get_schedule)
        .post(post_schedule)
        .delete(delete_schedule)
        .options(options_schedule)
        .fallback(|m: Method| async move { method_not_allowed(&m, SCHEDULE_ALLOW) })
        .layer::<_, Infallible>(from_fn(tag_user))
        .layer::<_, Infallible>(auth)
        .layer::<_, Infallible>(map_response(schedule_headers))
}

// ------------------------------------------------------------------------------------------------
// Handlers
// ------------------------------------------------------------------------------------------------

/// `GET` → `200 {"schedule": {...}}`, `{}` before any `POST`.
async fn get_schedule(
    State(store): State<ScheduleStore>,
    Extension(claims): Extension<SimpleJwtClaims>,
) -> Response {
    let schedule = store.get(claims.user_id.as_str()).await.unwrap_or_default();
    json(StatusCode::OK, &ScheduleBody { schedule })
}

/// `POST {"schedule": {...}}` → replaces the schedule, `201` with the normalised schedule.
async fn post_schedule(
    State(store): State<ScheduleStore>,
    Extension(claims): Extension<SimpleJwtClaims>,
    Extension(BodyLimit(limit)): Extension<BodyLimit>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match read_json(&headers, body, limit).await {
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
    Extension(claims): Extension<SimpleJwtClaims>,
) -> Response {
    if let Err(e) = store.delete(claims.user_id.as_str()).await {
        tracing::error!(error = %e, "cannot delete a schedule");
        return detail(StatusCode::SERVICE_UNAVAILABLE, "Storage is unavailable.");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `OPTIONS` (authenticated; DRF authenticates `OPTIONS` too) → DRF's metadata.
async fn options_schedule() -> Response {
    #[derive(Serialize)]
    struct Metadata {
        name: &'static str,
        description: &'static str,
        renders: [&'static str; 1],
        parses: [&'static str; 2],
    }
    json(
        StatusCode::OK,
        &Metadata {
            name: "Weekly Schedule",
            description: "The caller's weekly schedule. GET reads it, POST replaces it, DELETE clears it.",
            renders: ["application/json"],
            parses: ["application/json", "application/x-www-form-urlencoded"],
        },
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
// Request parsing, DRF style
// ------------------------------------------------------------------------------------------------

/// Reads a body as DRF's parsers would for this view: an empty body is `{}`; JSON (including the
/// wildcards `*/*` and `application/*`, which DRF's media-type match lets through) is parsed; a
/// form body gives string fields; anything else is a 415. Django's development server reports
/// a missing `Content-Type` as `text/plain`, and so does this.
async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> Result<Json, Response> {
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => return Err(body_error(&e, limit)),
    };
    if bytes.is_empty() {
        return Ok(Json::Object(Vec::new()));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_else(|| "text/plain".to_owned());
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let (main, sub) = media.split_once('/').unwrap_or((&media, ""));
    let is = |m: &str, s: &str| (main == m || main == "*") && (sub == s || sub == "*");
    if is("application", "json") {
        serde_json::from_slice::<Json>(&bytes)
            .map_err(|e| detail(StatusCode::BAD_REQUEST, &format!("JSON parse error - {e}")))
    } else if is("application", "x-www-form-urlencoded") {
        // Last value wins, as with Django's QueryDict.
        let mut fields: Vec<(String, Json)> = Vec::new();
        for (k, v) in form_urlencoded::parse(&bytes) {
            let v = Json::String(v.into_owned());
            match fields.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => fields.push((k.into_owned(), v)),
            }
        }
        Ok(Json::Object(fields))
    } else {
        Err(detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported media type \"{content_type}\" in request."),
        ))
    }
}

/// A body that could not be read: too large (413) or broken (400).
fn body_error(e: &(dyn std::error::Error + 'static), limit: usize) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return too_large(limit);
        }
        source = err.source();
    }
    detail(
        StatusCode::BAD_REQUEST,
        "The request body could not be read.",
    )
}

/// The token services' wording.
fn too_large(limit: usize) -> Response {
    detail(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("Request body is too large (the limit is {limit} bytes)."),
    )
}

// ------------------------------------------------------------------------------------------------
// Responses, DRF style
// ------------------------------------------------------------------------------------------------

/// Compact JSON, `Content-Type: application/json` (no charset), like DRF's `JSONRenderer`
/// (which also escapes U+2028 and U+2029).
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let text = match serde_json::to_string(body) {
        Ok(t) => t
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut res = Response::new(Body::from(text));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// `{"detail": "..."}`.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response {
    json(status, &serde_json::json!({ "detail": message }))
}

fn method_not_allowed(method: &Method, allow: &'static str) -> Response {
    let mut res = detail(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
    );
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    res
}

/// The headers DRF puts on every response of the view, 401s included.
async fn schedule_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(SCHEDULE_ALLOW));
    h.insert(header::VARY, HeaderValue::from_static("Accept"));
    res
}

/// Unknown paths: Django's `APPEND_SLASH` 301 when the path plus `/` is a route, else DRF's 404.
async fn not_found_or_append_slash(req: Request) -> Response {
    const SLASHED: [&str; 5] = [
        "/api/token",
        "/api/token/refresh",
        "/api/token/verify",
        "/api/token/blacklist",
        "/api/weekly_schedule",
    ];
    let path = req.uri().path();
    if SLASHED.contains(&path) {
        let location = match req.uri().query() {
            Some(q) => format!("{path}/?{q}"),
            None => format!("{path}/"),
        };
        if let Ok(v) = HeaderValue::from_str(&location) {
            let mut res = Response::new(Body::empty());
            *res.status_mut() = StatusCode::MOVED_PERMANENTLY;
            let h = res.headers_mut();
            h.insert(header::LOCATION, v);
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return res;
        }
    }
    detail(StatusCode::NOT_FOUND, "Not found.")
}

pub(crate) fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The payload may hold request data: it is not logged or echoed.
    tracing::error!("a handler panicked");
    detail(
        StatusCode::INTERNAL_SERVER_ERROR,
        "A server error occurred.",
    )
}

// ------------------------------------------------------------------------------------------------
// Middleware
// ------------------------------------------------------------------------------------------------

/// Answers 408 when a request (a slow upload included) takes longer than `timeout`.
async fn time_limit(timeout: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => detail(StatusCode::REQUEST_TIMEOUT, "Request timed out."),
    }
}

/// The request body limit, for handlers that read bodies.
#[derive(Clone, Copy, Debug)]
struct BodyLimit(usize);

/// Refuses bodies over `limit` bytes: at once from `Content-Length`, or while streaming.
async fn limit_body(limit: usize, mut req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    req.extensions_mut().insert(BodyLimit(limit));
    let req = req.map(|b| Body::new(http_body_util::Limited::new(b, limit)));
    next.run(req).await
}

/// Hands the peer address (from `into_make_service_with_connect_info`) to the token services'
/// login throttle as a [`ClientAddr`].
async fn client_addr(mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    if let Some(ip) = peer {
        req.extensions_mut().insert(ClientAddr(ip));
    }
    next.run(req).await
}

/// The authenticated user id, handed from inside the auth layer to the logger.
#[derive(Clone, Debug)]
struct LoggedUser(String);

/// Runs inside `JwtAuthLayer`: copies the caller's id to the response for the log line.
async fn tag_user(req: Request, next: Next) -> Response {
    let user = req
        .extensions()
        .get::<SimpleJwtClaims>()
        .map(|c| LoggedUser(c.user_id.as_str().to_owned()));
    let mut res = next.run(req).await;
    if let Some(user) = user {
        res.extensions_mut().insert(user);
    }
    res
}

/// One line per request: method, path (never the query string), status, latency, user id, and
/// the reason of an authentication failure. Never a token, password or secret.
async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let mut path = req.uri().path().to_owned();
    if path.len() > 200 {
        let mut cut = 200;
        while !path.is_char_boundary(cut) {
            cut -= 1;
        }
        path.truncate(cut);
        path.push('…');
    }
    let res = next.run(req).await;
    let user = res
        .extensions()
        .get::<LoggedUser>()
        .map_or("-", |u| u.0.as_str());
    let auth = res
        .extensions()
        .get::<AuthError>()
        .map_or("-", |e| e.kind().reason());
    tracing::info!(
        target: "schedule_server::http",
        %method,
        path,
        status = res.status().as_u16(),
        latency_us = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        user,
        auth,
        "request"
    );
    res
}
