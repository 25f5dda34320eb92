//! axum 0.8: `JwtAuthLayer` on a `Router`, the `Claims<C>` extractor (simplejwt's claims and a
//! custom struct), `Option<Claims<C>>` with the layer's optional mode, a route without the layer
//! (500), `AuthError` as a handler's response, `layer` vs `route_layer`, and a real
//! `axum::serve` on 127.0.0.1 driven by a hyper client.

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tower_jwt_auth::{AuthError, AuthErrorKind, Claims, JwtAuthLayer, SimpleJwtClaims};

use crate::support::transcript as t;
use crate::support::*;

/// The body and challenge of a token rejected as invalid, and as expired.
fn invalid() -> (String, String) {
    rejected("Token is invalid")
}

fn expired() -> (String, String) {
    rejected("Token is expired")
}

fn rejected(message: &str) -> (String, String) {
    (envelope(message), invalid_token_challenge(message))
}

/// A simplejwt access token for `user_id` with these extra claims, expiring `ttl` seconds from now.
fn token_with(user_id: &str, ttl: i64, extra: serde_json::Value) -> String {
    let mut claims = live_claims(user_id, "access", ttl);
    if let (Some(map), serde_json::Value::Object(extra)) = (claims.as_object_mut(), extra) {
        map.extend(extra);
    }
    mint(&claims)
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
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(ref_keys()));
    let custom = Router::new()
        .route("/custom/role", get(role))
        .layer(JwtAuthLayer::<AppClaims>::new(ref_keys()));
    let unprotected = Router::new()
        .route("/forgot-the-layer", get(whoami))
        .route("/forgot-the-layer/maybe", get(maybe));
    protected.merge(custom).merge(unprotected)
}

fn optional_app() -> Router {
    Router::new()
        .route("/maybe", get(maybe))
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(ref_keys()).optional())
}

async fn call_app(app: Router, method: Method, uri: &str, auth: Option<&str>) -> Reply {
    send(app, request(method, uri, auth)).await
}

async fn get_(app: Router, uri: &str, auth: Option<&str>) -> Reply {
    call_app(app, Method::GET, uri, auth).await
}

fn assert_401(a: &Reply, body: &str, challenge: &str) {
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
    assert_401(
        &get_(app(), "/whoami", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
    );
}

#[tokio::test]
async fn expired_token_is_401() {
    let t = token_with("42", -1, serde_json::json!({}));
    let a = get_(app(), "/whoami", Some(&format!("Bearer {t}"))).await;
    let (body, challenge) = expired();
    assert_401(&a, &body, &challenge);
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
    let (body, challenge) = invalid();
    assert_401(&a, &body, &challenge);
}

#[tokio::test]
async fn extracting_another_claims_type_than_the_layer_gives_is_a_500() {
    // /role asks for Claims<AppClaims> but sits behind JwtAuthLayer<SimpleJwtClaims>.
    let t = token_with("7", 300, serde_json::json!({"role": "editor"}));
    let a = get_(app(), "/role", Some(&format!("Bearer {t}"))).await;
    assert_eq!(a.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        a.body,
        r#"{"detail":"Server misconfiguration: no claims of type layer::axum_router::AppClaims in the request: is JwtAuthLayer<layer::axum_router::AppClaims> installed on this route?","code":"server_error"}"#
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
    let (body, challenge) = invalid();
    assert_401(&a, &body, &challenge);
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
        .route_layer(JwtAuthLayer::<SimpleJwtClaims>::new(ref_keys()))
}

fn layered() -> Router {
    Router::new()
        .route("/whoami", get(whoami))
        .route("/public", get(public))
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(ref_keys()))
}

#[tokio::test]
async fn head_goes_through_the_layer() {
    for app in [layered(), route_layered()] {
        let a = call_app(app.clone(), Method::HEAD, "/whoami", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.headers[header::WWW_AUTHENTICATE], MISSING_CHALLENGE);
        assert_eq!(a.body, "", "HEAD has no body");

        let t = format!("Bearer {}", token("4"));
        let a = call_app(app, Method::HEAD, "/whoami", Some(&t)).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body, "");
    }
}

#[tokio::test]
async fn trailing_slash_variants_go_through_the_layer() {
    // The app serves both spellings; both are protected.
    for path in ["/whoami", "/whoami/"] {
        assert_401(
            &get_(app(), path, None).await,
            MISSING_BODY,
            MISSING_CHALLENGE,
        );
        let a = get_(app(), path, Some(&format!("Bearer {}", token("8")))).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.body, "user 8 (access)");
    }
    // With .layer, a spelling the router does not know is still answered by the layer first:
    // unauthenticated clients cannot probe which paths exist.
    assert_401(
        &get_(layered(), "/whoami/", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
    );
    assert_401(
        &get_(layered(), "//whoami", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
    );
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
    assert_401(
        &get_(layered(), "/public", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
    );
    assert_401(
        &get_(layered(), "/no-such-path", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
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
        MISSING_BODY,
        MISSING_CHALLENGE,
    );
    assert_401(
        &call_app(route_layered(), Method::POST, "/whoami", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
    );
    assert_401(
        &get_(route_layered(), "/public", None).await,
        MISSING_BODY,
        MISSING_CHALLENGE,
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
    let a = call_app(route_layered(), Method::DELETE, "/whoami", None).await;
    assert_401(&a, MISSING_BODY, MISSING_CHALLENGE);
    let t = format!("Bearer {}", token("1"));
    let a = call_app(route_layered(), Method::DELETE, "/whoami", Some(&t)).await;
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
    let (invalid_body, _) = invalid();
    let cases: [(Option<&str>, StatusCode, &str); 4] = [
        (None, StatusCode::UNAUTHORIZED, MISSING_BODY),
        (Some(&t), StatusCode::OK, "user 42 (access)"),
        (
            Some("Bearer x.y.z"),
            StatusCode::UNAUTHORIZED,
            &invalid_body,
        ),
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
                    .starts_with(MISSING_CHALLENGE)
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
    let mut claims = live_claims("42", "access", 300);
    claims["user_id"] = 42.into();
    let t = mint(&claims);
    let a = get_(app(), "/whoami", Some(&format!("Bearer {t}"))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "user 42 (access)");
}

#[tokio::test]
async fn a_token_minted_by_django_simplejwt_authenticates() {
    use tower_jwt_auth::{Clock, Verifier};
    // alice's first login in the transcript ("obtain: OK (JSON body)"): the access and refresh
    // tokens the reference Django server signed with its SECRET_KEY, verified at their own iat.
    let (access, refresh) = (t::ACCESS, t::REFRESH);
    let django = |clock: i64| {
        let verifier = Verifier::new(ref_keys()).clock(Clock::fixed(clock));
        Router::new()
            .route("/api/whoami/", get(whoami))
            .layer(JwtAuthLayer::<SimpleJwtClaims>::new(verifier))
    };
    let iat = T_IAT;
    let a = get_(
        django(iat),
        "/api/whoami/",
        Some(&format!("Bearer {access}")),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, "user 1 (access)");
    // Its refresh token is not an access token, exactly as simplejwt answers (transcript).
    let a = get_(
        django(iat),
        "/api/whoami/",
        Some(&format!("Bearer {refresh}")),
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
        Some(&format!("Bearer {access}")),
    )
    .await;
    let (body, challenge) = expired();
    assert_401(&a, &body, &challenge);
}
