//! [`JwtAuthLayer`] and the [`JwtAuth`] service it produces: extract the bearer token, verify it
//! synchronously, insert the claims or answer the rejection.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::HeaderName;
use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower_layer::Layer;
use tower_service::Service;

use super::bearer::Extractor;
use super::body::ResponseBody;
use super::cache::{SharedCache, TokenCache};
use super::check::{AuthCheck, NoCheck, WithCheck};
use super::claims::Claims;
use super::future::{CheckedResponseFuture, ResponseFuture};
use super::response::{AuthErrorResponder, DefaultResponder, grpc_response, is_grpc};
use crate::error::{AuthError, AuthErrorKind, ConfigError};
use crate::verify::Verifier;

/// Marker put in the request extensions when the layer runs in [optional
/// mode](JwtAuthLayer::optional) and the request carried no credentials. The axum
/// `Option<Claims<C>>` extractor uses it to tell "anonymous" from "layer missing".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anonymous;

#[derive(Clone, Debug)]
pub(crate) struct Shared {
    pub(crate) verifier: Verifier,
    pub(crate) extractor: Extractor,
    pub(crate) optional: bool,
    pub(crate) realm: Box<str>,
}

impl Shared {
    /// Extract and verify: `Ok(Some(c))` authenticated, `Ok(None)` anonymous (optional mode).
    #[inline]
    pub(crate) fn authenticate<C: DeserializeOwned>(
        &self,
        headers: &http::HeaderMap,
        cache: Option<&TokenCache<C>>,
    ) -> Result<Option<Claims<C>>, AuthError> {
        match self.extractor.extract(headers) {
            Ok(Some(token)) => match cache {
                Some(cache) => cache.verify_claims(token).map(|c| Some(Claims(c))),
                None => self
                    .verifier
                    .verify_claims(token)
                    .map(|c| Some(Claims::new(c))),
            },
            Ok(None) if self.optional => Ok(None),
            Ok(None) => Err(AuthError::new(AuthErrorKind::Missing)),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn reject<R: AuthErrorResponder>(
        &self,
        responder: &R,
        grpc: bool,
        error: AuthError,
    ) -> Response<Bytes> {
        tracing::debug!(
            target: "tower_jwt_auth",
            reason = error.kind().reason(),
            status = error.status().as_u16(),
            jti = error.jti(),
            "request rejected"
        );
        let mut res = if grpc {
            grpc_response(&self.realm, &error)
        } else {
            responder.respond(&error)
        };
        res.extensions_mut().insert(error);
        res
    }
}

/// A [`Layer`] that authenticates every request with a JWT bearer token.
///
/// On success the decoded claims are inserted into the request's extensions as a [`Claims<C>`]
/// (shared, cheap to clone; it dereferences to `C`): in axum take the `Claims<C>` extractor
/// (feature `axum`), elsewhere `req.extensions().get::<Claims<C>>()`. Then the inner service is
/// called. Otherwise the inner service is not called, and the response is
/// built by the responder (simplejwt's JSON 401 by default, a gRPC status for gRPC requests),
/// with the [`AuthError`] in its extensions.
///
/// Defaults: header `Authorization`, scheme `Bearer` matched case-insensitively (RFC 9110 §11.1;
/// simplejwt matches case-sensitively, see [`scheme_case_sensitive`](Self::scheme_case_sensitive)),
/// no cookie, credentials required, realm `api`, and the [`Verifier`] it is given.
///
/// Token policy lives on the [`Verifier`]: [`Verifier::simplejwt`] for simplejwt's tokens (what
/// bare [`Keys`] mean), [`Verifier::jwt`] for any RFC 7519 token of your own,
/// [`Verifier::access_token`] for an identity provider's access tokens; then leeway, audience,
/// issuer, accepted token types, claim names and clock on it. Pass it to [`JwtAuthLayer::new`]
/// (see the example there). Transport options (header, schemes, cookie, optional mode, realm,
/// responder, check) are the builder methods below.
///
/// [`Keys`]: crate::Keys
///
/// ```
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
/// use tower_jwt_auth::{Claims, JwtAuthLayer, Keys, SimpleJwtClaims};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let svc = ServiceBuilder::new()
///     .layer(JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?))
///     .service(service_fn(|req: http::Request<String>| async move {
///         let claims = req.extensions().get::<Claims<SimpleJwtClaims>>().expect("layer ran");
///         let user = &claims.user_id;
///         Ok::<_, std::convert::Infallible>(http::Response::new(format!("hello {user}")))
///     }));
/// let res = svc.oneshot(http::Request::new(String::new())).await?;
/// assert_eq!(res.status(), 401);
/// # Ok(()) }
/// ```
#[must_use]
pub struct JwtAuthLayer<C, R = DefaultResponder, K = NoCheck> {
    shared: Arc<Shared>,
    cache: SharedCache<C>,
    responder: R,
    check: K,
    _claims: PhantomData<fn() -> C>,
}

impl<C, R: Clone, K: Clone> Clone for JwtAuthLayer<C, R, K> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            cache: self.cache.clone(),
            responder: self.responder.clone(),
            check: self.check.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C, R: fmt::Debug, K: fmt::Debug> fmt::Debug for JwtAuthLayer<C, R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuthLayer")
            .field("claims", &std::any::type_name::<C>())
            .field("verifier", &self.shared.verifier)
            .field("extractor", &self.shared.extractor)
            .field("optional", &self.shared.optional)
            .field("cache", &self.cache)
            .field("responder", &self.responder)
            .field("check", &self.check)
            .finish()
    }
}

