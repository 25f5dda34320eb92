//! The endpoint services.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Limited};

use super::issuer::{Issuer, TokenPayload};
use super::parse::{self, ParseFailure};
use super::reply::{self, TokenResponse};
use super::settings::{TokenSettings, VerifyBlacklist};
use super::throttle::{
    Attempt, ClientAddr, ClientAddrSource, Decision, LoginThrottle, MemoryLoginThrottle,
};
use crate::error::{AuthError, AuthErrorKind, ConfigError};
use crate::store::{RevocationStore, Rotation, StoreError, UserStore};
use crate::verify::TokenType;
use crate::verify::Verifier;

/// The boxed future of the token services.
pub type TokenFuture = Pin<Box<dyn Future<Output = Result<TokenResponse, Infallible>> + Send>>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Obtain,
    Refresh,
    Verify,
    Blacklist,
    SlidingObtain,
    SlidingRefresh,
}

impl Endpoint {
    const fn name(self) -> &'static str {
        match self {
            Self::Obtain => "Token Obtain Pair",
            Self::Refresh => "Token Refresh",
            Self::Verify => "Token Verify",
            Self::Blacklist => "Token Blacklist",
            Self::SlidingObtain => "Token Obtain Sliding",
            Self::SlidingRefresh => "Token Refresh Sliding",
        }
    }

    const fn description(self) -> &'static str {
        match self {
            Self::Obtain => {
                "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials."
            }
            Self::Refresh => {
                "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid."
            }
            Self::Verify => {
                "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use."
            }
            Self::Blacklist => {
                "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed."
            }
            Self::SlidingObtain => {
                "Takes a set of user credentials and returns a sliding JSON web token to\nprove the authentication of those credentials."
            }
            Self::SlidingRefresh => {
                "Takes a sliding JSON web token and returns a new, refreshed version if the\ntoken's refresh period has not expired."
            }
        }
    }
}

/// DRF's `SimpleMetadata` description of a serializer field.
fn field_info(name: &str, read_only: bool) -> String {
    let label = name.replace('_', " ");
    let mut chars = label.chars();
    let label: String = chars
        .next()
        .map(|c| {
            c.to_uppercase()
                .chain(chars.flat_map(char::to_lowercase))
                .collect()
        })
        .unwrap_or_default();
    format!(
        r#"{}:{{"type":"string","required":{},"read_only":{},"label":{}}}"#,
        reply::json_str(name),
        !read_only,
        read_only,
        reply::json_str(&label)
    )
}

/// The `actions.POST` object of DRF's OPTIONS response: the serializer's fields in order.
fn post_fields(ep: Endpoint, username_field: &str) -> String {
    let fields = match ep {
        Endpoint::Obtain | Endpoint::SlidingObtain => {
            vec![
                field_info(username_field, false),
                field_info("password", false),
            ]
        }
        Endpoint::Refresh => vec![field_info("refresh", false), field_info("access", true)],
        Endpoint::Blacklist => vec![field_info("refresh", false)],
        Endpoint::Verify | Endpoint::SlidingRefresh => vec![field_info("token", false)],
    };
    format!("{{{}}}", fields.join(","))
}

/// State shared by all services of one [`TokenEndpoints`](super::TokenEndpoints).
pub(crate) struct Shared<U, R> {
    pub(crate) issuer: Issuer,
    pub(crate) users: U,
    pub(crate) revocations: R,
    pub(crate) settings: TokenSettings,
    pub(crate) realm: HeaderValue,
    pub(crate) refresh_v: Verifier,
    pub(crate) blacklist_v: Verifier,
    pub(crate) any_v: Verifier,
    pub(crate) sliding_v: Verifier,
    pub(crate) throttle: Option<Arc<dyn LoginThrottle>>,
    /// Logins past the throttle and not yet answered: bounds the password-hashing queue.
    pub(crate) login_permits: Arc<tokio::sync::Semaphore>,
    /// Whether the "no client address" warning was logged.
    pub(crate) warned_no_addr: AtomicBool,
}

