//! Rejection responses: simplejwt's JSON bodies with an RFC 6750 challenge by default, your own
//! through [`AuthErrorResponder`] (implemented for closures), gRPC status for gRPC requests.
//!
//! ```
//! use bytes::Bytes;
//! use http::{Response, StatusCode};
//! use tower_jwt_auth::{AuthError, JwtAuthLayer, Keys, SimpleJwtClaims};
//!
//! let layer = JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?)
//!     .with_responder(|err: &AuthError| {
//!         let mut res = Response::new(Bytes::from(format!("denied: {}", err.kind().reason())));
//!         *res.status_mut() = StatusCode::UNAUTHORIZED;
//!         res
//!     });
//! # let _ = layer;
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};

use crate::error::{AuthError, AuthErrorKind, ConfigError};

/// Builds the response for a rejected request.
///
/// Implemented for closures `Fn(&AuthError) -> Response<Bytes> + Clone`. The layer adds the
/// [`AuthError`] to the response's extensions either way. gRPC requests never reach the
/// responder: they get a gRPC status (`grpc-status: 16`, UNAUTHENTICATED) so gRPC clients can
/// read it.
///
/// ```
/// use bytes::Bytes;
/// use http::{Response, StatusCode};
/// use tower_jwt_auth::{AuthError, JwtAuthLayer, Keys, SimpleJwtClaims};
///
/// let layer = JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?)
///     .with_responder(|err: &AuthError| {
///         let mut res = Response::new(Bytes::from(format!("denied: {}", err.kind().reason())));
///         *res.status_mut() = StatusCode::UNAUTHORIZED;
///         res
///     });
/// # let _ = layer;
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
pub trait AuthErrorResponder: Clone {
    /// The response for `error`.
    fn respond(&self, error: &AuthError) -> Response<Bytes>;
}

impl<F> AuthErrorResponder for F
where
    F: Fn(&AuthError) -> Response<Bytes> + Clone,
{
    fn respond(&self, error: &AuthError) -> Response<Bytes> {
        self(error)
    }
}

/// The default responder: simplejwt's bodies and an RFC 6750 challenge.
///
/// | error | status | body |
/// |---|---|---|
/// | no credentials | 401 | `{"detail":"Authentication credentials were not provided."}` |
/// | `Bearer` alone, `Bearer a b` | 401 | `{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}` |
/// | two `Authorization` headers | 400 | `{"detail":…,"code":"invalid_request"}` |
/// | an invalid token | 401 | `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is expired"}]}` |
/// | no user id | 401 | `{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}` |
/// | user checks | 401 | `{"detail":"User not found","code":"user_not_found"}`, `user_inactive`, `password_changed` |
///
/// Every response is `Content-Type: application/json` and carries
/// `WWW-Authenticate: Bearer realm="api"`, extended with `error="invalid_token"` (or
/// `invalid_request`) and `error_description` whenever credentials were presented.
#[derive(Clone, Debug)]
pub struct DefaultResponder {
    // Shared, not boxed: services are cloned per request (axum clones a route's service for
    // every request), and cloning an `Arc` does not allocate.
    realm: Arc<str>,
}

impl Default for DefaultResponder {
    fn default() -> Self {
        Self {
            realm: "api".into(),
        }
    }
}

impl DefaultResponder {
    /// A responder with this realm in its challenge (default `api`, as simplejwt's
    /// `WWW_AUTHENTICATE_REALM`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a realm with quotes, backslashes or non-printable characters.
    pub fn with_realm(realm: impl Into<String>) -> Result<Self, ConfigError> {
        let realm = realm.into();
        if realm
            .bytes()
            .any(|b| b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b))
        {
            return Err(ConfigError::Invalid(
                "realm must be printable ASCII without quotes or backslashes".into(),
            ));
        }
        Ok(Self {
            realm: realm.into(),
        })
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }
}

impl AuthErrorResponder for DefaultResponder {
    fn respond(&self, error: &AuthError) -> Response<Bytes> {
        let mut res = Response::new(Bytes::from(json_body(error)));
        *res.status_mut() = error.status();
        let headers = res.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(&challenge(&self.realm, error)) {
            headers.insert(WWW_AUTHENTICATE, v);
        }
        res
    }
}

/// The `WWW-Authenticate` value for `error`.
pub(crate) fn challenge(realm: &str, error: &AuthError) -> String {
    match error.kind().rfc6750_error() {
        None => format!("Bearer realm=\"{realm}\""),
        Some(code) => format!(
            "Bearer realm=\"{realm}\", error=\"{code}\", error_description=\"{}\"",
            error.detail().replace(['"', '\\'], "'")
        ),
    }
}

/// simplejwt's JSON body for `error`, compact, keys in simplejwt's order (`detail`, `code`,
/// `messages`; inside a message `token_class`, `token_type`, `message`).
pub fn json_body(error: &AuthError) -> String {
    fn q(s: &str) -> String {
        // Serialising a &str cannot fail.
        serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
    }
    let envelope = error.kind().token_message().is_some()
        && error.kind() != AuthErrorKind::MissingUserId
        && !error.accepted_token_types().is_empty();
    if envelope {
        let mut out = String::from(
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":["#,
        );
        for (i, t) in error.accepted_token_types().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&format!(
                r#"{{"token_class":{},"token_type":{},"message":{}}}"#,
                q(&t.class_name()),
                q(t.as_str()),
                q(error.detail())
            ));
        }
        out.push_str("]}");
        out
    } else {
        match error.code() {
            Some(code) => format!(r#"{{"detail":{},"code":{}}}"#, q(error.detail()), q(code)),
            None => format!(r#"{{"detail":{}}}"#, q(error.detail())),
        }
    }
}

/// Whether the request is gRPC (`content-type: application/grpc…`).
#[inline]
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"))
}

/// A trailers-only gRPC response: HTTP 200, `grpc-status: 16` (UNAUTHENTICATED), or 3
/// (INVALID_ARGUMENT) for an ambiguous request, 14 (UNAVAILABLE) for a backend failure.
pub(crate) fn grpc_response(realm: &str, error: &AuthError) -> Response<Bytes> {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = StatusCode::OK;
    let code = match error.kind() {
        AuthErrorKind::MultipleCredentials => "3",
        AuthErrorKind::Internal => "14",
        _ => "16",
    };
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    h.insert("grpc-status", HeaderValue::from_static(code));
    if let Ok(v) = HeaderValue::from_str(&grpc_percent_encode(error.detail())) {
        h.insert("grpc-message", v);
    }
    if let Ok(v) = HeaderValue::from_str(&challenge(realm, error)) {
        h.insert(WWW_AUTHENTICATE, v);
    }
    res
}

/// gRPC's percent-encoding of `grpc-message` (everything outside printable ASCII and `%`).
fn grpc_percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::TokenType;
    use std::sync::Arc;

    #[test]
    fn envelope_shape() {
        let types: Arc<[TokenType]> = Arc::from([TokenType::ACCESS]);
        let err = AuthError::new(AuthErrorKind::Expired).with_accepted(&types);
        assert_eq!(
            json_body(&err),
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is expired"}]}"#
        );
    }
}