impl<C> JwtAuthLayer<C> {
    /// A layer verifying with `verifier`, or with just [`Keys`](crate::Keys), which means
    /// [`Verifier::simplejwt`] (simplejwt's access tokens: `token_type`, `jti`, `user_id`).
    ///
    /// ```
    /// use serde::Deserialize;
    /// use tower_jwt_auth::{JwtAuthLayer, Keys, SimpleJwtClaims, Verifier};
    ///
    /// let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
    ///
    /// // simplejwt's tokens: access tokens only, leeway 0, no audience.
    /// let simplejwt = JwtAuthLayer::<SimpleJwtClaims>::new(keys.clone());
    ///
    /// // A token of your own (`sub`, `exp`, `iat`, anything else): your struct, the generic
    /// // policy, tuned: 5 s of clock skew, an audience and an issuer to match.
    /// #[derive(Clone, Deserialize)]
    /// struct MyClaims {
    ///     sub: String,
    /// }
    /// let own = JwtAuthLayer::<MyClaims>::new(
    ///     Verifier::jwt(keys)
    ///         .leeway(5)?
    ///         .audience(["my-api"])
    ///         .issuer(["https://auth.example.com"]),
    /// )
    /// .realm("my-api")?;
    /// # let _ = (simplejwt, own);
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    pub fn new(verifier: impl Into<Verifier>) -> Self {
        Self {
            shared: Arc::new(Shared {
                verifier: verifier.into(),
                extractor: Extractor::default(),
                optional: false,
                realm: "api".into(),
            }),
            cache: None,
            responder: DefaultResponder::default(),
            check: NoCheck,
            _claims: PhantomData,
        }
    }
}

impl<C, K> JwtAuthLayer<C, DefaultResponder, K> {
    /// The realm of the `WWW-Authenticate` challenge (default `api`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for quotes, backslashes or non-printable characters.
    pub fn realm(mut self, realm: &str) -> Result<Self, ConfigError> {
        self.responder = DefaultResponder::with_realm(realm)?;
        self.edit(|s| s.realm = realm.into());
        Ok(self)
    }
}

impl<C, R, K> JwtAuthLayer<C, R, K> {
    fn edit(&mut self, f: impl FnOnce(&mut Shared)) {
        f(Arc::make_mut(&mut self.shared));
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.shared.verifier
    }

    /// Read credentials from this header instead of `Authorization`.
    pub fn header_name(mut self, name: HeaderName) -> Self {
        self.edit(|s| s.extractor.header = name);
        self
    }

