//! axum 0.8: `JwtAuthLayer` on a `Router`, the `Claims<C>` extractor (simplejwt's claims and a
//! custom struct), `Option<Claims<C>>` with the layer's optional mode, a route without the layer
//! (500), `AuthError` as a handler's response, `layer` vs `route_layer`, and a real
//! `axum::serve` on 127.0.0.1 driven by a hyper client.

// The crate docs come before the cfg: with the feature off, an attribute placed after
// `#![cfg(..)]` is dropped with the crate, and `missing_docs` would warn on every plain `cargo test`.
#![cfg(feature = "axum")]

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;
use tower_jwt_auth::{AuthError, AuthErrorKind, Claims, JwtAuthLayer, Keys, SimpleJwtClaims};

const SECRET: &[u8] = b"axum-test-secret-of-at-least-thirty-two-bytes";
const MISSING: &str = r#"{"detail":"Authentication credentials were not provided."}"#;
const INVALID: &str = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#;
const EXPIRED: &str = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is expired"}]}"#;
const CHALLENGE: &str = r#"Bearer realm="api""#;
const CHALLENGE_INVALID: &str =
    r#"Bearer realm="api", error="invalid_token", error_description="Token is invalid""#;

fn keys() -> Keys {
    Keys::hs256(SECRET).expect("test secret is long enough")
}

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

/// A simplejwt access token for `user_id` with these extra claims, expiring `ttl` seconds from now.
fn token_with(user_id: &str, ttl: i64, extra: serde_json::Value) -> String {
    let mut claims = serde_json::json!({
        "token_type": "access",
        "exp": now() + ttl,
        "iat": now() - 5,
        "jti": "0123456789abcdef0123456789abcdef",
        "user_id": user_id,
    });
    if let (Some(map), serde_json::Value::Object(extra)) = (claims.as_object_mut(), extra) {
        map.extend(extra);
    }
    keys().encode(&claims).expect("encode")
}

fn token(user_id: &str) -> String {
    token_with(user_id, 300, serde_json::json!({}))
}

/// An application's own claims type: only what it needs, plus a claim simplejwt does not know.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct AppClaims {
    user_id: String,
    role: String,
}

async fn whoami(Claims(c): Claims<SimpleJwtClaims>) -> String {
    format!("user {} ({})", c.user_id, c.token_type)
}

async fn role(Claims(c): Claims<AppClaims>) -> String {
    format!("user {} is {}", c.user_id, c.role)
}

async fn maybe(claims: Option<Claims<SimpleJwtClaims>>) -> String {
    match claims {
        Some(Claims(c)) => format!("user {}", c.user_id),
        None => "anonymous".to_owned(),
    }
}

/// A handler that rejects with the crate's own error: same body and challenge as the layer.
async fn only_user_1(Claims(c): Claims<SimpleJwtClaims>) -> Result<&'static str, AuthError> {
    if c.user_id.to_string() == "1" {
        Ok("welcome, user 1")
    } else {
        Err(AuthError::new(AuthErrorKind::UserInactive))
    }
}

async fn public() -> &'static str {
    "public"
}

/// Everything behind `.layer(..)`, plus a route merged *after* the layer, so it runs without it.
fn app() -> Router {
    let protected = Router::new()
        .route("/whoami", get(whoami))
        .route("/whoami/", get(whoami))
        .route("/role", get(role))
        .route("/only-1", get(only_user_1))
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys()));
    let custom = Router::new()
        .route("/custom/role", get(role))
        .layer(JwtAuthLayer::<AppClaims>::new(keys()));
    let unprotected = Router::new()
        .route("/forgot-the-layer", get(whoami))
        .route("/forgot-the-layer/maybe", get(maybe));
    protected.merge(custom).merge(unprotected)
}

fn optional_app() -> Router {
    Router::new()
        .route("/maybe", get(maybe))
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys()).optional())
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

async fn call(app: Router, method: Method, uri: &str, auth: Option<&str>) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let res = app
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).expect("utf-8"),
    }
}

async fn get_(app: Router, uri: &str, auth: Option<&str>) -> Answer {
    call(app, Method::GET, uri, auth).await
}