impl<U, R> Shared<U, R> {
    pub(crate) fn new(
        issuer: Issuer,
        users: U,
        revocations: R,
        settings: TokenSettings,
        base: Verifier,
    ) -> Result<Self, ConfigError> {
        let realm = HeaderValue::from_str(&format!("Bearer realm=\"{}\"", settings.realm))
            .ok()
            .filter(|_| {
                !settings
                    .realm
                    .bytes()
                    .any(|b| b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b))
            })
            .ok_or_else(|| {
                ConfigError::Invalid(
                    "realm must be printable ASCII without quotes or backslashes".into(),
                )
            })?;
        if settings.max_pending_logins == 0 {
            return Err(ConfigError::Invalid(
                "max_pending_logins must be at least 1".into(),
            ));
        }
        let throttle = settings.throttle.clone().map(|t| {
            Arc::new(MemoryLoginThrottle::new(t, issuer.clock_ref().clone()))
                as Arc<dyn LoginThrottle>
        });
        if throttle.is_some() {
            warn_about_addresses(&settings.client_addr);
        }
        let login_permits = Arc::new(tokio::sync::Semaphore::new(settings.max_pending_logins));
        Ok(Self {
            refresh_v: base.clone().token_types([TokenType::REFRESH]),
            blacklist_v: base
                .clone()
                .token_types([TokenType::REFRESH])
                .require_user_id(false),
            any_v: base.clone().any_token_type().require_user_id(false),
            sliding_v: base.token_types([TokenType::SLIDING]),
            issuer,
            users,
            revocations,
            settings,
            realm,
            throttle,
            login_permits,
            warned_no_addr: AtomicBool::new(false),
        })
    }
}

/// The start-up warning when the throttle may not see client addresses.
pub(crate) fn warn_about_addresses(source: &ClientAddrSource) {
    match source {
        ClientAddrSource::Unavailable => tracing::warn!(
            "LOGIN THROTTLING CANNOT SEE CLIENT ADDRESSES (TokenSettings::client_addr is \
             Unavailable): failed logins are counted per account only, so per-address limits \
             are off and every client shares each account's delays; see docs/throttling.md"
        ),
        ClientAddrSource::Unspecified => tracing::warn!(
            "login throttling is on but TokenSettings::client_addr is not set: unless the server \
             puts a ClientAddr or SocketAddr into each request's extensions (hyper-util and tonic \
             do not by themselves), failed logins are counted per account only. Set \
             client_addr to ClientAddrSource::Extensions (addresses wired in), TrustedProxy \
             (behind a reverse proxy) or Unavailable"
        ),
        _ => {}
    }
}

macro_rules! services {
    ($($(#[$doc:meta])* $name:ident => $ep:ident,)*) => {$(
        $(#[$doc])*
        pub struct $name<U, R> {
            pub(crate) shared: Arc<Shared<U, R>>,
        }

        impl<U, R> Clone for $name<U, R> {
            fn clone(&self) -> Self {
                Self { shared: Arc::clone(&self.shared) }
            }
        }

        impl<U, R> fmt::Debug for $name<U, R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("settings", &self.shared.settings)
                    .finish_non_exhaustive()
            }
        }

        impl<U, R, B> tower_service::Service<Request<B>> for $name<U, R>
        where
            U: UserStore,
            R: RevocationStore,
            B: Body + Send + 'static,
            B::Data: Send,
            B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        {
            type Response = TokenResponse;
            type Error = Infallible;
            type Future = TokenFuture;

            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
                Poll::Ready(Ok(()))
            }

            fn call(&mut self, req: Request<B>) -> TokenFuture {
                let shared = Arc::clone(&self.shared);
                Box::pin(async move { Ok(handle(&shared, Endpoint::$ep, req).await) })
            }
        }
    )*};
}

services! {
    /// `POST /api/token/`: username and password → `{"refresh":…,"access":…}`
    /// (simplejwt's `TokenObtainPairView`). Throttled; see [`ThrottleSettings`](super::ThrottleSettings).
    TokenObtain => Obtain,
    /// `POST /api/token/refresh/`: `{"refresh":…}` → `{"access":…}` (plus `"refresh"` when
    /// rotating), simplejwt's `TokenRefreshView`.
    TokenRefresh => Refresh,
    /// `POST /api/token/verify/`: `{"token":…}` → `{}` if the token is valid (any type),
    /// simplejwt's `TokenVerifyView`.
    TokenVerify => Verify,
    /// `POST /api/token/blacklist/`: `{"refresh":…}` → `{}`, revoking that refresh token
    /// (simplejwt's `TokenBlacklistView`, the logout endpoint).
    TokenBlacklist => Blacklist,
    /// `POST /api/token/sliding/`: username and password → `{"token":…}`
    /// (simplejwt's `TokenObtainSlidingView`).
    SlidingTokenObtain => SlidingObtain,
    /// `POST /api/token/sliding/refresh/`: `{"token":…}` → `{"token":…}` with the same `jti`
    /// and new `exp`/`iat` (simplejwt's `TokenRefreshSlidingView`).
    SlidingTokenRefresh => SlidingRefresh,
}