    /// The accepted schemes (default `["Bearer"]`; simplejwt's `AUTH_HEADER_TYPES`).
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for an empty list or a scheme that is not an RFC 9110 token.
    pub fn schemes<I, S>(mut self, schemes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let v: Vec<Box<str>> = schemes.into_iter().map(|s| s.into().into()).collect();
        let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if v.is_empty() || v.iter().any(|s| s.is_empty() || !s.bytes().all(tchar)) {
            return Err(ConfigError::Invalid(
                "schemes must be a non-empty list of RFC 9110 tokens".into(),
            ));
        }
        self.edit(|s| s.extractor.schemes = v);
        Ok(self)
    }

    /// Match the scheme case-sensitively, as simplejwt does (`bearer x` then counts as "no
    /// credentials"). Default `false`: RFC 9110 §11.1 makes schemes case-insensitive.
    pub fn scheme_case_sensitive(mut self, yes: bool) -> Self {
        self.edit(|s| s.extractor.case_sensitive = yes);
        self
    }

    /// Also accept the token from this cookie. A request carrying both the header and the cookie
    /// is rejected with 400 (RFC 6750 §2: one method only).
    ///
    /// # ⚠️ Warning
    /// Browsers send cookies on cross-site requests: protect cookie-authenticated, state-changing
    /// routes against CSRF (SameSite=Strict cookies, or a CSRF layer).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        let name: String = name.into();
        self.edit(|s| s.extractor.cookie = Some(name.into()));
        self
    }

    /// Optional mode: a request without credentials passes through with no claims (and an
    /// [`Anonymous`] marker); bad credentials are still rejected.
    pub fn optional(mut self) -> Self {
        self.edit(|s| s.optional = true);
        self
    }

    /// Cache up to `capacity` verified tokens (see [`TokenCache`] for what is re-checked on a
    /// hit: the whole token, `exp`/`nbf`/`iat` with the clock and leeway, and the verifier's
    /// [`RevocationCheck`](crate::RevocationCheck)). Failures are never cached.
    ///
    /// Worth it when clients present the same token many times (an access token is typically
    /// used for minutes): a hit costs a hash, a lock, a compare and a reference count (the
    /// [`Claims<C>`] it inserts shares the cached claims) instead of a full verification. The
    /// costs: memory for up to `capacity` tokens and their claims, and a key removed from the
    /// ring keeps accepting the tokens it signed until they leave the cache or expire (build a
    /// new layer when you retire a key).
    pub fn cache(mut self, capacity: usize) -> Self {
        self.cache = Some(Arc::new(TokenCache::new(
            self.shared.verifier.clone(),
            capacity,
        )));
        self
    }

    /// Use another responder for rejections (see [`AuthErrorResponder`]). gRPC requests
    /// (`content-type: application/grpc…`) still get the built-in gRPC status, never this
    /// responder's response.
    pub fn with_responder<R2: AuthErrorResponder>(self, responder: R2) -> JwtAuthLayer<C, R2, K> {
        JwtAuthLayer {
            shared: self.shared,
            cache: self.cache,
            responder,
            check: self.check,
            _claims: PhantomData,
        }
    }

    /// Run an async check after verification, for example "the user exists and is active". The
    /// check gets the verified token; an `Err` rejects the request with that error. Without a
    /// check the layer never awaits before calling the inner service.
    ///
    /// With a check the inner service must be `Clone`: the ready service moves into the response
    /// future while the check runs, and a clone takes its place. With a [`cache`](Self::cache)
    /// too, a hit hands the check a copy of the claims (the check gets a [`Verified<C>`]; the
    /// request still gets the shared [`Claims<C>`]). See the [`AuthCheck`] docs for an example.
    ///
    /// [`Verified<C>`]: crate::Verified
    pub fn check<K2>(self, check: K2) -> JwtAuthLayer<C, R, WithCheck<K2>>
    where
        K2: AuthCheck<C>,
    {
        JwtAuthLayer {
            shared: self.shared,
            cache: self.cache,
            responder: self.responder,
            check: WithCheck(check),
            _claims: PhantomData,
        }
    }
}

impl<S, C, R: Clone, K: Clone> Layer<S> for JwtAuthLayer<C, R, K> {
    type Service = JwtAuth<S, C, R, K>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtAuth {
            inner,
            state: Arc::new(State {
                shared: Arc::clone(&self.shared),
                cache: self.cache.clone(),
                responder: self.responder.clone(),
                check: self.check.clone(),
            }),
        }
    }
}