fn assert_401(a: &Answer, body: &str, challenge: &str) {
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);
    assert_eq!(a.body, body);
    assert_eq!(a.headers[header::WWW_AUTHENTICATE], challenge);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/json");
}

// ---- Claims<C> behind .layer -------------------------------------------------------------------

#[tokio::test]
async fn claims_extractor_sees_the_verified_token() {
    let a = get_(app(), "/whoami", Some(&format!("Bearer {}", token("42")))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "user 42 (access)");
}

#[tokio::test]
async fn no_token_is_401_and_the_handler_never_runs() {
    assert_401(&get_(app(), "/whoami", None).await, MISSING, CHALLENGE);
}

#[tokio::test]
async fn expired_token_is_401() {
    let t = token_with("42", -1, serde_json::json!({}));
    let a = get_(app(), "/whoami", Some(&format!("Bearer {t}"))).await;
    assert_401(
        &a,
        EXPIRED,
        r#"Bearer realm="api", error="invalid_token", error_description="Token is expired""#,
    );
}

#[tokio::test]
async fn custom_claims_struct_is_deserialized_from_the_token() {
    let t = token_with("7", 300, serde_json::json!({"role": "editor"}));
    let a = get_(app(), "/custom/role", Some(&format!("Bearer {t}"))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "user 7 is editor");
}

#[tokio::test]
async fn custom_claims_struct_missing_a_field_is_an_invalid_token() {
    // The token verifies, but does not fit AppClaims: an invalid token (401), never a 500.
    let a = get_(
        app(),
        "/custom/role",
        Some(&format!("Bearer {}", token("7"))),
    )
    .await;
    assert_401(&a, INVALID, CHALLENGE_INVALID);
}

#[tokio::test]
async fn extracting_another_claims_type_than_the_layer_gives_is_a_500() {
    // /role asks for Claims<AppClaims> but sits behind JwtAuthLayer<SimpleJwtClaims>.
    let t = token_with("7", 300, serde_json::json!({"role": "editor"}));
    let a = get_(app(), "/role", Some(&format!("Bearer {t}"))).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        a.body,
        r#"{"detail":"Server misconfiguration: no claims of type layer::axum_extractor::AppClaims in the request: is JwtAuthLayer<layer::axum_extractor::AppClaims> installed on this route?","code":"server_error"}"#
    );
}

#[tokio::test]
async fn route_without_the_layer_is_a_500_with_a_clear_message() {
    // Even with a perfectly valid token: a missing layer is a server bug, never a silent 401.
    for auth in [None, Some(format!("Bearer {}", token("42")))] {
        let a = get_(app(), "/forgot-the-layer", auth.as_deref()).await;
        assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(a.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            a.body,
            r#"{"detail":"Server misconfiguration: no claims of type tower_jwt_auth::SimpleJwtClaims in the request: is JwtAuthLayer<tower_jwt_auth::SimpleJwtClaims> installed on this route?","code":"server_error"}"#
        );
        let json: serde_json::Value = serde_json::from_str(&a.body).expect("valid JSON");
        assert_eq!(json["code"], "server_error");
    }
}

#[tokio::test]
async fn optional_claims_without_the_layer_is_a_500_not_anonymous() {
    let a = get_(app(), "/forgot-the-layer/maybe", None).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(a.body.contains("is JwtAuthLayer<"), "{}", a.body);
}

// ---- AuthError as a handler's response ----------------------------------------------------------

#[tokio::test]
async fn handler_returning_auth_error_answers_like_the_layer() {
    let ok = get_(app(), "/only-1", Some(&format!("Bearer {}", token("1")))).await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body, "welcome, user 1");

    let no = get_(app(), "/only-1", Some(&format!("Bearer {}", token("2")))).await;
    assert_eq!(no.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        no.body,
        r#"{"detail":"User is inactive","code":"user_inactive"}"#
    );
    assert_eq!(no.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        no.headers[header::WWW_AUTHENTICATE],
        r#"Bearer realm="api", error="invalid_token", error_description="User is inactive""#
    );
}

// ---- Option<Claims<C>> with .optional() --------------------------------------------------------

