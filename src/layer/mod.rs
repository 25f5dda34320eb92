//! The tower glue: [`JwtAuthLayer`] builds the [`JwtAuth`] service, whose
//! [`future::ResponseFuture`] either calls your service or answers the rejection.
//!
//! On each request [`JwtAuth`] finds the token (the `Authorization: Bearer` header, optionally a
//! cookie), verifies it synchronously with the [`Verifier`](crate::Verifier) (or a
//! [`TokenCache`] in front of it), inserts the claims into the request's extensions as a shared
//! [`Claims<C>`] and calls the inner service; on failure it answers with the
//! [`AuthErrorResponder`]'s response (simplejwt's JSON 401 and an RFC 6750 challenge by
//! default). An optional async [`AuthCheck`] runs after verification ("the user still exists").
//!
//! | file | what |
//! |---|---|
//! | `service.rs` | [`JwtAuthLayer`], [`JwtAuth`], [`Anonymous`] |
//! | `future.rs` | the response futures (no boxing) |
//! | `bearer.rs` | finding the token in the headers |
//! | `cache.rs` | [`TokenCache`] |
//! | `check.rs` | [`AuthCheck`], [`NoCheck`], [`WithCheck`] |
//! | `claims.rs` | [`Claims`]: the verified claims in the request extensions |
//! | `metadata.rs` | [`ProtectedResourceMetadata`]: the RFC 9728 document and its service |
//! | `scope.rs` | [`RequireScope`]: per-route scopes and roles, 403 `insufficient_scope` |
//! | `response.rs` | [`AuthErrorResponder`], [`DefaultResponder`], gRPC answers |
//! | `body.rs` | [`ResponseBody`] |
//!
//! ```
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//! use tower_jwt_auth::layer::JwtAuthLayer;
//! use tower_jwt_auth::{Keys, SimpleJwtClaims};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let svc = ServiceBuilder::new()
//!     .layer(JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?))
//!     .service(service_fn(|_req: Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(Response::new(String::new()))
//!     }));
//! let res = svc.oneshot(Request::new(String::new())).await?;
//! assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
//! # Ok(()) }
//! ```

pub(crate) mod bearer;
mod body;
pub mod cache;
mod check;
mod claims;
pub mod future;
mod metadata;
pub(crate) mod response;
mod scope;
mod service;

pub use self::body::ResponseBody;
pub use self::cache::TokenCache;
pub use self::check::{AuthCheck, NoCheck, WithCheck};
pub use self::claims::Claims;
pub use self::metadata::{MetadataService, ProtectedResourceMetadata};
pub use self::response::{AuthErrorResponder, DefaultResponder, json_body};
pub use self::scope::{RequireScope, RequireScopeService};
pub use self::service::{Anonymous, JwtAuth, JwtAuthLayer};
