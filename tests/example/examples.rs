//! The examples, compiled as modules of this test and driven for real: `examples/minimal.rs`
//! in-process with `oneshot`, `examples/hyper_server.rs` on 127.0.0.1 (ephemeral port) with a
//! hyper client over TCP, and with hand-written bytes where a client would refuse to send them.

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;
use tower_jwt_auth::Keys;

#[allow(dead_code)] // its `main` is the example's entry point, unused here
#[path = "../../examples/minimal.rs"]
mod minimal;

#[allow(dead_code)]
#[path = "../../examples/hyper_server.rs"]
mod hyper_server;

const SECRET: &[u8] = b"examples-test-secret-of-at-least-32-bytes!!";
const MISSING: &str = r#"{"detail":"Authentication credentials were not provided."}"#;
const INVALID: &str = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#;
const TWO_HEADERS: &str = r#"{"detail":"More than one set of credentials was sent; send exactly one Authorization header","code":"invalid_request"}"#;

fn keys() -> Keys {
    Keys::hs256(SECRET).expect("test secret is long enough")
}

fn bearer(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("Bearer {token}")).expect("token is ASCII")
}

// ---- examples/minimal.rs --------------------------------------------------------------------

async fn call_minimal(authorization: Option<HeaderValue>) -> (StatusCode, HeaderMap, String) {
    let mut req = Request::new(String::new());
    if let Some(v) = authorization {
        req.headers_mut().insert(header::AUTHORIZATION, v);
    }
    let res = minimal::app(keys()).oneshot(req).await.expect("infallible");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("infallible").to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).expect("utf-8 body"),
    )
}

