//! Per-request async checks after verification, such as "the user exists and is active"
//! (simplejwt's `user_not_found` / `user_inactive` answers).
//!
//! ```
//! use std::collections::HashSet;
//! use std::sync::Arc;
//! use tower_jwt_auth::{AuthError, AuthErrorKind, JwtAuthLayer, Keys, SimpleJwtClaims, Verified};
//!
//! let active: Arc<HashSet<String>> = Arc::new(["1".to_string()].into());
//! let layer = JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?).check(
//!     move |token: &Verified<SimpleJwtClaims>| {
//!         let ok = token.user_id.as_ref().is_some_and(|id| active.contains(id.as_str()));
//!         async move {
//!             if ok { Ok(()) } else { Err(AuthError::new(AuthErrorKind::UserNotFound)) }
//!         }
//!     },
//! );
//! # let _ = layer;
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```

use std::future::Future;

use crate::error::AuthError;
use crate::verify::Verified;

/// An async check run after a token verified, before the inner service is called.
///
/// Implemented for closures `Fn(&Verified<C>) -> impl Future<Output = Result<(), AuthError>>`.
/// The future must not borrow the token: copy what it needs (the user id) before `async move`.
///
/// ```
/// use std::collections::HashSet;
/// use std::sync::Arc;
/// use tower_jwt_auth::{AuthError, AuthErrorKind, JwtAuthLayer, Keys, SimpleJwtClaims, Verified};
///
/// let active: Arc<HashSet<String>> = Arc::new(["1".to_string()].into());
/// let layer = JwtAuthLayer::<SimpleJwtClaims>::new(Keys::hs256([7u8; 32])?).check(
///     move |token: &Verified<SimpleJwtClaims>| {
///         let ok = token.user_id.as_ref().is_some_and(|id| active.contains(id.as_str()));
///         async move {
///             if ok { Ok(()) } else { Err(AuthError::new(AuthErrorKind::UserNotFound)) }
///         }
///     },
/// );
/// # let _ = layer;
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
pub trait AuthCheck<C>: Clone + Send + Sync + 'static {
    /// The check's future.
    type Future: Future<Output = Result<(), AuthError>> + Send + 'static;

    /// Checks a verified token.
    fn check(&self, token: &Verified<C>) -> Self::Future;
}

impl<C, F, Fut> AuthCheck<C> for F
where
    F: Fn(&Verified<C>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), AuthError>> + Send + 'static,
{
    type Future = Fut;

    fn check(&self, token: &Verified<C>) -> Fut {
        self(token)
    }
}

/// No check: the layer's default, and its fastest path (it never awaits).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCheck;

/// A configured [`AuthCheck`]; see [`JwtAuthLayer::check`](crate::JwtAuthLayer::check).
#[derive(Clone, Copy, Debug, Default)]
pub struct WithCheck<K>(pub(crate) K);
