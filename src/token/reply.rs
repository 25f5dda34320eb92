//! Response building for the token views: DRF's framing plus `Cache-Control: no-store`.

use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER, VARY, WWW_AUTHENTICATE,
};
use http::{Response, StatusCode};
use http_body_util::Full;

use crate::error::{AuthError, AuthErrorKind};

/// The response type of every token service.
pub type TokenResponse = Response<Full<Bytes>>;

/// A JSON string literal (serialising a `&str` cannot fail).
pub(crate) fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// `{"detail":"<msg>"}`.
pub(crate) fn detail(msg: &str) -> String {
    format!(r#"{{"detail":{}}}"#, json_str(msg))
}

/// `{"detail":"<msg>","code":"<code>"}`.
pub(crate) fn detail_code(msg: &str, code: &str) -> String {
    format!(
        r#"{{"detail":{},"code":{}}}"#,
        json_str(msg),
        json_str(code)
    )
}

/// `{"non_field_errors":["<msg>"]}`.
pub(crate) fn non_field(msg: &str) -> String {
    format!(r#"{{"non_field_errors":[{}]}}"#, json_str(msg))
}

/// A token-view response: compact JSON, `Allow: POST, OPTIONS`, `Vary: Accept`,
/// `Cache-Control: no-store`, and the `WWW-Authenticate` challenge on a 401.
pub(crate) fn respond(status: StatusCode, body: String, realm: &HeaderValue) -> TokenResponse {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    h.insert(VARY, HeaderValue::from_static("Accept"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(WWW_AUTHENTICATE, realm.clone());
    }
    res
}

/// 429 with `Retry-After` and DRF's throttled body.
pub(crate) fn throttled(retry_after: i64, realm: &HeaderValue) -> TokenResponse {
    let wait = retry_after.max(1);
    let unit = if wait == 1 { "second" } else { "seconds" };
    let mut res = respond(
        StatusCode::TOO_MANY_REQUESTS,
        detail(&format!(
            "Request was throttled. Expected available in {wait} {unit}."
        )),
        realm,
    );
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(wait));
    res
}

/// 503 for a failing store. The store's error is logged, never sent.
pub(crate) fn unavailable(realm: &HeaderValue) -> TokenResponse {
    respond(
        StatusCode::SERVICE_UNAVAILABLE,
        detail_code(
            "Authentication is temporarily unavailable.",
            "service_unavailable",
        ),
        realm,
    )
}

/// 503 at once when the password-hashing queue is full (`TokenSettings::max_pending_logins`).
pub(crate) fn login_busy(realm: &HeaderValue) -> TokenResponse {
    let mut res = respond(
        StatusCode::SERVICE_UNAVAILABLE,
        detail_code(
            "Too many logins in progress; try again shortly.",
            "login_busy",
        ),
        realm,
    );
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// The response for a token the verifier rejected: simplejwt's
/// `{"detail":"<TokenError text>","code":"token_not_valid"}`.
pub(crate) fn token_error(err: &AuthError, realm: &HeaderValue) -> TokenResponse {
    match err.kind() {
        AuthErrorKind::Internal => unavailable(realm),
        kind => {
            let msg = kind.token_message().unwrap_or_else(|| err.detail());
            let code = if kind.token_message().is_some() {
                "token_not_valid"
            } else {
                err.code().unwrap_or("token_not_valid")
            };
            respond(StatusCode::UNAUTHORIZED, detail_code(msg, code), realm)
        }
    }
}
