//! axum integration (feature `axum`): [`Claims`] as an extractor, and `IntoResponse` for
//! [`AuthError`] so handlers can reject with simplejwt's bodies too.
//!
//! ```
//! use axum::{Router, routing::get};
//! use tower_jwt_auth::{Claims, JwtAuthLayer, Keys, SimpleJwtClaims};
//!
//! async fn me(Claims(c): Claims<SimpleJwtClaims>) -> String {
//!     format!("user {}", c.user_id)
//! }
//!
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .layer(JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?));
//! # let _ = app;
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```

use std::fmt;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::error::AuthError;
use crate::layer::{Anonymous, Claims};
use crate::layer::{AuthErrorResponder, DefaultResponder};

/// The rejection of [`Claims`]: the layer is not installed (or its `C` differs).
#[derive(Debug, Clone, Copy)]
pub struct MissingClaims {
    type_name: &'static str,
}

impl MissingClaims {
    /// The claims type's name as users write it: this crate's own types by their root path
    /// (`tower_jwt_auth::SimpleJwtClaims`, not the module that defines them), others as
    /// [`std::any::type_name`] gives them.
    fn type_name(&self) -> (&'static str, &'static str) {
        match self.type_name.strip_prefix("tower_jwt_auth::") {
            Some(rest) if !rest.contains('<') => {
                ("tower_jwt_auth::", rest.rsplit("::").next().unwrap_or(rest))
            }
            _ => ("", self.type_name),
        }
    }
}

impl fmt::Display for MissingClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, name) = self.type_name();
        write!(
            f,
            "no claims of type `{prefix}{name}` in the request: is JwtAuthLayer<{prefix}{name}> \
             installed on this route?"
        )
    }
}

impl std::error::Error for MissingClaims {}

impl IntoResponse for MissingClaims {
    fn into_response(self) -> Response {
        tracing::error!(target: "tower_jwt_auth", "{self}");
        let body = format!(
            r#"{{"detail":"Server misconfiguration: {}","code":"server_error"}}"#,
            self.to_string().replace('"', "'").replace('`', "")
        );
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// Extracts the claims that [`JwtAuthLayer`](crate::JwtAuthLayer) verified: `Claims(c):
/// Claims<C>` gives the shared `Arc<C>` (a reference count, never a copy of the claims).
///
/// If the layer is not installed on the route, extraction fails with a 500 and a message saying
/// so: a missing layer is a server bug, never a silent 401. Use `Option<Claims<C>>` with the
/// layer's [optional mode](crate::JwtAuthLayer::optional).
impl<S, C> FromRequestParts<S> for Claims<C>
where
    C: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = MissingClaims;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(MissingClaims {
                type_name: std::any::type_name::<C>(),
            })
    }
}

/// `Option<Claims<C>>`: `None` for a request the layer let through in
/// [optional mode](crate::JwtAuthLayer::optional) without credentials.
impl<S, C> OptionalFromRequestParts<S> for Claims<C>
where
    C: Send + Sync + 'static,
    S: Send + Sync,
{
    type Rejection = MissingClaims;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Self>() {
            Some(c) => Ok(Some(c.clone())),
            None if parts.extensions.get::<Anonymous>().is_some() => Ok(None),
            None => Err(MissingClaims {
                type_name: std::any::type_name::<C>(),
            }),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let res = DefaultResponder::default().respond(&self);
        let (mut parts, body) = res.into_parts();
        parts.extensions.insert(self);
        Response::from_parts(parts, axum_core::body::Body::from(body))
    }
}