/// A store error: input the store refuses (a `jti` it cannot hold) is the client's problem,
/// "Token is invalid"; anything else is ours, a 503.
fn store_failed<U, R>(s: &Shared<U, R>, what: &str, err: &StoreError) -> TokenResponse {
    if matches!(err, StoreError::Invalid(_)) {
        return reply::token_error(&AuthError::new(AuthErrorKind::InvalidClaim), &s.realm);
    }
    tracing::error!(error = %err, "{what} failed");
    reply::unavailable(&s.realm)
}

fn mint_failed<U, R>(s: &Shared<U, R>, err: &ConfigError) -> TokenResponse {
    tracing::error!(error = %err, "signing a token failed");
    reply::unavailable(&s.realm)
}

async fn handle<U, R, B>(s: &Shared<U, R>, ep: Endpoint, req: Request<B>) -> TokenResponse
where
    U: UserStore,
    R: RevocationStore,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let realm = &s.realm;
    if req.method() == Method::OPTIONS {
        let body = format!(
            r#"{{"name":{},"description":{},"renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded","multipart/form-data"],"actions":{{"POST":{}}}}}"#,
            reply::json_str(ep.name()),
            reply::json_str(ep.description()),
            post_fields(ep, &s.settings.username_field),
        );
        return reply::respond(StatusCode::OK, body, realm);
    }
    if req.method() != Method::POST {
        return reply::respond(
            StatusCode::METHOD_NOT_ALLOWED,
            reply::detail(&format!("Method \"{}\" not allowed.", req.method())),
            realm,
        );
    }
    let client = s
        .settings
        .client_addr
        .resolve(req.headers(), req.extensions());
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let max = s.settings.max_body_bytes;
    let too_large = || {
        reply::respond(
            StatusCode::PAYLOAD_TOO_LARGE,
            reply::detail(&format!(
                "Request body is too large (the limit is {max} bytes)."
            )),
            realm,
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return too_large();
    }
    let body: Bytes = match Limited::new(req.into_body(), max).collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return too_large();
            }
            return reply::respond(
                StatusCode::BAD_REQUEST,
                reply::detail("The request body could not be read."),
                realm,
            );
        }
    };
    let data = match parse::parse_body(content_type.as_deref(), &body) {
        Ok(d) => d,
        Err(ParseFailure::Unsupported(t)) => {
            return reply::respond(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                reply::detail(&format!("Unsupported media type \"{t}\" in request.")),
                realm,
            );
        }
        Err(ParseFailure::Detail(m)) => {
            return reply::respond(StatusCode::BAD_REQUEST, reply::detail(&m), realm);
        }
        Err(ParseFailure::NonField(m)) => {
            return reply::respond(StatusCode::BAD_REQUEST, reply::non_field(&m), realm);
        }
    };
    let bad = |errors: String| reply::respond(StatusCode::BAD_REQUEST, errors, realm);
    match ep {
        Endpoint::Obtain | Endpoint::SlidingObtain => {
            let uf = s.settings.username_field.as_str();
            match parse::fields(&data, [uf, "password"]) {
                Ok([username, password]) => obtain(s, ep, &username, &password, client).await,
                Err(e) => bad(e),
            }
        }
        Endpoint::Refresh => match parse::fields(&data, ["refresh"]) {
            Ok([t]) => refresh(s, &t).await,
            Err(e) => bad(e),
        },
        Endpoint::Blacklist => match parse::fields(&data, ["refresh"]) {
            Ok([t]) => blacklist(s, &t).await,
            Err(e) => bad(e),
        },
        Endpoint::Verify => match parse::fields(&data, ["token"]) {
            Ok([t]) => verify(s, &t).await,
            Err(e) => bad(e),
        },
        Endpoint::SlidingRefresh => match parse::fields(&data, ["token"]) {
            Ok([t]) => sliding_refresh(s, &t).await,
            Err(e) => bad(e),
        },
    }
}

const NO_ACCOUNT_CREDENTIALS: &str = "No active account found with the given credentials";
const NO_ACCOUNT_TOKEN: &str = "No active account found for the given token.";

