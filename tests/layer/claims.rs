//! What the layer puts into the request extensions: one shared [`Claims<C>`], the same `Arc` on
//! every cache hit, a fresh one per full verification, and nothing under the bare `C`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tower::Layer;
use tower::ServiceExt;
use tower_jwt_auth::{
    AuthError, AuthErrorKind, Claims, JwtAuthLayer, RequireScope, SimpleJwtClaims, Verified,
};

use crate::support::transcript as t;
use crate::support::*;

type Seen = Arc<Mutex<Vec<Arc<SimpleJwtClaims>>>>;

/// An inner service recording the `Claims<SimpleJwtClaims>` of every request it gets; 500 when
/// the bare `SimpleJwtClaims` is in the extensions too (the layer inserts only `Claims<C>`).
fn recording(
    seen: Seen,
) -> impl tower::Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    tower::service_fn(move |req: Request<String>| {
        let seen = Arc::clone(&seen);
        async move {
            let ext = req.extensions();
            if ext.get::<SimpleJwtClaims>().is_some() {
                let mut res = Response::new("bare C inserted".to_owned());
                *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                return Ok(res);
            }
            let body = match ext.get::<Claims<SimpleJwtClaims>>() {
                Some(c) => {
                    seen.lock().expect("lock").push(Arc::clone(c.as_arc()));
                    format!("user {}", c.user_id)
                }
                None => "no claims".to_owned(),
            };
            Ok(Response::new(body))
        }
    })
}

async fn call<S, B>(svc: &S, token: &str) -> (StatusCode, String)
where
    S: tower::Service<Request<String>, Response = Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body<Data = bytes::Bytes>,
    B::Error: std::fmt::Debug,
{
    let r = send(svc.clone(), bearer(token)).await;
    (r.status, r.body)
}

#[tokio::test]
async fn cache_hits_share_one_claims_value() {
    let seen: Seen = Arc::default();
    let svc = ref_layer().cache(64).layer(recording(Arc::clone(&seen)));
    for _ in 0..3 {
        assert_eq!(
            call(&svc, t::ACCESS).await,
            (StatusCode::OK, "user 1".into())
        );
    }
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 3);
    assert!(Arc::ptr_eq(&seen[0], &seen[1]) && Arc::ptr_eq(&seen[1], &seen[2]));
    // The cache, the two requests still recorded: every holder shares the one value.
    assert!(Arc::strong_count(&seen[0]) >= 4);
    assert_eq!(seen[0].jti, "fac5344d01d34db3b5575d65f5ee8c0f");
}

#[tokio::test]
async fn without_a_cache_each_request_gets_its_own_claims() {
    let seen: Seen = Arc::default();
    let svc = ref_layer().layer(recording(Arc::clone(&seen)));
    for _ in 0..2 {
        assert_eq!(
            call(&svc, t::ACCESS).await,
            (StatusCode::OK, "user 1".into())
        );
    }
    let seen = seen.lock().expect("lock");
    assert!(!Arc::ptr_eq(&seen[0], &seen[1]));
    assert_eq!(*seen[0], *seen[1]);
    // Nothing else holds them once the requests are gone.
    assert_eq!(Arc::strong_count(&seen[0]), 1);
}

#[tokio::test]
async fn with_a_check_and_a_cache_the_check_sees_the_claims_and_the_request_shares_them() {
    let seen: Seen = Arc::default();
    let checked: Arc<Mutex<Vec<String>>> = Arc::default();
    let c2 = Arc::clone(&checked);
    let svc = ref_layer()
        .cache(64)
        .check(move |token: &Verified<SimpleJwtClaims>| {
            c2.lock().expect("lock").push(token.claims.jti.clone());
            let ok = token.claims.user_id.as_str() == "1";
            async move {
                if ok {
                    Ok(())
                } else {
                    Err(AuthError::new(AuthErrorKind::UserNotFound))
                }
            }
        })
        .layer(recording(Arc::clone(&seen)));
    for _ in 0..2 {
        assert_eq!(
            call(&svc, t::ACCESS).await,
            (StatusCode::OK, "user 1".into())
        );
    }
    let (status, body) = call(&svc, t::UNKNOWN_USER).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        r#"{"detail":"User not found","code":"user_not_found"}"#
    );
    assert_eq!(
        checked.lock().expect("lock").len(),
        3,
        "the check runs on every hit"
    );
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 2);
    assert!(Arc::ptr_eq(&seen[0], &seen[1]));
}

#[tokio::test]
async fn require_scope_reads_the_claims_the_layer_inserted() {
    let token = mint(&json!({
        "token_type": "access", "exp": T_EXP, "iat": T_IAT, "jti": "s1", "user_id": "1",
        "scope": "schedule:read",
    }));
    let inner = tower::service_fn(|req: Request<String>| async move {
        let c = req.extensions().get::<Claims<Value>>().expect("claims");
        Ok::<_, Infallible>(Response::new(c["scope"].to_string()))
    });
    let read = JwtAuthLayer::<Value>::new(ref_verifier()).cache(16).layer(
        RequireScope::<Value>::scopes(["schedule:read"])
            .expect("scope")
            .layer(inner),
    );
    let r = send(read, bearer(&token)).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (StatusCode::OK, r#""schedule:read""#)
    );

    let write = JwtAuthLayer::<Value>::new(ref_verifier()).layer(
        RequireScope::<Value>::scopes(["schedule:write"])
            .expect("scope")
            .layer(inner),
    );
    let r = send(write.clone(), bearer(&token)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.header("www-authenticate"),
        r#"Bearer error="insufficient_scope", scope="schedule:write""#
    );
    // The claims inserted by hand, as a layer of your own would: `Claims::new`.
    let mut req = Request::new(String::new());
    req.extensions_mut()
        .insert(Claims::new(json!({"scope": "schedule:write"})));
    let res = RequireScope::<Value>::scopes(["schedule:write"])
        .expect("scope")
        .layer(inner)
        .oneshot(req)
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK);
}