#[tokio::test]
async fn optional_mode_anonymous_is_none() {
    let a = get_(optional_app(), "/maybe", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "anonymous");
}

#[tokio::test]
async fn optional_mode_valid_token_is_some() {
    let a = get_(
        optional_app(),
        "/maybe",
        Some(&format!("Bearer {}", token("3"))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "user 3");
}

#[tokio::test]
async fn optional_mode_bad_token_is_still_401() {
    let a = get_(optional_app(), "/maybe", Some("Bearer not-a-jwt")).await;
    assert_401(&a, INVALID, CHALLENGE_INVALID);
    let a = get_(optional_app(), "/maybe", Some("Bearer")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        r#"{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}"#
    );
}

// ---- .layer vs .route_layer ------------------------------------------------------------------

fn route_layered() -> Router {
    Router::new()
        .route("/whoami", get(whoami).post(whoami))
        .route("/public", get(public))
        .route_layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys()))
}

fn layered() -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/public", get(public))
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys()))
}

#[tokio::test]
async fn head_goes_through_the_layer() {
    for app in [layered(), route_layered()] {
        let a = call(app.clone(), Method::HEAD, "/whoami", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.headers[header::WWW_AUTHENTICATE], CHALLENGE);
        assert_eq!(a.body, "", "HEAD has no body");

        let t = format!("Bearer {}", token("4"));
        let a = call(app, Method::HEAD, "/whoami", Some(&t)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body, "");
    }
}

