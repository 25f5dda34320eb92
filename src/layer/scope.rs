//! Per-route scope and role requirements ([`RequireScope`]), after [`JwtAuthLayer`] put the
//! claims in the request: a token without them is answered 403 with an RFC 6750 §3.1
//! `insufficient_scope` challenge and a JSON body.
//!
//! [`JwtAuthLayer`]: crate::JwtAuthLayer
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use serde_json::Value;
//! use tower::{Layer, ServiceExt, service_fn};
//! use tower_jwt_auth::Claims;
//! use tower_jwt_auth::layer::RequireScope;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let svc = RequireScope::<Value>::scopes(["schedule:write"])?.layer(service_fn(
//!     |_req: Request<String>| async { Ok::<_, std::convert::Infallible>(Response::new(String::new())) },
//! ));
//! // What JwtAuthLayer would have inserted: the token's claims.
//! let mut req = Request::new(String::new());
//! let claims = serde_json::json!({"sub": "alice", "scope": "schedule:read"});
//! req.extensions_mut().insert(Claims::new(claims));
//! let res = svc.oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     res.headers()["www-authenticate"],
//!     r#"Bearer error="insufficient_scope", scope="schedule:write""#
//! );
//! # Ok(()) }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use serde_json::Value;
use tower_layer::Layer;
use tower_service::Service;

use super::body::ResponseBody;
use super::claims::Claims;
use super::future::ResponseFuture;
use super::response::{AuthErrorResponder, DefaultResponder};
use crate::error::{AuthError, AuthErrorKind, ConfigError};

type Check<C> = Arc<dyn Fn(&C) -> bool + Send + Sync>;

/// A [`Layer`] requiring the verified claims `C` (in the request extensions, put there by
/// [`JwtAuthLayer`](crate::JwtAuthLayer)) to grant scopes or roles. Use it as an axum
/// `route_layer` or in any tower stack, inside (after) the `JwtAuthLayer`.
///
/// * claims that do not grant it: 403, `WWW-Authenticate: Bearer error="insufficient_scope",
///   scope="…"` (RFC 6750 §3.1) and `{"detail":"…","code":"insufficient_scope","scope":"…"}`;
/// * no claims at all (the auth layer is missing, or let an anonymous request through in
///   optional mode): the auth layer's own 401 for missing credentials.
#[must_use]
pub struct RequireScope<C> {
    check: Check<C>,
    scope: Arc<str>,
    _claims: PhantomData<fn() -> C>,
}

