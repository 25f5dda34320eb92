//! simplejwt's token endpoints as tower services: obtain, refresh, verify, blacklist, and the
//! sliding-token pair, wire-compatible with `djangorestframework-simplejwt` 5.5.1.
//!
//! Each endpoint is a leaf [`tower_service::Service`] over `http::Request<B>` for any body `B`,
//! with `Error = Infallible`, so it mounts in axum with `route_service`, in hyper directly, or
//! behind any tower middleware. [`TokenEndpoints`] bundles them over one [`Issuer`], one
//! [`UserStore`] and one [`RevocationStore`].
//!
//! # Example
//!
//! ```
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//! use tower_jwt_auth::store::{RevocationStore, Rotation, StoreError, User, UserStore};
//! use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
//! use tower_jwt_auth::{Keys, UserId};
//!
//! // A toy user store; use the crate's stores or your database in real code.
//! #[derive(Clone)]
//! struct OneUser;
//! impl UserStore for OneUser {
//!     async fn authenticate(&self, u: &str, p: &str) -> Result<Option<User>, StoreError> {
//!         Ok((u == "alice" && p == "wonderland-42").then(alice))
//!     }
//!     async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
//!         Ok((id.as_str() == "1").then(alice))
//!     }
//! }
//! fn alice() -> User {
//!     User { id: UserId::from("1"), username: "alice".into(), is_active: true,
//!            password_hash: String::new(), extra_claims: Default::default() }
//! }
//! #[derive(Clone)]
//! struct NoRevocations;
//! impl RevocationStore for NoRevocations {
//!     async fn is_revoked(&self, _: &str) -> Result<bool, StoreError> { Ok(false) }
//!     async fn revoke_if_absent(&self, _: &str, _: i64) -> Result<bool, StoreError> { Ok(true) }
//!     async fn rotate(&self, _: &str, _: i64, _: &str, _: i64) -> Result<Rotation, StoreError> {
//!         Ok(Rotation::Rotated)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let issuer = Issuer::new(Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?)?;
//! let endpoints = TokenEndpoints::new(issuer, OneUser, NoRevocations, TokenSettings::default())?;
//! // With axum: Router::new().route_service("/api/token/", endpoints.obtain()) and so on.
//!
//! let req = Request::post("/api/token/")
//!     .header("content-type", "application/json")
//!     .body(r#"{"username":"alice","password":"wonderland-42"}"#.to_string())?;
//! let res = endpoints.obtain().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.headers()["cache-control"], "no-store");
//! # Ok(()) }
//! ```
//!
//! # Settings
//!
//! | simplejwt setting | here | default |
//! |---|---|---|
//! | `ACCESS_TOKEN_LIFETIME` | [`Issuer::access_token_lifetime`] | 5 minutes |
//! | `REFRESH_TOKEN_LIFETIME` | [`Issuer::refresh_token_lifetime`] | 1 day |
//! | `SLIDING_TOKEN_LIFETIME` | [`Issuer::sliding_token_lifetime`] | 5 minutes |
//! | `SLIDING_TOKEN_REFRESH_LIFETIME` | [`Issuer::sliding_token_refresh_lifetime`] | 1 day |
//! | `SIGNING_KEY`, `ALGORITHM` | the [`Keys`](crate::Keys) given to [`Issuer::new`] | — |
//! | `AUDIENCE`, `ISSUER` | [`Issuer::audience`], [`Issuer::issuer`] (checked on decode too) | none |
//! | `LEEWAY` | [`TokenSettings::leeway`] | 0 |
//! | `ROTATE_REFRESH_TOKENS` | [`TokenSettings::rotate_refresh_tokens`] | `false` |
//! | `BLACKLIST_AFTER_ROTATION` | [`TokenSettings::blacklist_after_rotation`] | `false` |
//! | `WWW_AUTHENTICATE_REALM` | [`TokenSettings::realm`] | `api` |
//! | `USER_ID_FIELD`/`USERNAME_FIELD` | [`User::id`](crate::store::User::id), [`TokenSettings::username_field`] | `username` |
//! | `USER_AUTHENTICATION_RULE` | `User::is_active` must be `true` | — |
//! | `TOKEN_OBTAIN_SERIALIZER` `get_token` override | [`User::extra_claims`](crate::store::User::extra_claims), [`Issuer::claims`] | none |
//! | (blacklist app installed) | always: the [`RevocationStore`] | — |
//! | (beyond simplejwt) | [`TokenSettings::revoke_family_on_reuse`] | `true` |
//! | (beyond simplejwt) | [`TokenSettings::verify_blacklist`] | [`VerifyBlacklist::SimpleJwt`] |
//! | (beyond simplejwt) | [`TokenSettings::max_body_bytes`] | 16 KiB |
//! | (beyond simplejwt) | [`TokenSettings::throttle`] | [`ThrottleSettings::default`] |
//!
//! # Wire behaviour
//!
//! Bodies are parsed as DRF does: JSON, form-urlencoded and multipart (text fields); any other
//! `Content-Type` gets 415 `{"detail":"Unsupported media type \"text/plain\" in request."}`;
//! malformed JSON gets 400 `{"detail":"JSON parse error - …"}` with CPython's message; a JSON
//! non-object gets 400 `{"non_field_errors":["Invalid data. Expected a dictionary, but got
//! list."]}`; field errors follow DRF's `CharField` (required, blank, null, not a string; numbers
//! are coerced to strings; surrounding whitespace is trimmed from the username *and* the password).
//! Every response is compact JSON with `Content-Type: application/json`, `Allow: POST, OPTIONS`,
//! `Vary: Accept` and `Cache-Control: no-store`; every 401 carries `WWW-Authenticate: Bearer
//! realm="api"`. Other methods get 405 `{"detail":"Method \"GET\" not allowed."}`; `OPTIONS`
//! gets 200 with DRF's metadata body.
//!
//! Where simplejwt 5.5.1 answers 500 (a refresh token of a deleted user, a refresh token without
//! `jti`), these services answer 401. Nothing a client sends causes a 5xx; only a failing store
//! or signer gives a 503 (logged, never described in the body).
//!
//! # Rotation
//!
//! With `rotate_refresh_tokens` and `blacklist_after_rotation`, a refresh revokes the presented
//! token and issues a new one in one atomic [`RevocationStore::rotate`]: of N concurrent
//! refreshes with one token exactly one succeeds. A token presented again after its rotation is
//! a reuse (RFC 9700 §4.14): it is rejected with 401 "Token is blacklisted" and, with
//! `revoke_family_on_reuse` (the default), every token descended from the same login is revoked,
//! including the one the legitimate winner got.
//!
//! # Throttling
//!
//! Login attempts are reserved before the password is checked, atomically, and counted per
//! username and client address, per client address, and per username ([`ClientAddr`], from
//! [`TokenSettings::client_addr`]); past a per-address limit ([`ThrottleSettings`]) the obtain
//! endpoints answer 429 `{"detail":"Request was throttled. Expected available in N
//! seconds."}` with `Retry-After: N`, before any password is checked. The per-username limit
//! delays rather than blocks. At most [`TokenSettings::max_pending_logins`] logins wait for the
//! password hash; more get 503 `login_busy` at once. A shared throttle implements
//! [`LoginThrottle`].
//!
//! [`UserStore`]: crate::store::UserStore
//! [`RevocationStore`]: crate::store::RevocationStore
//! [`RevocationStore::rotate`]: crate::store::RevocationStore::rotate