#[tokio::test]
async fn trailing_slash_variants_go_through_the_layer() {
    // The app serves both spellings; both are protected.
    for path in ["/whoami", "/whoami/"] {
        assert_401(&get_(app(), path, None).await, MISSING, CHALLENGE);
        let a = get_(app(), path, Some(&format!("Bearer {}", token("8")))).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.body, "user 8 (access)");
    }
    // With .layer, a spelling the router does not know is still answered by the layer first:
    // unauthenticated clients cannot probe which paths exist.
    assert_401(&get_(layered(), "/whoami/", None).await, MISSING, CHALLENGE);
    assert_401(&get_(layered(), "//whoami", None).await, MISSING, CHALLENGE);
    let a = get_(
        layered(),
        "/whoami/",
        Some(&format!("Bearer {}", token("8"))),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn layer_protects_every_route_and_the_fallback() {
    assert_401(&get_(layered(), "/public", None).await, MISSING, CHALLENGE);
    assert_401(
        &get_(layered(), "/no-such-path", None).await,
        MISSING,
        CHALLENGE,
    );
    let a = get_(
        layered(),
        "/public",
        Some(&format!("Bearer {}", token("1"))),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn route_layer_protects_matched_routes_only() {
    // Matched routes, every method, are behind the layer.
    assert_401(
        &get_(route_layered(), "/whoami", None).await,
        MISSING,
        CHALLENGE,
    );
    assert_401(
        &call(route_layered(), Method::POST, "/whoami", None).await,
        MISSING,
        CHALLENGE,
    );
    assert_401(
        &get_(route_layered(), "/public", None).await,
        MISSING,
        CHALLENGE,
    );
    // Unmatched paths skip it: 404, not 401.
    let a = get_(route_layered(), "/whoami/", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = get_(route_layered(), "/no-such-path", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.headers.get(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn route_layer_covers_the_405_of_a_matched_path() {
    // DELETE on a matched path: the method router's 405 fallback sits behind the layer too, so an
    // anonymous client learns nothing about the allowed methods.
    let a = call(route_layered(), Method::DELETE, "/whoami", None).await;
    assert_401(&a, MISSING, CHALLENGE);
    let t = format!("Bearer {}", token("1"));
    let a = call(route_layered(), Method::DELETE, "/whoami", Some(&t)).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
}

// ---- a real axum::serve ----------------------------------------------------------------------

#[tokio::test]
async fn axum_serve_over_tcp_with_a_hyper_client() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app()).await });

    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);

    let t = format!("Bearer {}", token("42"));
    let cases: [(Option<&str>, StatusCode, &str); 4] = [
        (None, StatusCode::UNAUTHORIZED, MISSING),
        (Some(&t), StatusCode::OK, "user 42 (access)"),
        (Some("Bearer x.y.z"), StatusCode::UNAUTHORIZED, INVALID),
        (Some(&t), StatusCode::OK, "user 42 (access)"),
    ];
    for (auth, status, body) in cases {
        let mut req = Request::get("/whoami")
            .header(header::HOST, "127.0.0.1")
            .body(Empty::<Bytes>::new())
            .expect("request");
        if let Some(a) = auth {
            req.headers_mut().insert(
                header::AUTHORIZATION,
                HeaderValue::from_str(a).expect("ascii"),
            );
        }
        sender.ready().await.expect("keep-alive connection");
        let res = sender.send_request(req).await.expect("response");
        assert_eq!(res.status(), status);
        if status == StatusCode::UNAUTHORIZED {
            assert!(
                res.headers()[header::WWW_AUTHENTICATE]
                    .to_str()
                    .expect("ascii")
                    .starts_with(CHALLENGE)
            );
        }
        let got = res.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(got, body.as_bytes());
    }

    // Two Authorization headers on the wire: 400, not "first wins".
    let mut req = Request::get("/whoami")
        .header(header::HOST, "127.0.0.1")
        .body(Empty::<Bytes>::new())
        .expect("request");
    let v = HeaderValue::from_str(&t).expect("ascii");
    req.headers_mut().append(header::AUTHORIZATION, v.clone());
    req.headers_mut().append(header::AUTHORIZATION, v);
    sender.ready().await.expect("keep-alive connection");
    let res = sender.send_request(req).await.expect("response");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

// ---- tokens as simplejwt mints them ------------------------------------------------------------

#[tokio::test]
async fn numeric_user_id_reaches_the_handler() {
    // simplejwt writes user_id as a string by default, but an integer primary key is common.
    let now = now();
    let t = keys()
        .encode(&serde_json::json!({
            "token_type": "access", "exp": now + 300, "iat": now,
            "jti": "0123456789abcdef0123456789abcdef", "user_id": 42,
        }))
        .expect("encode");
    let a = get_(app(), "/whoami", Some(&format!("Bearer {t}"))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "user 42 (access)");
}

#[tokio::test]
async fn a_token_minted_by_django_simplejwt_authenticates() {
    use tower_jwt_auth::{Clock, Verifier};
    // From /work/shared/simplejwt/transcript.txt (exchange [01], access token of user 'alice'),
    // signed by the reference Django server with its SECRET_KEY. Verified at its own iat.
    const SECRET: &[u8] = b"reference-only-test-secret-key-for-simplejwt-wire-format-probe-0123456789abcdef0123456789abcdef";
    const ACCESS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.3sQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
    const REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTc0MTgxOSwiaWF0IjoxNzk1NjU1NDE5LCJqdGkiOiIyODMxY2UyNGEyOTU0NTQ3YjNhMzA3MDE2YTVkNDMwZSIsInVzZXJfaWQiOiIxIn0.VhfMyWU-4AmJInkYUhzM2YOMcynSLnNg13hMww147s8";
    let django = |clock: i64| {
        let keys = Keys::hs256(SECRET).expect("keys");
        let verifier = Verifier::new(keys).clock(Clock::fixed(clock));
        Router::new()
            .route("/api/whoami/", get(whoami))
            .layer(JwtAuthLayer::<SimpleJwtClaims>::new(verifier))
    };
    let iat = 1_795_655_419;
    let a = get_(
        django(iat),
        "/api/whoami/",
        Some(&format!("Bearer {ACCESS}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, "user 1 (access)");
    // Its refresh token is not an access token, exactly as simplejwt answers (transcript).
    let a = get_(
        django(iat),
        "/api/whoami/",
        Some(&format!("Bearer {REFRESH}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token has wrong type"}]}"#
    );
    // Five minutes later (exp = iat + 300) the access token is expired.
    let a = get_(
        django(iat + 300),
        "/api/whoami/",
        Some(&format!("Bearer {ACCESS}")),
    )
    .await;
    assert_401(
        &a,
        EXPIRED,
        r#"Bearer realm="api", error="invalid_token", error_description="Token is expired""#,
    );
}
