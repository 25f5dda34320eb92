//! Drop-in JWT authentication for any [tower] stack (axum, tonic, hyper), wire-compatible with
//! Django's `djangorestframework-simplejwt`.
//!
//! # Overview
//!
//! [`JwtAuthLayer<C>`] verifies `Authorization: Bearer <jwt>` on every request, puts the decoded
//! claims into the request's extensions as a [`Claims<C>`] (shared, dereferencing to `C`) and
//! calls your service; anything else gets
//! simplejwt's JSON 401 with an RFC 6750 `WWW-Authenticate` challenge (or a gRPC
//! `UNAUTHENTICATED` status for gRPC requests). Verification is a pure synchronous function
//! ([`Verifier::verify`]) shared by the layer and the token services; the layer never awaits and
//! never boxes.
//!
//! What a token must carry is the [`Verifier`]'s policy: [`Verifier::simplejwt`] for simplejwt's
//! tokens (what `JwtAuthLayer::new(keys)` means), [`Verifier::jwt`] for any RFC 7519 token with
//! your own claims type, [`Verifier::access_token`] for an identity provider's access tokens
//! (RFC 9068). A rejection's [`AuthErrorKind::reason`] (logged by the layer at debug level)
//! says which check failed; the README's troubleshooting section says what to change.
//!
//! # Modules
//!
//! In the order a request meets them:
//!
//! * [`verify`]: the pure core, token → claims or a typed [`AuthError`]: the segments, the
//!   header and its [`Keys`], the registered claims and their checks, the payload decoding.
//! * [`layer`]: the tower glue, [`JwtAuthLayer`] → [`JwtAuth`] → [`future::ResponseFuture`],
//!   with bearer extraction, the [`TokenCache`], the rejection responders and [`AuthCheck`].
//! * `token` (feature `token`): simplejwt's obtain, refresh, verify and blacklist endpoints as
//!   tower services.
//! * `store` (feature `token`): the user and revocation stores behind traits, in memory or in
//!   files.
//! * `password` (feature `token`): argon2id hashing; Django's hashes verified and upgraded.
//! * [`Claims`]: the verified claims in the request extensions; with the `axum` feature (on by
//!   default) also the axum extractor.
//!
//! Errors ([`AuthError`], [`AuthErrorKind`], [`ConfigError`]) sit at the root; every public type
//! is re-exported there too.
//!
//! # Example
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//! use tower_jwt_auth::{Claims, JwtAuthLayer, Keys, SimpleJwtClaims};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
//! let svc = ServiceBuilder::new()
//!     .layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys.clone()))
//!     .service(service_fn(|req: Request<String>| async move {
//!         let claims = req.extensions().get::<Claims<SimpleJwtClaims>>();
//!         let user = claims.map(|c| c.user_id.to_string()).unwrap_or_default();
//!         Ok::<_, std::convert::Infallible>(Response::new(format!("hello, user {user}")))
//!     }));
//!
//! // A token as simplejwt would mint it.
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
//! let token = keys.encode(&serde_json::json!({
//!     "token_type": "access", "exp": now + 300, "iat": now,
//!     "jti": "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", "user_id": "1",
//! }))?;
//!
//! let req = Request::get("/").header("authorization", format!("Bearer {token}")).body(String::new())?;
//! let res = svc.clone().oneshot(req).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//!
//! let res = svc.oneshot(Request::new(String::new())).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="api""#);
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `aws-lc-rs` | yes | AWS-LC for RS/PS/ES/EdDSA verification and signing |
//! | `rust-crypto` | no | pure-Rust RustCrypto backend instead (if both are on, aws-lc-rs is used) |
//! | `axum` | yes | [`Claims`] as an axum extractor and `IntoResponse` for [`AuthError`] (only `axum-core`) |
//! | `token` | yes | the token endpoints (`token`), `password` hashing (argon2id; Django's hashes verified) and the user and revocation stores (`store`) |
//!
//! HS256/384/512 always run on RustCrypto's `hmac` + `sha2` (the fastest here), whichever backend.
//! Building with neither backend is a compile error, never a run-time panic.
//!
//! # Security
//!
//! * The server pins one algorithm per [`Key`]; the token's `alg` only has to match it. `none`,
//!   a public key as an HMAC secret, `jwk`/`jku`/`x5u`/`x5c`/`crit` headers: all rejected, and
//!   nothing is ever fetched because a token says so.
//! * Key selection ([`Keys`]): where keys have a `kid`, a token's `kid` must name one; where no
//!   key has one, the token's `kid` is not used and its `alg` picks the key of that algorithm
//!   (still pinned; two other keys of one algorithm refuse the token rather than guess).
//! * `exp` required; `nbf`, `iat` enforced; leeway 0 by default; claims of the wrong JSON type are
//!   invalid tokens, never "absent"; tokens over 8 KiB rejected before decoding.
//! * Access and refresh tokens are told apart by the `token_type` claim; simplejwt's policy (the
//!   layer's with bare [`Keys`]) accepts only `access`. The generic [`Verifier::jwt`] requires no
//!   type: do not use it for an issuer that mints refresh tokens in the same format.
//! * Two `Authorization` headers are a 400, not "first wins".
//! * Tokens, secrets and passwords never appear in logs, `Debug` output or error bodies.
//!
//! # MSRV
//!
//! Rust 1.88 (jsonwebtoken 11's), raised only with a minor version bump.
//!
//! [tower]: https://docs.rs/tower
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod error;
pub mod layer;
pub mod verify;

#[cfg(feature = "token")]
#[cfg_attr(docsrs, doc(cfg(feature = "token")))]
pub mod password;
#[cfg(feature = "token")]
#[cfg_attr(docsrs, doc(cfg(feature = "token")))]
pub mod store;
#[cfg(feature = "token")]
#[cfg_attr(docsrs, doc(cfg(feature = "token")))]
pub mod token;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
mod axum;

/// Entry points for the fuzz targets in `fuzz/`: not part of the API (feature `fuzzing`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    #![allow(missing_docs)]
    pub use crate::fuzzing::*;
}
#[cfg(feature = "fuzzing")]
mod fuzzing;

/// The verified-token cache (also at [`layer::cache`]).
pub use crate::layer::cache;
/// The layer's response futures (also at [`layer::future`]).
pub use crate::layer::future;

#[cfg(feature = "axum")]
pub use crate::axum::MissingClaims;
pub use crate::error::{AuthError, AuthErrorKind, ConfigError};
#[doc(hidden)]
pub use crate::layer::bearer::bearer_token;
pub use crate::layer::{
    Anonymous, AuthCheck, AuthErrorResponder, Claims, DefaultResponder, JwtAuth, JwtAuthLayer,
    NoCheck, RequireScope, ResponseBody, TokenCache, WithCheck, json_body,
};
pub use crate::verify::{
    Algorithm, Clock, Key, KeySource, Keys, RevocationCheck, SimpleJwtClaims, TokenType, UserId,
    Verified, Verifier,
};
#[cfg(feature = "remote-keys")]
pub use crate::verify::{RemoteKeys, RemoteKeysBuilder, RemoteKeysError};

#[cfg(feature = "token")]
pub use crate::token::{
    ClientAddr, Issuer, TokenEndpoints, TokenPayload, TokenSettings, VerifyBlacklist,
};

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
