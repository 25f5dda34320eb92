//! The bearer transport through the layer: the `Authorization` header's name and scheme in any
//! letter case, RFC 6750 status codes and challenges, duplicate headers, and hostile header bytes
//! (in-process and over a real socket): always an HTTP answer, never a panic.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use tower::Layer;

use crate::support::transcript as t;
use crate::support::*;

#[tokio::test]
async fn header_name_and_scheme_are_case_insensitive() {
    for name in [
        "authorization",
        "Authorization",
        "AUTHORIZATION",
        "aUtHoRiZaTiOn",
    ] {
        let req = Request::get("/")
            .header(name, format!("Bearer {}", t::ACCESS))
            .body(String::new())
            .expect("request");
        assert_ok_user(&call(req).await, "1");
    }
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        assert_ok_user(
            &call(get(Some(&format!("{scheme} {}", t::ACCESS)))).await,
            "1",
        );
    }
}

#[tokio::test]
async fn status_codes_and_challenges_follow_rfc_6750() {
    // No credentials: 401, challenge without error attributes.
    let r = call(get(None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate"), r#"Bearer realm="api""#);
    // Malformed request: 400, invalid_request.
    let r = call(get(Some("Bearer a b"))).await;
    assert!(
        r.header("www-authenticate")
            .starts_with(r#"Bearer realm="api", error="invalid_request""#)
    );
    // Bad tokens: 401, invalid_token with a description.
    for token in [t::EXPIRED, t::TAMPERED_SIGNATURE, t::REFRESH, "x.y.z"] {
        let r = call(bearer(token)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        let c = r.header("www-authenticate");
        assert!(
            c.starts_with(r#"Bearer realm="api", error="invalid_token", error_description=""#),
            "{c}"
        );
    }
}

#[tokio::test]
async fn duplicate_authorization_headers_are_400() {
    let two = |a: &str, b: &str| {
        Request::get("/")
            .header("authorization", a)
            .header("Authorization", b)
            .body(String::new())
            .expect("request")
    };
    let good = format!("Bearer {}", t::ACCESS);
    for (a, b) in [
        (good.as_str(), good.as_str()),
        (good.as_str(), "Bearer x.y.z"),
        ("Bearer x.y.z", good.as_str()),
        ("", good.as_str()),
    ] {
        let r = call(two(a, b)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{a:?} {b:?}");
        assert_multiple_credentials(&r);
    }
    // A comma-joined value (as a proxy might fold two fields) is not a token.
    let r = call(get(Some(&format!("{good}, {good}")))).await;
    assert_bad_header(&r);
}

#[tokio::test]
async fn non_ascii_and_control_bytes_are_401_not_a_panic() {
    let long = format!("Bearer {}", "a".repeat(100_000));
    let cases: Vec<Vec<u8>> = vec![
        b"Bearer \xff\xfe\xfd".to_vec(),
        b"\xff\xfe".to_vec(),
        "Bearer ünïcødé.tøkén.sïg".as_bytes().to_vec(),
        format!("Bearer {}\u{e9}", t::ACCESS).into_bytes(),
        b"Bearer a\x01b.c.d".to_vec(),
        b"Bearer \x7f".to_vec(),
        b"Bearer\x0ba.b.c".to_vec(),
        b"Bearer\x0ca.b.c".to_vec(),
        b"Bearer \x80.\x80.\x80".to_vec(),
        long.into_bytes(),
    ];
    for bytes in cases {
        let Ok(value) = HeaderValue::from_bytes(&bytes) else {
            // `http` itself refuses this value (NUL, CR, LF…): it can never reach the layer.
            continue;
        };
        let mut req = Request::get("/").body(String::new()).expect("request");
        req.headers_mut().insert("authorization", value);
        let r = call(req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bytes:?}");
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.error.is_some());
    }
    // NUL, CR and LF are refused by `http` before any service sees them.
    for bad in [&b"Bearer a\0b"[..], b"Bearer a\rb", b"Bearer a\nb"] {
        assert!(HeaderValue::from_bytes(bad).is_err());
    }
}

#[tokio::test]
async fn hostile_headers_over_a_real_socket_get_an_http_answer() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let svc = ref_layer().layer(tower::service_fn(
        |_req: Request<hyper::body::Incoming>| async move {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"ok"))))
        },
    ));
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let svc = svc.clone();
            let svc =
                hyper::service::service_fn(move |req| tower::ServiceExt::oneshot(svc.clone(), req));
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });

    async fn raw(addr: std::net::SocketAddr, headers: &[u8]) -> String {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut req =
            b"GET /api/weekly_schedule/ HTTP/1.1\r\nHost: t\r\nConnection: close\r\n".to_vec();
        req.extend_from_slice(headers);
        req.extend_from_slice(b"\r\n");
        s.write_all(&req).await.expect("write");
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.expect("read");
        String::from_utf8_lossy(&out).into_owned()
    }
    let status = |resp: &str| -> u16 {
        resp.split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP status in {resp:?}"))
    };

    let good = format!("Bearer {}", t::ACCESS);
    // Any spelling of the field name.
    for name in ["authorization", "AUTHORIZATION", "Authorization"] {
        let r = raw(addr, format!("{name}: {good}\r\n").as_bytes()).await;
        assert_eq!(status(&r), 200, "{name}: {r}");
        assert!(r.ends_with("ok"), "{r}");
    }
    // Two fields.
    let r = raw(
        addr,
        format!("Authorization: {good}\r\nauthorization: {good}\r\n").as_bytes(),
    )
    .await;
    assert_eq!(status(&r), 400, "{r}");
    assert!(r.contains(r#""code":"invalid_request""#), "{r}");
    // obs-text, control bytes, NUL, bare CR, obs-fold: 400 or 401, always an HTTP answer.
    for bad in [
        &b"Authorization: Bearer \xff\xfe\r\n"[..],
        b"Authorization: Bearer a\x01b\r\n",
        b"Authorization: Bearer a\x00b\r\n",
        b"Authorization: Bearer a\rb\r\n",
        b"Authorization: Bearer\r\n a.b.c\r\n",
        b"Authorization:\tBearer\ta.b.c\r\n",
    ] {
        let r = raw(addr, bad).await;
        let code = status(&r);
        assert!(code == 400 || code == 401, "{bad:?} -> {r}");
    }
    // An over-long value: 401 (token too long), or hyper's 431 for a huge header block.
    let long = format!("Authorization: Bearer {}\r\n", "a".repeat(64 * 1024));
    let r = raw(addr, long.as_bytes()).await;
    assert_eq!(status(&r), 401, "{r}");
    assert!(r.contains("Token is invalid"), "{r}");
    server.abort();
}
