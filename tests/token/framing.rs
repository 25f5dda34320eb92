//! HTTP framing of the token services beyond the transcript: content types, body limits, DRF
//! field errors, methods, hostile input (never a 5xx), simplejwt's 500s answered as 401s, store
//! failures, and a real axum server.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::Ordering;

use http::{Request, StatusCode};
use tower_jwt_auth::token::{TokenSettings, VerifyBlacklist};

use crate::support::*;

#[tokio::test]
async fn unsupported_media_types_are_415() {
    let env = env(TokenSettings::default()).await;
    for (ct, want) in [
        (
            Some("text/plain"),
            r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
        ),
        (
            Some("application/xml; charset=utf-8"),
            r#"{"detail":"Unsupported media type \"application/xml; charset=utf-8\" in request."}"#,
        ),
        (
            None,
            r#"{"detail":"Unsupported media type \"\" in request."}"#,
        ),
    ] {
        let res = login(&env, post(ct, ALICE_LOGIN)).await;
        assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(res.body, want);
    }
    // JSON with parameters and in other letter cases is JSON.
    let res = login(
        &env,
        post(Some("Application/JSON; charset=utf-8"), ALICE_LOGIN),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn bodies_over_16_kib_are_413() {
    let env = env(TokenSettings::default()).await;
    let big = format!(
        r#"{{"username":"alice","password":"{}"}}"#,
        "x".repeat(17 * 1024)
    );
    // Without a Content-Length (the body is counted as it streams).
    let res = login(&env, json(&big)).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        res.body,
        r#"{"detail":"Request body is too large (the limit is 16384 bytes)."}"#
    );
    // With a Content-Length that says so, before reading anything.
    let req = Request::post("/")
        .header("content-type", "application/json")
        .header("content-length", "1000000")
        .body(String::new())
        .unwrap();
    let res = login(&env, req).await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit is parsed normally.
    let ok = format!(
        r#"{{"username":"alice","password":"wonderland-42","pad":"{}"}}"#,
        "x".repeat(16_000)
    );
    assert!(ok.len() <= 16 * 1024);
    assert_eq!(login(&env, json(&ok)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn form_and_multipart_bodies_are_parsed() {
    let env = env(TokenSettings::default()).await;
    let form = Some("application/x-www-form-urlencoded");
    let res = login(
        &env,
        post(form, "username=+alice+&password=wonderland%2D42"),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = login(&env, post(form, "username=alice")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body, r#"{"password":["This field is required."]}"#);
    let res = login(&env, post(form, "username=&password=x")).await;
    assert_eq!(res.body, r#"{"username":["This field may not be blank."]}"#);

    let body = "--b0undary\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nalice\r\n--b0undary\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nwonderland-42\r\n--b0undary--\r\n";
    let res = login(
        &env,
        post(Some("multipart/form-data; boundary=b0undary"), body),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = login(&env, post(Some("multipart/form-data"), body)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.body
            .starts_with(r#"{"detail":"Multipart form parse error - "#),
        "{}",
        res.body
    );
}

#[tokio::test]
async fn malformed_fields_get_drf_field_errors() {
    let env = env(TokenSettings::default()).await;
    env.users.add("4711", "12345", true).await;
    let cases: &[(&str, StatusCode, &str)] = &[
        (
            r#"{"username":true,"password":{}}"#,
            StatusCode::BAD_REQUEST,
            r#"{"username":["Not a valid string."],"password":["Not a valid string."]}"#,
        ),
        (
            r#"{"username":["alice"],"password":"x"}"#,
            StatusCode::BAD_REQUEST,
            r#"{"username":["Not a valid string."]}"#,
        ),
        (
            r#"{"username":"   ","password":"\t"}"#,
            StatusCode::BAD_REQUEST,
            r#"{"username":["This field may not be blank."],"password":["This field may not be blank."]}"#,
        ),
        (
            r#"{"username":"a\u0000b","password":"x"}"#,
            StatusCode::BAD_REQUEST,
            r#"{"username":["Null characters are not allowed."]}"#,
        ),
        (
            "null",
            StatusCode::BAD_REQUEST,
            r#"{"non_field_errors":["No data provided"]}"#,
        ),
        (
            r#""alice""#,
            StatusCode::BAD_REQUEST,
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}"#,
        ),
        (
            "1.5",
            StatusCode::BAD_REQUEST,
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got float."]}"#,
        ),
        (
            "7",
            StatusCode::BAD_REQUEST,
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got int."]}"#,
        ),
        (
            "true",
            StatusCode::BAD_REQUEST,
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got bool."]}"#,
        ),
        (
            "",
            StatusCode::BAD_REQUEST,
            r#"{"username":["This field is required."],"password":["This field is required."]}"#,
        ),
        (
            "   ",
            StatusCode::BAD_REQUEST,
            r#"{"detail":"JSON parse error - Expecting value: line 1 column 4 (char 3)"}"#,
        ),
        (
            "{\"username\":\"alice\",\n\"password\" \"x\"}",
            StatusCode::BAD_REQUEST,
            r#"{"detail":"JSON parse error - Expecting ':' delimiter: line 2 column 12 (char 32)"}"#,
        ),
        (
            r#"{"username":"alice","password":"x"} trailing"#,
            StatusCode::BAD_REQUEST,
            r#"{"detail":"JSON parse error - Extra data: line 1 column 37 (char 36)"}"#,
        ),
        // Numbers are coerced to strings.
        (r#"{"username":4711,"password":12345}"#, StatusCode::OK, ""),
        // Non-ASCII is fine and not escaped in errors.
        (
            r#"{"username":"ünïcödé","password":"x"}"#,
            StatusCode::UNAUTHORIZED,
            r#"{"detail":"No active account found with the given credentials"}"#,
        ),
    ];
    for (body, status, want) in cases {
        let res = login(&env, json(body)).await;
        assert_eq!(res.status, *status, "{body}: {}", res.body);
        if !want.is_empty() {
            assert_eq!(res.body, *want, "{body}");
        }
    }
    // Bytes that are not UTF-8.
    let req = Request::post("/")
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"{\"username\":\"\xff\"}",
        )))
        .unwrap();
    let res = send(env.endpoints.obtain(), req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        res.body,
        r#"{"detail":"JSON parse error - 'utf-8' codec can't decode byte 0xff in position 13: invalid start byte"}"#
    );
}

#[tokio::test]
async fn hostile_json_never_5xx() {
    let env = env(TokenSettings::default()).await;
    for body in [
        "[".repeat(10_000),
        "{\"a\":".repeat(3000),
        format!(r#"{{"username":"{}","password":1e400}}"#, "\\ud800"),
        r#"{"username":"\ud800","password":"x"}"#.to_owned(),
        r#"{"refresh":NaN}"#.to_owned(),
    ] {
        for svc in 0..3 {
            let req = json(&body);
            let res = match svc {
                0 => send(env.endpoints.obtain(), req).await,
                1 => send(env.endpoints.refresh(), req).await,
                _ => send(env.endpoints.verify(), req).await,
            };
            assert!(
                res.status.is_client_error(),
                "{}: {}",
                &body[..20.min(body.len())],
                res.status
            );
            let _ = res.json();
            assert_framing(&res);
        }
    }
}

#[tokio::test]
async fn other_methods_are_405_and_options_describes_the_view() {
    let env = env(TokenSettings::default()).await;
    for m in ["GET", "PUT", "DELETE", "PATCH", "HEAD"] {
        let req = Request::builder()
            .method(m)
            .uri("/")
            .body(String::new())
            .unwrap();
        let res = send(env.endpoints.refresh(), req).await;
        assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            res.body,
            format!(r#"{{"detail":"Method \"{m}\" not allowed."}}"#)
        );
        assert_framing(&res);
    }
    let req = Request::options("/").body(String::new()).unwrap();
    let res = send(env.endpoints.obtain(), req).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_framing(&res);
    let v = res.json();
    assert_eq!(v["name"], "Token Obtain Pair");
    assert_eq!(v["parses"][0], "application/json");
    assert!(res.body.ends_with(
        r#""actions":{"POST":{"username":{"type":"string","required":true,"read_only":false,"label":"Username"},"password":{"type":"string","required":true,"read_only":false,"label":"Password"}}}}"#
    ), "{}", res.body);
    let req = Request::options("/").body(String::new()).unwrap();
    let res = send(env.endpoints.refresh(), req).await;
    assert!(res.body.ends_with(
        r#""actions":{"POST":{"refresh":{"type":"string","required":true,"read_only":false,"label":"Refresh"},"access":{"type":"string","required":false,"read_only":true,"label":"Access"}}}}"#
    ), "{}", res.body);
}

/// A refresh request for a token with this raw payload, signed with the reference secret.
fn minted_refresh(payload: &str) -> Request<String> {
    refresh_req(&mint_raw(payload))
}

/// Refresh requests simplejwt answers with a 500 (an unhandled exception) are 401s here.
#[tokio::test]
async fn simplejwt_500s_are_401s() {
    let env = env(TokenSettings::default()).await;
    let exp = T_IAT + 100;
    let cases = [
        // 1. refresh token of a non-existent user.
        (
            format!(
                r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"jti":"00000000000000000000000000000001","user_id":"999999"}}"#
            ),
            r#"{"detail":"No active account found for the given token."}"#,
        ),
        // 2. refresh token without jti.
        (
            format!(r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"user_id":"1"}}"#),
            r#"{"detail":"Token has no id","code":"token_not_valid"}"#,
        ),
        // 3. a user_id that is not a number.
        (
            format!(
                r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"jti":"00000000000000000000000000000002","user_id":"abc"}}"#
            ),
            r#"{"detail":"No active account found for the given token."}"#,
        ),
        // A user_id of the wrong JSON type, or none.
        (
            format!(
                r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"jti":"00000000000000000000000000000003","user_id":[1]}}"#
            ),
            r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#,
        ),
        (
            format!(
                r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"jti":"00000000000000000000000000000004"}}"#
            ),
            r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#,
        ),
        // A jti that is not a string.
        (
            format!(
                r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"jti":5,"user_id":"1"}}"#
            ),
            r#"{"detail":"Token is invalid","code":"token_not_valid"}"#,
        ),
    ];
    for (payload, want) in cases {
        let res = send(env.endpoints.refresh(), minted_refresh(&payload)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{payload}");
        assert_eq!(res.body, want, "{payload}");
        assert_framing(&res);
    }
    // Legacy integer user ids still work (as the layer accepts them), at refresh.
    let payload = format!(
        r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"jti":"00000000000000000000000000000005","user_id":1}}"#
    );
    let res = send(env.endpoints.refresh(), minted_refresh(&payload)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // Blacklist of a token without jti: 401 too.
    let payload = format!(r#"{{"token_type":"refresh","exp":{exp},"iat":{T_IAT},"user_id":"1"}}"#);
    let res = send(env.endpoints.blacklist(), minted_refresh(&payload)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token has no id","code":"token_not_valid"}"#
    );
}

#[tokio::test]
async fn deleted_and_deactivated_users_cannot_refresh() {
    let env = env(TokenSettings::default()).await;
    let pair = login(&env, json(ALICE_LOGIN)).await;
    let body = refresh_body(&pair.token("refresh"));
    env.users.set_active("1", false).await;
    let res = send(env.endpoints.refresh(), json(&body)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"No active account found for the given token."}"#
    );
    env.users.remove("1").await;
    let res = send(env.endpoints.refresh(), json(&body)).await;
    assert_eq!(
        res.body,
        r#"{"detail":"No active account found for the given token."}"#
    );
    // Verify checks no user (simplejwt).
    let res = send(env.endpoints.verify(), token_req(&pair.token("refresh"))).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn store_failures_are_503_json() {
    let env = env(TokenSettings::default()).await;
    let pair = login(&env, json(ALICE_LOGIN)).await;
    env.users.fail.store(true, Ordering::SeqCst);
    let res = login(&env, json(ALICE_LOGIN)).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        res.body,
        r#"{"detail":"Authentication is temporarily unavailable.","code":"service_unavailable"}"#
    );
    let res = send(env.endpoints.refresh(), refresh_req(&pair.token("refresh"))).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn the_verify_blacklist_setting_decides_what_verify_checks() {
    let mut s = TokenSettings::default();
    s.verify_blacklist = VerifyBlacklist::Always;
    let env1 = env(s).await;
    let pair = login(&env1, json(ALICE_LOGIN)).await;
    let refresh = pair.token("refresh");
    let res = send(env1.endpoints.blacklist(), refresh_req(&refresh)).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "{}"));
    let res = send(env1.endpoints.verify(), token_req(&refresh)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body, r#"{"non_field_errors":["Token is blacklisted"]}"#);

    let mut s = TokenSettings::rotating();
    s.verify_blacklist = VerifyBlacklist::Never;
    let env = env(s).await;
    let pair = login(&env, json(ALICE_LOGIN)).await;
    let refresh = pair.token("refresh");
    send(env.endpoints.blacklist(), refresh_req(&refresh)).await;
    let res = send(env.endpoints.verify(), token_req(&refresh)).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "{}"));
}