/// Everything a [`JwtAuth`] holds besides its inner service, behind one `Arc`: routers clone the
/// service for every request, and one reference count is cheaper than one per field.
struct State<C, R, K> {
    shared: Arc<Shared>,
    cache: SharedCache<C>,
    responder: R,
    check: K,
}

/// The service built by [`JwtAuthLayer`]. See its docs.
pub struct JwtAuth<S, C, R = DefaultResponder, K = NoCheck> {
    inner: S,
    state: Arc<State<C, R, K>>,
}

impl<S: Clone, C, R, K> Clone for JwtAuth<S, C, R, K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            state: Arc::clone(&self.state),
        }
    }
}

impl<S: fmt::Debug, C, R: fmt::Debug, K: fmt::Debug> fmt::Debug for JwtAuth<S, C, R, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("inner", &self.inner)
            .field("claims", &std::any::type_name::<C>())
            .field("optional", &self.state.shared.optional)
            .field("responder", &self.state.responder)
            .field("check", &self.state.check)
            .finish()
    }
}

impl<S, C, R, K> JwtAuth<S, C, R, K> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes `self`, returning the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, C, R, ReqBody, ResBody> Service<Request<ReqBody>> for JwtAuth<S, C, R, NoCheck>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    C: DeserializeOwned + Send + Sync + 'static,
    R: AuthErrorResponder,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let state = &*self.state;
        match state
            .shared
            .authenticate::<C>(req.headers(), state.cache.as_deref())
        {
            Ok(Some(claims)) => {
                req.extensions_mut().insert(claims);
                ResponseFuture::future(self.inner.call(req))
            }
            Ok(None) => {
                req.extensions_mut().insert(Anonymous);
                ResponseFuture::future(self.inner.call(req))
            }
            Err(e) => {
                let grpc = is_grpc(req.headers());
                ResponseFuture::rejected(state.shared.reject(&state.responder, grpc, e))
            }
        }
    }
}

impl<S, C, R, K, ReqBody, ResBody> Service<Request<ReqBody>> for JwtAuth<S, C, R, WithCheck<K>>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    C: DeserializeOwned + Clone + Send + Sync + 'static,
    R: AuthErrorResponder,
    K: AuthCheck<C>,
{
    type Response = Response<ResponseBody<ResBody>>;
    type Error = S::Error;
    type Future = CheckedResponseFuture<S, Request<ReqBody>, K::Future, R>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let grpc = is_grpc(req.headers());
        let state = &*self.state;
        let checked = match state.shared.extractor.extract(req.headers()) {
            Ok(Some(token)) => match &state.cache {
                // The check takes a `Verified<C>`: a hit copies the cached claims for it.
                Some(cache) => cache.verify(token).map(|v| {
                    let claims = Claims(Arc::clone(&v.claims));
                    (state.check.0.check(&v.map(|c| C::clone(&c))), claims)
                }),
                None => state.shared.verifier.verify_bytes::<C>(token).map(|v| {
                    let check = state.check.0.check(&v);
                    (check, Claims::new(v.claims))
                }),
            },
            Ok(None) if state.shared.optional => {
                req.extensions_mut().insert(Anonymous);
                return CheckedResponseFuture::call(self.inner.call(req));
            }
            Ok(None) => Err(AuthError::new(AuthErrorKind::Missing)),
            Err(e) => Err(e),
        };
        match checked {
            Ok((check, claims)) => {
                req.extensions_mut().insert(claims);
                // The inner service was driven to readiness; take it and leave a clone behind
                // (https://docs.rs/tower/latest/tower/trait.Service.html#be-careful-when-cloning-inner-services).
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                CheckedResponseFuture::checking(
                    check,
                    req,
                    inner,
                    Arc::clone(&state.shared),
                    state.responder.clone(),
                    grpc,
                )
            }
            Err(e) => {
                CheckedResponseFuture::rejected(state.shared.reject(&state.responder, grpc, e))
            }
        }
    }
}