#[tokio::test]
async fn minimal_without_token_is_401_with_simplejwt_body() {
    let (status, headers, body) = call_minimal(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, MISSING);
    assert_eq!(headers[header::WWW_AUTHENTICATE], r#"Bearer realm="api""#);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
}

#[tokio::test]
async fn minimal_with_valid_token_greets_the_user() {
    let token = hyper_server::demo_token(&keys(), "17").expect("mint");
    let (status, _, body) = call_minimal(Some(bearer(&token))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "hello, user 17");
}

#[tokio::test]
async fn minimal_with_garbage_token_is_401_token_not_valid() {
    let (status, headers, body) = call_minimal(Some(bearer("garbage"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, INVALID);
    assert_eq!(
        headers[header::WWW_AUTHENTICATE],
        r#"Bearer realm="api", error="invalid_token", error_description="Token is invalid""#
    );
}

#[test]
fn examples_open_with_their_run_command_and_minimal_stays_small() {
    for (name, src) in [
        ("minimal", include_str!("../../examples/minimal.rs")),
        (
            "hyper_server",
            include_str!("../../examples/hyper_server.rs"),
        ),
        ("tonic_grpc", include_str!("../../examples/tonic_grpc.rs")),
    ] {
        let head = format!("//! Run with\n//!\n//! ```not_rust\n//! cargo run --example {name}\n");
        assert!(
            src.starts_with(&head),
            "{name} must open with its run command"
        );
        let readme = include_str!("../../examples/README.md");
        assert!(
            readme.contains(&format!("`cargo run --example {name}`")),
            "{name} in README"
        );
    }
    let lines = include_str!("../../examples/minimal.rs").lines().count();
    assert!(
        lines < 60,
        "examples/minimal.rs has {lines} lines; keep it under 60"
    );
}

// ---- examples/hyper_server.rs -----------------------------------------------------------------

/// Starts the example's server on an ephemeral port. It stops with the test's runtime.
async fn start_hyper_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(hyper_server::serve(listener, keys()));
    addr
}

type Http1Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// One HTTP/1.1 connection with a hyper client.
async fn http1_connect(addr: SocketAddr) -> Http1Sender {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    sender
}

fn get(authorization: &[HeaderValue]) -> Request<Empty<Bytes>> {
    let mut req = Request::get("/")
        .header(header::HOST, "127.0.0.1")
        .body(Empty::new())
        .expect("request");
    for v in authorization {
        req.headers_mut().append(header::AUTHORIZATION, v.clone());
    }
    req
}

async fn send(
    sender: &mut Http1Sender,
    req: Request<Empty<Bytes>>,
) -> (StatusCode, HeaderMap, String) {
    sender.ready().await.expect("connection still open");
    let res = sender
        .send_request(req)
        .await
        .expect("a response, not a dropped connection");
    let (parts, body) = res.into_parts();
    let body = body.collect().await.expect("whole body").to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(body.to_vec()).expect("utf-8 body"),
    )
}

#[tokio::test]
async fn hyper_without_token_is_401_with_exact_body_and_challenge() {
    let addr = start_hyper_server().await;
    let mut conn = http1_connect(addr).await;
    let (status, headers, body) = send(&mut conn, get(&[])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, MISSING);
    assert_eq!(headers[header::WWW_AUTHENTICATE], r#"Bearer realm="api""#);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(headers[header::CONTENT_LENGTH], MISSING.len().to_string());
}

#[tokio::test]
async fn hyper_with_valid_token_is_200() {
    let addr = start_hyper_server().await;
    let mut conn = http1_connect(addr).await;
    let token = hyper_server::demo_token(&keys(), "1").expect("mint");
    let (status, headers, body) = send(&mut conn, get(&[bearer(&token)])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "hello, user 1\n");
    assert!(headers.get(header::WWW_AUTHENTICATE).is_none());
}

#[tokio::test]
async fn hyper_token_signed_with_another_secret_is_401() {
    let addr = start_hyper_server().await;
    let mut conn = http1_connect(addr).await;
    let other = Keys::hs256(b"a-different-secret-also-at-least-32-bytes").expect("keys");
    let token = hyper_server::demo_token(&other, "1").expect("mint");
    let (status, _, body) = send(&mut conn, get(&[bearer(&token)])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, INVALID);
}

#[tokio::test]
async fn hyper_two_authorization_headers_on_the_wire_are_400() {
    let addr = start_hyper_server().await;
    let mut conn = http1_connect(addr).await;
    let token = hyper_server::demo_token(&keys(), "1").expect("mint");
    // Both valid: the server must still refuse to pick one (RFC 9110 §5.3).
    let (status, headers, body) = send(&mut conn, get(&[bearer(&token), bearer(&token)])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, TWO_HEADERS);
    assert_eq!(
        headers[header::WWW_AUTHENTICATE],
        r#"Bearer realm="api", error="invalid_request", error_description="More than one set of credentials was sent; send exactly one Authorization header""#
    );
}

#[tokio::test]
async fn hyper_obs_text_in_authorization_is_401_and_the_connection_lives_on() {
    let addr = start_hyper_server().await;
    let mut conn = http1_connect(addr).await;
    // obs-text (RFC 9110 §5.5): legal on the wire, not UTF-8.
    let hostile = HeaderValue::from_bytes(b"Bearer \xff\xfe.\x80abc").expect("obs-text is allowed");
    let (status, _, body) = send(&mut conn, get(&[hostile])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, INVALID);
    // A non-UTF-8 scheme is just "another scheme": no credentials.
    let odd_scheme = HeaderValue::from_bytes(b"B\xe9arer abc").expect("obs-text is allowed");
    let (status, _, body) = send(&mut conn, get(&[odd_scheme])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, MISSING);
    // Same connection, next request: still served.
    let token = hyper_server::demo_token(&keys(), "5").expect("mint");
    let (status, _, body) = send(&mut conn, get(&[bearer(&token)])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "hello, user 5\n");
}

#[tokio::test]
async fn hyper_raw_bytes_obs_text_token_gets_a_401_response() {
    // The exact bytes on the wire, without any client in between.
    let addr = start_hyper_server().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \xc3\x28\xa0\xa1\xff\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{text}");
    assert!(text.ends_with(&format!("\r\n\r\n{INVALID}")), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("\r\nwww-authenticate: bearer realm=\"api\", error=\"invalid_token\""),
        "{text}"
    );
}

#[tokio::test]
async fn hyper_serves_http2_too() {
    let addr = start_hyper_server().await;
    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);
    let token = hyper_server::demo_token(&keys(), "9").expect("mint");
    for (auth, want_status, want_body) in [
        (None, StatusCode::UNAUTHORIZED, MISSING.to_owned()),
        (
            Some(bearer(&token)),
            StatusCode::OK,
            "hello, user 9\n".to_owned(),
        ),
    ] {
        let mut req = Request::get(format!("http://{addr}/"))
            .body(Empty::<Bytes>::new())
            .expect("request");
        if let Some(v) = auth {
            req.headers_mut().insert(header::AUTHORIZATION, v);
        }
        sender.ready().await.expect("ready");
        let res = sender.send_request(req).await.expect("response");
        assert_eq!(res.version(), http::Version::HTTP_2);
        assert_eq!(res.status(), want_status);
        let body = res.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(body, want_body.as_bytes());
    }
}

#[tokio::test]
async fn hyper_oversized_token_is_401_before_decoding() {
    // 16 KiB of "token" (over the 8 KiB cap) is refused as an invalid token, not a 500 or a hang.
    let addr = start_hyper_server().await;
    let mut conn = http1_connect(addr).await;
    let huge = format!("{}.{}.{}", "a".repeat(8 * 1024), "b".repeat(8 * 1024), "c");
    let (status, _, body) = send(&mut conn, get(&[bearer(&huge)])).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, INVALID);
    let token = hyper_server::demo_token(&keys(), "2").expect("mint");
    let (status, _, _) = send(&mut conn, get(&[bearer(&token)])).await;
    assert_eq!(status, StatusCode::OK);
}
