//! Scopes and roles per route (`RequireScope`) as an axum `route_layer` behind `JwtAuthLayer`:
//! a provider token's `scope`, `scp` arrays, Keycloak's realm and client roles, a closure; the
//! 403 `insufficient_scope` answer exactly.

use axum::Router;
use axum::routing::get;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower_jwt_auth::{JwtAuthLayer, Keys, RequireScope, Verifier};

use crate::support::{now, send};

const SECRET: &[u8] = b"scope-test-secret-of-at-least-32-bytes!!";

fn app() -> Router {
    let keys = Keys::hs256(SECRET).expect("key");
    Router::new()
        .route("/read", get(|| async { "read" }))
        .route_layer(RequireScope::<Value>::scopes(["schedule:read"]).expect("scope"))
        .merge(
            Router::new()
                .route("/write", get(|| async { "write" }))
                .route_layer(
                    RequireScope::<Value>::scopes(["schedule:read", "schedule:write"])
                        .expect("scope"),
                ),
        )
        .merge(
            Router::new()
                .route("/admin", get(|| async { "admin" }))
                .route_layer(RequireScope::<Value>::realm_roles(["admin"]).expect("role")),
        )
        .merge(
            Router::new()
                .route("/billing", get(|| async { "billing" }))
                .route_layer(
                    RequireScope::<Value>::client_roles("billing-api", ["invoice:send"])
                        .expect("role"),
                ),
        )
        .merge(
            Router::new()
                .route("/alice", get(|| async { "alice" }))
                .route_layer(
                    RequireScope::<Value>::custom("owner", |c: &Value| c["sub"] == "alice")
                        .expect("custom"),
                ),
        )
        .layer(JwtAuthLayer::<Value>::new(Verifier::jwt(keys)))
}

fn token(extra: Value) -> String {
    let mut claims = json!({ "sub": "bob", "exp": now() + 300, "iat": now() });
    if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
        c.extend(e.clone());
    }
    Keys::hs256(SECRET)
        .expect("key")
        .encode(&claims)
        .expect("sign")
}

async fn call(path: &str, token: Option<&str>) -> crate::support::Reply {
    let mut req = Request::get(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    send(app(), req.body(axum::body::Body::empty()).expect("request")).await
}

fn assert_insufficient(r: &crate::support::Reply, scope: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");
    assert_eq!(
        r.header("www-authenticate"),
        format!(r#"Bearer error="insufficient_scope", scope="{scope}""#)
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.json(),
        json!({
            "detail": "The token does not grant the scope this resource requires.",
            "code": "insufficient_scope",
            "scope": scope,
        })
    );
}

#[tokio::test]
async fn scopes_from_a_scope_string_or_an_scp_array() {
    let read = token(json!({ "scope": "openid schedule:read" }));
    let r = call("/read", Some(&read)).await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "read"));
    assert_insufficient(
        &call("/write", Some(&read)).await,
        "schedule:read schedule:write",
    );

    let scp = token(json!({ "scp": ["schedule:read", "schedule:write"] }));
    assert_eq!(call("/write", Some(&scp)).await.status, StatusCode::OK);
    // A scope that only starts like the one required is not it.
    let near = token(json!({ "scope": "schedule:reader" }));
    assert_insufficient(&call("/read", Some(&near)).await, "schedule:read");
    // No scope claim at all, or one of the wrong type.
    assert_insufficient(
        &call("/read", Some(&token(json!({})))).await,
        "schedule:read",
    );
    assert_insufficient(
        &call("/read", Some(&token(json!({ "scope": 7 })))).await,
        "schedule:read",
    );
    // Without a token the auth layer answers first: 401, not 403.
    assert_eq!(call("/read", None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keycloak_realm_and_client_roles_and_a_closure() {
    let kc = token(json!({
        "realm_access": { "roles": ["user", "admin"] },
        "resource_access": { "billing-api": { "roles": ["invoice:send"] }, "other": { "roles": ["x"] } },
    }));
    assert_eq!(call("/admin", Some(&kc)).await.status, StatusCode::OK);
    assert_eq!(call("/billing", Some(&kc)).await.status, StatusCode::OK);
    let user = token(json!({
        "realm_access": { "roles": ["user"] },
        "resource_access": { "other": { "roles": ["invoice:send"] } },
    }));
    assert_insufficient(&call("/admin", Some(&user)).await, "admin");
    assert_insufficient(&call("/billing", Some(&user)).await, "invoice:send");

    assert_insufficient(&call("/alice", Some(&user)).await, "owner");
    let alice = token(json!({ "sub": "alice" }));
    assert_eq!(call("/alice", Some(&alice)).await.status, StatusCode::OK);
}

#[test]
fn scopes_that_would_break_the_challenge_are_refused() {
    assert!(RequireScope::<Value>::scopes(["a\"b"]).is_err());
    assert!(RequireScope::<Value>::scopes(["a\\b"]).is_err());
    assert!(RequireScope::<Value>::scopes(Vec::<String>::new()).is_err());
    assert!(RequireScope::<Value>::realm_roles(["with space"]).is_err());
    assert!(RequireScope::<Value>::custom("", |_: &Value| true).is_err());
}

#[test]
fn rfc_9068_typ_at_jwt_is_required_when_asked() {
    use tower_jwt_auth::AuthErrorKind;
    let keys = Keys::hs256(SECRET).expect("key");
    let jwt = token(json!({}));
    let strict = Verifier::jwt(keys.clone()).require_at_jwt_typ(true);
    assert_eq!(
        strict
            .verify::<Value>(&jwt)
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(AuthErrorKind::WrongTokenType),
        "typ JWT"
    );
    assert!(
        Verifier::jwt(keys).verify::<Value>(&jwt).is_ok(),
        "off by default"
    );
    for typ in ["at+jwt", "AT+JWT", "application/at+jwt"] {
        let header = crate::support::b64(format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#));
        let payload = crate::support::b64(json!({"sub": "bob", "exp": now() + 300}).to_string());
        let input = format!("{header}.{payload}");
        let sig = crate::support::b64(crate::support::hmac("HS256", SECRET, input.as_bytes()));
        assert!(
            strict.verify::<Value>(&format!("{input}.{sig}")).is_ok(),
            "{typ}"
        );
    }
}

/// RFC 9728: the metadata document served next to the protected routes, exactly.
#[tokio::test]
async fn protected_resource_metadata_is_served_exactly() {
    use tower_jwt_auth::layer::ProtectedResourceMetadata;
    let meta = ProtectedResourceMetadata::new("https://api.example.test/schedule")
        .authorization_server("https://idp.example.test")
        .scopes(["schedule:read", "schedule:write"])
        .name("Schedule API");
    assert_eq!(
        meta.well_known_path(),
        "/.well-known/oauth-protected-resource/schedule"
    );
    let router = app().route_service(&meta.well_known_path(), meta.service());
    let get = |method: &str| {
        Request::builder()
            .method(method)
            .uri("/.well-known/oauth-protected-resource/schedule")
            .body(axum::body::Body::empty())
            .expect("request")
    };
    let r = send(router.clone(), get("GET")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.json(),
        json!({
            "resource": "https://api.example.test/schedule",
            "authorization_servers": ["https://idp.example.test"],
            "scopes_supported": ["schedule:read", "schedule:write"],
            "resource_name": "Schedule API",
            "bearer_methods_supported": ["header"],
        })
    );
    let r = send(router, get("POST")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.header("allow"), "GET, HEAD");
}