async fn obtain<U: UserStore, R>(
    s: &Shared<U, R>,
    ep: Endpoint,
    username: &str,
    password: &str,
    client: Option<ClientAddr>,
) -> TokenResponse {
    let attempt = Attempt::new(username, client);
    if let Some(t) = &s.throttle {
        if client.is_none()
            && !matches!(s.settings.client_addr, ClientAddrSource::Unavailable)
            && !s.warned_no_addr.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "a login arrived without a client address: login throttling counts failures per \
                 account only (see TokenSettings::client_addr)"
            );
        }
        match t.reserve(&attempt).await {
            Ok(Decision::Allowed) => {}
            Ok(Decision::Denied { retry_after }) => {
                return reply::throttled(i64::try_from(retry_after).unwrap_or(i64::MAX), &s.realm);
            }
            Err(e) => return store_failed(s, "login throttle", &e),
        }
    }
    // Reserved first (cheap), then a place in the bounded hashing queue, refunded if none.
    let Ok(permit) = Arc::clone(&s.login_permits).try_acquire_owned() else {
        refund(s, &attempt).await;
        return reply::login_busy(&s.realm);
    };
    let result = s.users.authenticate(username, password).await;
    drop(permit);
    let user = match result {
        Ok(Some(u)) if u.is_active => u,
        // Ok(None), an inactive user, or input the store refuses (an over-long password): the
        // reservation stands as the failure.
        Ok(_) | Err(StoreError::Invalid(_)) => {
            return reply::respond(
                StatusCode::UNAUTHORIZED,
                reply::detail(NO_ACCOUNT_CREDENTIALS),
                &s.realm,
            );
        }
        Err(e) => {
            refund(s, &attempt).await;
            return store_failed(s, "user authentication", &e);
        }
    };
    if let Some(t) = &s.throttle
        && let Err(e) = t.record_success(&attempt).await
    {
        tracing::error!(error = %e, "login throttle: recording a success failed");
    }
    let body = if ep == Endpoint::SlidingObtain {
        match s.issuer.sliding_for_user(&user) {
            Ok(t) => format!(r#"{{"token":{}}}"#, reply::json_str(&t.token)),
            Err(e) => return mint_failed(s, &e),
        }
    } else {
        match s.issuer.pair_for_user(&user) {
            Ok(p) => format!(
                r#"{{"refresh":{},"access":{}}}"#,
                reply::json_str(&p.refresh.token),
                reply::json_str(&p.access.token)
            ),
            Err(e) => return mint_failed(s, &e),
        }
    };
    reply::respond(StatusCode::OK, body, &s.realm)
}

/// Takes back a reservation whose password was never checked.
async fn refund<U, R>(s: &Shared<U, R>, attempt: &Attempt) {
    if let Some(t) = &s.throttle
        && let Err(e) = t.refund(attempt).await
    {
        tracing::error!(error = %e, "login throttle: a refund failed");
    }
}

fn blacklisted<U, R>(s: &Shared<U, R>) -> TokenResponse {
    reply::token_error(&AuthError::new(AuthErrorKind::Revoked), &s.realm)
}

/// The user named by a refresh or sliding token must exist and be active.
async fn check_user<U: UserStore, R>(
    s: &Shared<U, R>,
    user_id: Option<&crate::verify::UserId>,
) -> Result<(), TokenResponse> {
    let Some(id) = user_id else {
        return Err(reply::token_error(
            &AuthError::new(AuthErrorKind::MissingUserId),
            &s.realm,
        ));
    };
    match s.users.get(id).await {
        Ok(Some(u)) if u.is_active => Ok(()),
        Ok(_) | Err(StoreError::Invalid(_)) => Err(reply::respond(
            StatusCode::UNAUTHORIZED,
            reply::detail(NO_ACCOUNT_TOKEN),
            &s.realm,
        )),
        Err(e) => Err(store_failed(s, "user lookup", &e)),
    }
}