mod issuer;
pub(crate) mod parse;
mod reply;
mod service;
mod settings;
mod throttle;

use std::sync::Arc;

pub use self::issuer::{ClaimsHook, IssuedToken, Issuer, TokenPair, TokenPayload, new_jti};
pub use self::parse::body_field;
pub use self::reply::TokenResponse;
pub use self::service::{
    SlidingTokenObtain, SlidingTokenRefresh, TokenBlacklist, TokenFuture, TokenObtain,
    TokenRefresh, TokenVerify,
};
pub use self::settings::{TokenSettings, VerifyBlacklist};
pub use self::throttle::{
    Attempt, ClientAddr, ClientAddrSource, Decision, LoginThrottle, MemoryLoginThrottle,
    ThrottleFuture, ThrottleSettings,
};

use self::service::Shared;
use crate::error::ConfigError;
use crate::store::{RevocationStore, UserStore};
use crate::verify::Verifier;

/// The token endpoints over one issuer, user store and revocation store. Cheap to clone; the
/// services it hands out share its state (including the login throttle).
pub struct TokenEndpoints<U, R> {
    shared: Arc<Shared<U, R>>,
}

impl<U, R> Clone for TokenEndpoints<U, R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<U, R> std::fmt::Debug for TokenEndpoints<U, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenEndpoints")
            .field("issuer", &self.shared.issuer)
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl<U: UserStore, R: RevocationStore> TokenEndpoints<U, R> {
    /// Endpoints decoding with a [`Verifier`] over the issuer's keys, clock, audience and issuer.
    ///
    /// # Errors
    /// [`ConfigError`] for a leeway above the cap or a realm with quotes or control characters.
    pub fn new(
        issuer: Issuer,
        users: U,
        revocations: R,
        settings: TokenSettings,
    ) -> Result<Self, ConfigError> {
        let mut base = Verifier::new(issuer.keys().clone())
            .clock(issuer.clock_ref().clone())
            .leeway(settings.leeway)?;
        if let Some(aud) = issuer.audience_value() {
            base = base.audience([aud]);
        }
        if let Some(iss) = issuer.issuer_value() {
            base = base.issuer([iss]);
        }
        Self::with_verifier(issuer, users, revocations, settings, base)
    }

    /// As [`TokenEndpoints::new`], decoding with `verifier`'s keys and policy (its token types
    /// are replaced per endpoint). Use it to accept tokens of retired keys during a key rotation.
    ///
    /// # Errors
    /// As [`TokenEndpoints::new`].
    pub fn with_verifier(
        issuer: Issuer,
        users: U,
        revocations: R,
        settings: TokenSettings,
        verifier: Verifier,
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            shared: Arc::new(Shared::new(issuer, users, revocations, settings, verifier)?),
        })
    }

    /// Counts logins in `throttle` (a shared one, for several processes) instead of the
    /// in-memory throttle of [`TokenSettings::throttle`]. Call it before handing out services
    /// or cloning the endpoints.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] if services or clones of these endpoints already exist.
    pub fn with_login_throttle(
        mut self,
        throttle: impl LoginThrottle,
    ) -> Result<Self, ConfigError> {
        let shared = Arc::get_mut(&mut self.shared).ok_or_else(|| {
            ConfigError::Invalid(
                "with_login_throttle must be called before services are handed out".into(),
            )
        })?;
        if shared.throttle.is_none() {
            service::warn_about_addresses(&shared.settings.client_addr);
        }
        shared.throttle = Some(Arc::new(throttle));
        Ok(self)
    }

    /// `POST /api/token/`.
    pub fn obtain(&self) -> TokenObtain<U, R> {
        TokenObtain {
            shared: Arc::clone(&self.shared),
        }
    }

    /// `POST /api/token/refresh/`.
    pub fn refresh(&self) -> TokenRefresh<U, R> {
        TokenRefresh {
            shared: Arc::clone(&self.shared),
        }
    }

    /// `POST /api/token/verify/`.
    pub fn verify(&self) -> TokenVerify<U, R> {
        TokenVerify {
            shared: Arc::clone(&self.shared),
        }
    }

    /// `POST /api/token/blacklist/`.
    pub fn blacklist(&self) -> TokenBlacklist<U, R> {
        TokenBlacklist {
            shared: Arc::clone(&self.shared),
        }
    }

    /// `POST /api/token/sliding/` (path of your choice).
    pub fn sliding_obtain(&self) -> SlidingTokenObtain<U, R> {
        SlidingTokenObtain {
            shared: Arc::clone(&self.shared),
        }
    }

    /// `POST /api/token/sliding/refresh/` (path of your choice).
    pub fn sliding_refresh(&self) -> SlidingTokenRefresh<U, R> {
        SlidingTokenRefresh {
            shared: Arc::clone(&self.shared),
        }
    }

    /// The issuer.
    pub fn issuer(&self) -> &Issuer {
        &self.shared.issuer
    }

    /// The settings.
    pub fn settings(&self) -> &TokenSettings {
        &self.shared.settings
    }
}