impl<C> Clone for RequireScope<C> {
    fn clone(&self) -> Self {
        Self {
            check: Arc::clone(&self.check),
            scope: Arc::clone(&self.scope),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for RequireScope<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScope")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// RFC 6749 §3.3 scope tokens: `%x21 / %x23-5B / %x5D-7E`, so no quote or backslash can break
/// the challenge.
fn scope_label<I, S>(items: I) -> Result<(Vec<String>, Arc<str>), ConfigError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let items: Vec<String> = items.into_iter().map(Into::into).collect();
    let ok = |s: &String| {
        !s.is_empty()
            && s.bytes()
                .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
    };
    if items.is_empty() || !items.iter().all(ok) {
        return Err(ConfigError::Invalid(
            "scopes and roles must be a non-empty list of RFC 6749 scope tokens".into(),
        ));
    }
    let label = items.join(" ");
    Ok((items, label.into()))
}

/// The strings of a claim that is a space-separated string or an array of strings.
fn granted(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => s.split(' ').filter(|s| !s.is_empty()).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl RequireScope<Value> {
    /// Every one of `scopes` must be granted by the token's `scope` (a space-separated string,
    /// RFC 8693 §4.2 / RFC 9068) or `scp` (an array or a string, as Entra ID and Okta send).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an empty list, or a scope that is not an RFC 6749 scope token.
    pub fn scopes<I, S>(scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (want, label) = scope_label(scopes)?;
        Ok(Self::from_fn(label, move |c: &Value| {
            let mut have = granted(c.get("scope"));
            have.extend(granted(c.get("scp")));
            want.iter().all(|w| have.contains(&w.as_str()))
        }))
    }

    /// Every one of `roles` must be in Keycloak's `realm_access.roles`.
    ///
    /// # Errors
    /// As [`RequireScope::scopes`].
    pub fn realm_roles<I, S>(roles: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (want, label) = scope_label(roles)?;
        Ok(Self::from_fn(label, move |c: &Value| {
            let have = granted(c.pointer("/realm_access/roles"));
            want.iter().all(|w| have.contains(&w.as_str()))
        }))
    }

    /// Every one of `roles` must be in Keycloak's `resource_access.<client>.roles`.
    ///
    /// # Errors
    /// As [`RequireScope::scopes`].
    pub fn client_roles<I, S>(client: impl Into<String>, roles: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let (want, label) = scope_label(roles)?;
        let client = client.into();
        Ok(Self::from_fn(label, move |c: &Value| {
            let have = granted(
                c.get("resource_access")
                    .and_then(|r| r.get(&client))
                    .and_then(|r| r.get("roles")),
            );
            want.iter().all(|w| have.contains(&w.as_str()))
        }))
    }
}

impl<C> RequireScope<C> {
    /// Any requirement on your claims type: `check` says whether the claims grant access;
    /// `scope` is what the challenge names (`scope="…"`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] unless `scope` is a space-separated list of RFC 6749 scope
    /// tokens.
    pub fn custom(
        scope: &str,
        check: impl Fn(&C) -> bool + Send + Sync + 'static,
    ) -> Result<Self, ConfigError> {
        let (_, label) = scope_label(scope.split(' '))?;
        Ok(Self::from_fn(label, check))
    }

    fn from_fn(scope: Arc<str>, check: impl Fn(&C) -> bool + Send + Sync + 'static) -> Self {
        Self {
            check: Arc::new(check),
            scope,
            _claims: PhantomData,
        }
    }

    /// The scope the challenge names.
    pub fn scope(&self) -> &str {
        &self.scope
    }
}

impl<S, C> Layer<S> for RequireScope<C> {
    type Service = RequireScopeService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopeService {
            inner,
            require: self.clone(),
        }
    }
}

/// The service built by [`RequireScope`].
pub struct RequireScopeService<S, C> {
    inner: S,
    require: RequireScope<C>,
}

impl<S: Clone, C> Clone for RequireScopeService<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            require: self.require.clone(),
        }
    }
}

impl<S: fmt::Debug, C> fmt::Debug for RequireScopeService<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScopeService")
            .field("inner", &self.inner)
            .field("require", &self.require)
            .finish()
    }
}

/// The 403 of RFC 6750 §3.1.
fn insufficient(scope: &str) -> Response<Bytes> {
    let body = serde_json::json!({
        "detail": "The token does not grant the scope this resource requires.",
        "code": "insufficient_scope",
        "scope": scope,
    })
    .to_string();
    let mut res = Response::new(Bytes::from(body));
    *res.status_mut() = StatusCode::FORBIDDEN;
    let challenge = format!(r#"Bearer error="insufficient_scope", scope="{scope}""#);
    if let Ok(v) = http::HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    res
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScopeService<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: Send + Sync + 'static,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        match req.extensions().get::<Claims<C>>() {
            Some(claims) if (self.require.check)(claims) => {
                ResponseFuture::future(self.inner.call(req))
            }
            Some(_) => {
                tracing::debug!(target: "tower_jwt_auth", scope = %self.require.scope, "insufficient scope");
                ResponseFuture::rejected(insufficient(&self.require.scope))
            }
            None => ResponseFuture::rejected(
                DefaultResponder::default().respond(&AuthError::new(AuthErrorKind::Missing)),
            ),
        }
    }
}