async fn refresh<U: UserStore, R: RevocationStore>(s: &Shared<U, R>, raw: &str) -> TokenResponse {
    let v = match s.refresh_v.verify::<TokenPayload>(raw) {
        Ok(v) => v,
        Err(e) => return reply::token_error(&e, &s.realm),
    };
    let Some(jti) = v.jti.as_deref() else {
        return reply::token_error(&AuthError::new(AuthErrorKind::MissingJti), &s.realm);
    };
    let rotate = s.settings.rotate_refresh_tokens;
    let revoke_old = rotate && s.settings.blacklist_after_rotation;
    let family = revoke_old && s.settings.revoke_family_on_reuse;
    if !family {
        match s.revocations.is_revoked(jti).await {
            Ok(false) => {}
            Ok(true) => return blacklisted(s),
            Err(e) => return store_failed(s, "revocation check", &e),
        }
    }
    if let Err(r) = check_user(s, v.user_id.as_ref()).await {
        return r;
    }
    let access = match s.issuer.access_from_refresh(&v.claims) {
        Ok(a) => a,
        Err(e) => return mint_failed(s, &e),
    };
    if !rotate {
        return reply::respond(
            StatusCode::OK,
            format!(r#"{{"access":{}}}"#, reply::json_str(&access.token)),
            &s.realm,
        );
    }
    let new = match s.issuer.rotate_refresh(&v.claims) {
        Ok(n) => n,
        Err(e) => return mint_failed(s, &e),
    };
    if family {
        match s.revocations.rotate(jti, v.exp, &new.jti, new.exp).await {
            Ok(Rotation::Rotated) => {}
            Ok(Rotation::Reused) => {
                tracing::warn!("reuse of a rotated refresh token: its family is revoked");
                return blacklisted(s);
            }
            Err(e) => return store_failed(s, "refresh rotation", &e),
        }
    } else if revoke_old {
        match s.revocations.revoke_if_absent(jti, v.exp).await {
            Ok(true) => {}
            Ok(false) => return blacklisted(s),
            Err(e) => return store_failed(s, "refresh rotation", &e),
        }
    }
    reply::respond(
        StatusCode::OK,
        format!(
            r#"{{"access":{},"refresh":{}}}"#,
            reply::json_str(&access.token),
            reply::json_str(&new.token)
        ),
        &s.realm,
    )
}

async fn verify<U, R: RevocationStore>(s: &Shared<U, R>, raw: &str) -> TokenResponse {
    let v = match s.any_v.verify::<serde::de::IgnoredAny>(raw) {
        Ok(v) => v,
        Err(e) => return reply::token_error(&e, &s.realm),
    };
    let check = match s.settings.verify_blacklist {
        VerifyBlacklist::SimpleJwt => s.settings.blacklist_after_rotation,
        VerifyBlacklist::Always => true,
        VerifyBlacklist::Never => false,
    };
    if check && let Some(jti) = v.jti.as_deref() {
        match s.revocations.is_revoked(jti).await {
            Ok(false) => {}
            Ok(true) => {
                return reply::respond(
                    StatusCode::BAD_REQUEST,
                    reply::non_field("Token is blacklisted"),
                    &s.realm,
                );
            }
            Err(e) => return store_failed(s, "revocation check", &e),
        }
    }
    reply::respond(StatusCode::OK, "{}".into(), &s.realm)
}

async fn blacklist<U, R: RevocationStore>(s: &Shared<U, R>, raw: &str) -> TokenResponse {
    let v = match s.blacklist_v.verify::<serde::de::IgnoredAny>(raw) {
        Ok(v) => v,
        Err(e) => return reply::token_error(&e, &s.realm),
    };
    let Some(jti) = v.jti.as_deref() else {
        return reply::token_error(&AuthError::new(AuthErrorKind::MissingJti), &s.realm);
    };
    match s.revocations.is_revoked(jti).await {
        Ok(false) => {}
        Ok(true) => return blacklisted(s),
        Err(e) => return store_failed(s, "revocation check", &e),
    }
    match s.revocations.revoke_if_absent(jti, v.exp).await {
        Ok(true) => reply::respond(StatusCode::OK, "{}".into(), &s.realm),
        Ok(false) => blacklisted(s),
        Err(e) => store_failed(s, "revocation", &e),
    }
}

async fn sliding_refresh<U: UserStore, R: RevocationStore>(
    s: &Shared<U, R>,
    raw: &str,
) -> TokenResponse {
    let v = match s.sliding_v.verify::<TokenPayload>(raw) {
        Ok(v) => v,
        Err(e) => return reply::token_error(&e, &s.realm),
    };
    let Some(jti) = v.jti.as_deref() else {
        return reply::token_error(&AuthError::new(AuthErrorKind::MissingJti), &s.realm);
    };
    match s.revocations.is_revoked(jti).await {
        Ok(false) => {}
        Ok(true) => return blacklisted(s),
        Err(e) => return store_failed(s, "revocation check", &e),
    }
    let leeway = i64::try_from(s.settings.leeway).unwrap_or(0);
    match v.refresh_exp {
        None => {
            return reply::token_error(&AuthError::new(AuthErrorKind::MissingRefreshExp), &s.realm);
        }
        Some(t) if t <= s.issuer.now().saturating_sub(leeway) => {
            return reply::token_error(&AuthError::new(AuthErrorKind::RefreshExpired), &s.realm);
        }
        Some(_) => {}
    }
    if let Err(r) = check_user(s, v.user_id.as_ref()).await {
        return r;
    }
    match s.issuer.slide(&v.claims) {
        Ok(t) => reply::respond(
            StatusCode::OK,
            format!(r#"{{"token":{}}}"#, reply::json_str(&t.token)),
            &s.realm,
        ),
        Err(e) => mint_failed(s, &e),
    }
}