#[tokio::test]
async fn rotation_without_blacklist_keeps_the_old_token_valid() {
    let mut s = TokenSettings::default();
    s.rotate_refresh_tokens = true;
    let env = env(s).await;
    let pair = login(&env, json(ALICE_LOGIN)).await;
    let body = refresh_body(&pair.token("refresh"));
    for _ in 0..2 {
        let res = send(env.endpoints.refresh(), json(&body)).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(res.body.starts_with(r#"{"access":"#) && res.body.contains(r#","refresh":"#));
    }
}

#[tokio::test]
async fn refresh_token_field_is_trimmed_and_typed() {
    let env = env(TokenSettings::default()).await;
    let pair = login(&env, json(ALICE_LOGIN)).await;
    let res = send(
        env.endpoints.refresh(),
        json(&format!(r#"{{"refresh":"  {}\n"}}"#, pair.token("refresh"))),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let res = send(env.endpoints.refresh(), json(r#"{"refresh":null}"#)).await;
    assert_eq!(res.body, r#"{"refresh":["This field may not be null."]}"#);
    let res = send(env.endpoints.refresh(), json(r#"{"refresh":12}"#)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token is invalid","code":"token_not_valid"}"#
    );
    let res = send(env.endpoints.verify(), token_req(&"a".repeat(9000))).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token is invalid","code":"token_not_valid"}"#
    );
}

/// Mounted in axum with `route_service`, over a real socket, with the client address copied
/// from `ConnectInfo`.
#[tokio::test]
async fn axum_route_service_over_tcp() {
    use axum::extract::{ConnectInfo, Request as AxRequest};
    use std::net::SocketAddr;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tower_jwt_auth::ClientAddr;

    let env = env(TokenSettings::default()).await;
    let e = &env.endpoints;
    let app = axum::Router::new()
        .route_service("/api/token/", e.obtain())
        .route_service("/api/token/refresh/", e.refresh())
        .route_service("/api/token/verify/", e.verify())
        .route_service("/api/token/blacklist/", e.blacklist())
        .layer(axum::middleware::map_request(
            |ConnectInfo(addr): ConnectInfo<SocketAddr>, mut req: AxRequest| async move {
                req.extensions_mut().insert(ClientAddr(addr.ip()));
                req
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    async fn raw(addr: SocketAddr, path: &str, body: &str) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    let ok = raw(addr, "/api/token/", ALICE_LOGIN).await;
    assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
    assert!(
        ok.contains("\r\ncontent-type: application/json\r\n"),
        "{ok}"
    );
    assert!(ok.contains("\r\ncache-control: no-store\r\n"), "{ok}");
    // 20 failures from this client over different usernames: the next is throttled by address.
    for i in 0..20 {
        let r = raw(
            addr,
            "/api/token/",
            &format!(r#"{{"username":"u{i}","password":"x"}}"#),
        )
        .await;
        assert!(r.starts_with("HTTP/1.1 401 "), "{i}: {r}");
    }
    let r = raw(
        addr,
        "/api/token/",
        r#"{"username":"someone-else","password":"x"}"#,
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 429 "), "{r}");
    assert!(r.contains("\r\nretry-after: 300\r\n"), "{r}");
    server.abort();
}

/// A request body that fails mid-stream (a client that hangs up) gets a JSON 400.
#[tokio::test]
async fn failing_request_body_is_400() {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    struct Broken;
    impl http_body::Body for Broken {
        type Data = bytes::Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
            Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
        }
    }
    let env = env(TokenSettings::default()).await;
    let req = Request::post("/")
        .header("content-type", "application/json")
        .body(Broken)
        .unwrap();
    let res = send(env.endpoints.obtain(), req).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        res.body,
        r#"{"detail":"The request body could not be read."}"#
    );
    assert_framing(&res);
}

/// Input the stores refuse is the client's error, not a 503: a password over the hasher's 4 KiB
/// cap is a failed login, an over-long `jti` an invalid token.
#[tokio::test]
async fn store_refusals_are_4xx() {
    let env = env(TokenSettings::default()).await;
    let body = format!(
        r#"{{"username":"alice","password":"{}"}}"#,
        "p".repeat(5000)
    );
    let res = login(&env, json(&body)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"No active account found with the given credentials"}"#
    );
    let payload = format!(
        r#"{{"token_type":"refresh","exp":{},"iat":{T_IAT},"jti":"{}","user_id":"1"}}"#,
        T_IAT + 100,
        "j".repeat(2000)
    );
    let res = send(env.endpoints.blacklist(), minted_refresh(&payload)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token is invalid","code":"token_not_valid"}"#
    );
    let mut s = TokenSettings::rotating();
    s.throttle = None;
    let env = env_with(s, |i| i).await;
    let res = send(env.endpoints.refresh(), minted_refresh(&payload)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token is invalid","code":"token_not_valid"}"#
    );
}

#[tokio::test]
async fn settings_leeway_realm_and_username_field() {
    // Leeway: a refresh token expired 5 s ago passes with a 10 s leeway, not with 0.
    let payload = format!(
        r#"{{"token_type":"refresh","exp":{},"iat":{},"jti":"00000000000000000000000000000042","user_id":"1"}}"#,
        T_IAT - 5,
        T_IAT - 100
    );
    let env0 = env(TokenSettings::default()).await;
    let res = send(env0.endpoints.refresh(), minted_refresh(&payload)).await;
    assert_eq!(
        res.body,
        r#"{"detail":"Token is expired","code":"token_not_valid"}"#
    );
    let mut s = TokenSettings::default();
    s.leeway = 10;
    let env10 = env(s).await;
    let res = send(env10.endpoints.refresh(), minted_refresh(&payload)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // Leeway above the cap, or a realm that cannot be quoted: configuration errors.
    let issuer = || tower_jwt_auth::token::Issuer::new(ref_keys()).unwrap();
    let mut s = TokenSettings::default();
    s.leeway = 301;
    assert!(
        tower_jwt_auth::TokenEndpoints::new(issuer(), Users::new(), Revocations::new(), s).is_err()
    );
    let mut s = TokenSettings::default();
    s.realm = "a\"b".into();
    assert!(
        tower_jwt_auth::TokenEndpoints::new(issuer(), Users::new(), Revocations::new(), s).is_err()
    );

    // A custom realm, and a login field named `email`.
    let mut s = TokenSettings::default();
    s.realm = "accounts".into();
    s.username_field = "email".into();
    let env = env(s).await;
    let res = send(env.endpoints.obtain(), json(ALICE_LOGIN)).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body, r#"{"email":["This field is required."]}"#);
    let res = send(
        env.endpoints.obtain(),
        json(r#"{"email":"alice","password":"nope"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.header_opt("www-authenticate"),
        Some(r#"Bearer realm="accounts""#)
    );
    let res = send(
        env.endpoints.obtain(),
        json(r#"{"email":"alice","password":"wonderland-42"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let req = Request::options("/").body(String::new()).unwrap();
    let res = send(env.endpoints.obtain(), req).await;
    assert!(
        res.body.contains(
            r#""email":{"type":"string","required":true,"read_only":false,"label":"Email"}"#
        ),
        "{}",
        res.body
    );
}
