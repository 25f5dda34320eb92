//! [`Claims`]: what [`JwtAuthLayer`](crate::JwtAuthLayer) puts into the request extensions.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The verified claims of a request, shared: [`JwtAuthLayer<C>`](crate::JwtAuthLayer) inserts a
/// `Claims<C>` into the request's extensions, and every reader gets the same `C` behind an
/// [`Arc`]. Cloning it (an axum extractor, a middleware, a [`TokenCache`](crate::TokenCache) hit)
/// is a reference-count increment, never a copy of the claims.
///
/// It dereferences to `C`: `claims.user_id` reads a field. In axum it is the extractor
/// (feature `axum`), `Claims(c): Claims<C>` giving the `Arc<C>`; anywhere else (tonic, hyper, a
/// tower service) read it from the extensions:
///
/// ```
/// use tower_jwt_auth::{Claims, SimpleJwtClaims};
///
/// fn user(req: &http::Request<()>) -> Option<String> {
///     let claims = req.extensions().get::<Claims<SimpleJwtClaims>>()?;
///     Some(claims.user_id.to_string())
/// }
/// # let mut req = http::Request::new(());
/// # let c: SimpleJwtClaims = serde_json::from_value(serde_json::json!({
/// #     "token_type": "access", "exp": 2, "iat": 1, "jti": "j", "user_id": "7"}))?;
/// # req.extensions_mut().insert(Claims::new(c));
/// # assert_eq!(user(&req).as_deref(), Some("7"));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// The owned `C`, if you need one: [`Claims::into_inner`] (no copy when this is the last
/// reference).
pub struct Claims<C>(pub Arc<C>);

impl<C> Claims<C> {
    /// Claims holding `claims` (tests, or a layer of your own that authenticates differently).
    pub fn new(claims: C) -> Self {
        Self(Arc::new(claims))
    }

    /// The shared claims.
    pub fn as_arc(&self) -> &Arc<C> {
        &self.0
    }

    /// The claims, owned: moved out when this is the only reference, else cloned.
    pub fn into_inner(self) -> C
    where
        C: Clone,
    {
        Arc::unwrap_or_clone(self.0)
    }
}

impl<C> Clone for Claims<C> {
    #[inline]
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<C> Deref for Claims<C> {
    type Target = C;
    #[inline]
    fn deref(&self) -> &C {
        &self.0
    }
}

impl<C> AsRef<C> for Claims<C> {
    fn as_ref(&self) -> &C {
        &self.0
    }
}

impl<C> From<C> for Claims<C> {
    fn from(claims: C) -> Self {
        Self::new(claims)
    }
}

impl<C> From<Arc<C>> for Claims<C> {
    fn from(claims: Arc<C>) -> Self {
        Self(claims)
    }
}

impl<C: fmt::Debug> fmt::Debug for Claims<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Claims").field(&*self.0).finish()
    }
}

/// Serializes as `C` does (so `Json(claims)` answers the claims themselves).
impl<C: serde::Serialize> serde::Serialize for Claims<C> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (*self.0).serialize(serializer)
    }
}

impl<C: PartialEq> PartialEq for Claims<C> {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

impl<C: Eq> Eq for Claims<C> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_and_into_inner_moves_the_last() {
        let a = Claims::new(vec![String::from("x")]);
        let b = a.clone();
        assert!(Arc::ptr_eq(a.as_arc(), b.as_arc()));
        assert_eq!(Arc::strong_count(&a.0), 2);
        assert_eq!(a.len(), 1, "derefs to C");
        drop(b);
        let ptr = a[0].as_ptr();
        let owned = a.into_inner();
        assert_eq!(
            owned[0].as_ptr(),
            ptr,
            "the last reference moves out, no copy"
        );
        let c = Claims::from(Arc::new(5));
        assert_eq!(format!("{c:?}"), "Claims(5)");
        assert_eq!(c, Claims::new(5));
        assert_eq!(
            serde_json::to_string(&Claims::new(vec![1, 2])).expect("json"),
            "[1,2]"
        );
    }
}
