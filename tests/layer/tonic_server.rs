//! tonic 0.14: `JwtAuthLayer` installed with `Server::builder().layer(..)`, a real tonic server on
//! 127.0.0.1 (ephemeral port) and a real tonic client over the socket (HTTP/2).
//!
//! The server is `examples/tonic_grpc.rs`, compiled here as a module, so this drives the code
//! `cargo run --example tonic_grpc` runs. No code generation: its two messages are hand-written
//! `#[derive(prost::Message)]` structs and its service is the few lines tonic-build would generate
//! for one unary method (`tonic::server::Grpc` + `tonic_prost::ProstCodec`), so neither `protoc`
//! nor a build script is needed.

use std::net::SocketAddr;

use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_prost::ProstCodec;
use tower_jwt_auth::Keys;

#[allow(dead_code)] // its `main` is the example's entry point, unused here
#[path = "../../examples/tonic_grpc.rs"]
mod tonic_grpc;

use tonic_grpc::{WHO_AM_I as PATH, WhoAmIReply, WhoAmIRequest};

use crate::support::*;

/// A running server; dropping it shuts the server down.
struct TestServer {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start_server() -> TestServer {
    let keys = ref_keys();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        if let Err(e) = tonic_grpc::serve(listener, keys, shutdown).await {
            panic!("tonic server failed: {e}");
        }
    });
    TestServer { addr, _stop: stop }
}

async fn channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("valid uri")
        .connect()
        .await
        .expect("connect to the test server")
}

async fn client(addr: SocketAddr) -> tonic::client::Grpc<Channel> {
    tonic::client::Grpc::new(channel(addr).await)
}

/// Calls WhoAmI with these `authorization` metadata values (none, one, or several).
async fn who_am_i(addr: SocketAddr, authorization: &[&str]) -> Result<WhoAmIReply, Status> {
    let mut grpc = client(addr).await;
    let mut request = tonic::Request::new(WhoAmIRequest {
        note: "hello".into(),
    });
    for value in authorization {
        request
            .metadata_mut()
            .append("authorization", value.parse().expect("ascii metadata"));
    }
    grpc.ready().await.expect("channel ready");
    grpc.unary(
        request,
        PathAndQuery::from_static(PATH),
        ProstCodec::default(),
    )
    .await
    .map(tonic::Response::into_inner)
}

fn token(user_id: &str, token_type: &str, exp_offset: i64) -> String {
    mint(&live_claims(user_id, token_type, exp_offset))
}

fn assert_unauthenticated(status: &Status, message: &str) {
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(status.message(), message, "{status:?}");
}

#[tokio::test]
async fn no_token_is_unauthenticated_with_simplejwt_message() {
    let server = start_server().await;
    let status = who_am_i(server.addr, &[])
        .await
        .expect_err("must be rejected");
    assert_unauthenticated(&status, "Authentication credentials were not provided.");
    // The RFC 6750 challenge travels as metadata too (no error: no credentials were presented).
    assert_eq!(
        status
            .metadata()
            .get("www-authenticate")
            .expect("challenge"),
        r#"Bearer realm="api""#
    );
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_claims() {
    let server = start_server().await;
    let t = token("42", "access", 300);
    let reply = who_am_i(server.addr, &[&format!("Bearer {t}")])
        .await
        .expect("authenticated call succeeds");
    assert_eq!(
        reply,
        WhoAmIReply {
            user_id: "42".into(),
            jti: LIVE_JTI.into(),
            note: "hello".into(),
        }
    );
}

#[tokio::test]
async fn the_examples_own_client_and_token_work() {
    let server = start_server().await;
    let bearer = format!(
        "Bearer {}",
        tonic_grpc::demo_token(&ref_keys(), "1").expect("mint")
    );
    let reply = tonic_grpc::who_am_i(channel(server.addr).await, Some(&bearer))
        .await
        .expect("authenticated call succeeds");
    assert_eq!(
        (reply.user_id.as_str(), reply.note.as_str()),
        ("1", "hello")
    );
    assert_eq!(reply.jti.len(), 32);

    let status = tonic_grpc::who_am_i(channel(server.addr).await, None)
        .await
        .expect_err("no token");
    assert_unauthenticated(&status, "Authentication credentials were not provided.");
}

#[tokio::test]
async fn expired_token_is_unauthenticated() {
    let server = start_server().await;
    let t = token("42", "access", -1);
    let status = who_am_i(server.addr, &[&format!("Bearer {t}")])
        .await
        .expect_err("must be rejected");
    assert_unauthenticated(&status, "Token is expired");
    assert_eq!(
        status
            .metadata()
            .get("www-authenticate")
            .expect("challenge"),
        r#"Bearer realm="api", error="invalid_token", error_description="Token is expired""#
    );
}

#[tokio::test]
async fn garbage_token_is_unauthenticated() {
    let server = start_server().await;
    let status = who_am_i(server.addr, &["Bearer not.a.jwt"])
        .await
        .expect_err("must be rejected");
    assert_unauthenticated(&status, "Token is invalid");
}

#[tokio::test]
async fn token_signed_with_another_key_is_unauthenticated() {
    let server = start_server().await;
    let other = Keys::hs256(b"another-secret-that-is-also-32-bytes-long!!")
        .expect("keys")
        .encode(&live_claims("42", "access", 300))
        .expect("encode");
    let status = who_am_i(server.addr, &[&format!("Bearer {other}")])
        .await
        .expect_err("must be rejected");
    assert_unauthenticated(&status, "Token is invalid");
}

#[tokio::test]
async fn refresh_token_is_not_an_access_token() {
    let server = start_server().await;
    let t = token("42", "refresh", 300);
    let status = who_am_i(server.addr, &[&format!("Bearer {t}")])
        .await
        .expect_err("must be rejected");
    assert_unauthenticated(&status, "Token has wrong type");
}

#[tokio::test]
async fn bearer_without_token_is_unauthenticated() {
    let server = start_server().await;
    let status = who_am_i(server.addr, &["Bearer"])
        .await
        .expect_err("must be rejected");
    assert_unauthenticated(
        &status,
        "Authorization header must contain two space-delimited values",
    );
}

#[tokio::test]
async fn two_authorization_values_are_invalid_argument() {
    let server = start_server().await;
    let t = token("42", "access", 300);
    let bearer = format!("Bearer {t}");
    let status = who_am_i(server.addr, &[&bearer, &bearer])
        .await
        .expect_err("must be rejected");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        status.message(),
        "More than one set of credentials was sent; send exactly one Authorization header"
    );
}

#[tokio::test]
async fn one_connection_serves_rejected_and_accepted_calls() {
    // A rejection is a normal trailers-only response: the HTTP/2 connection stays usable.
    let server = start_server().await;
    let mut grpc = client(server.addr).await;
    let t = token("7", "access", 300);
    for round in 0..3 {
        grpc.ready().await.expect("ready");
        let rejected = grpc
            .unary(
                tonic::Request::new(WhoAmIRequest::default()),
                PathAndQuery::from_static(PATH),
                ProstCodec::<WhoAmIRequest, WhoAmIReply>::default(),
            )
            .await
            .expect_err("no token");
        assert_eq!(rejected.code(), Code::Unauthenticated, "round {round}");

        let mut request = tonic::Request::new(WhoAmIRequest {
            note: format!("round {round}"),
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {t}").parse().expect("ascii"),
        );
        grpc.ready().await.expect("ready");
        let reply = grpc
            .unary(
                request,
                PathAndQuery::from_static(PATH),
                ProstCodec::<WhoAmIRequest, WhoAmIReply>::default(),
            )
            .await
            .expect("valid token")
            .into_inner();
        assert_eq!(reply.user_id, "7");
        assert_eq!(reply.note, format!("round {round}"));
    }
}

#[tokio::test]
async fn rejection_on_the_wire_is_a_trailers_only_http_200() {
    // What the tonic client decoded above, seen with a bare HTTP/2 client.
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};

    let server = start_server().await;
    let stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .expect("h2 handshake");
    tokio::spawn(conn);
    // One empty WhoAmIRequest: compressed flag 0, length 0.
    let req = http::Request::post(format!("http://{}{PATH}", server.addr))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(bytes::Bytes::from_static(&[0, 0, 0, 0, 0])))
        .expect("request");
    let res = sender.send_request(req).await.expect("response");
    assert_eq!(res.status(), http::StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/grpc");
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(
        res.headers()["grpc-message"],
        "Authentication credentials were not provided."
    );
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="api""#);
    let body = res.into_body().collect().await.expect("body");
    assert!(
        body.trailers().is_none(),
        "trailers-only: no separate trailers"
    );
    assert!(body.to_bytes().is_empty());
}
