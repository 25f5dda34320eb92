//! Run with
//!
//! ```not_rust
//! cargo run --example tonic_grpc
//! ```
//!
//! A tonic 0.14 gRPC server with `JwtAuthLayer` in `Server::builder().layer(..)`, on 127.0.0.1,
//! and a tonic client calling it without a token (`Unauthenticated`, simplejwt's message) and
//! with one (the handler reads the claims from `request.extensions()`).
//!
//! No `protoc`, no build script: the messages are hand-written `prost::Message` structs and the
//! service is the few lines tonic-build would generate for this proto:
//!
//! ```not_rust
//! syntax = "proto3";
//! package authdemo;
//! message WhoAmIRequest { string note = 1; }
//! message WhoAmIReply { string user_id = 1; string jti = 2; string note = 3; }
//! service Identity { rpc WhoAmI(WhoAmIRequest) returns (WhoAmIReply); }
//! ```
//!
//! With tonic-build (`tonic-prost-build`) you get the same service from the `.proto`; the layer
//! line and the `extensions().get::<Claims<SimpleJwtClaims>>()` call stay exactly as here.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tonic::server::{NamedService, UnaryService};
use tonic::transport::{Channel, Server, server::TcpIncoming};
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;
use tower_jwt_auth::{Claims, ConfigError, JwtAuthLayer, Keys, SimpleJwtClaims};

/// The one method's path: `/{package}.{service}/{method}`.
pub(crate) const WHO_AM_I: &str = "/authdemo.Identity/WhoAmI";

/// `message WhoAmIRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WhoAmIRequest {
    /// Echoed back.
    #[prost(string, tag = "1")]
    pub(crate) note: String,
}

/// `message WhoAmIReply`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct WhoAmIReply {
    /// The token's `user_id`.
    #[prost(string, tag = "1")]
    pub(crate) user_id: String,
    /// The token's `jti`.
    #[prost(string, tag = "2")]
    pub(crate) jti: String,
    /// The request's note.
    #[prost(string, tag = "3")]
    pub(crate) note: String,
}

/// The handler: the layer verified the token and put its claims into the extensions.
#[derive(Clone, Copy, Debug)]
struct WhoAmI;

impl UnaryService<WhoAmIRequest> for WhoAmI {
    type Response = WhoAmIReply;
    type Future = std::future::Ready<Result<Response<WhoAmIReply>, Status>>;

    fn call(&mut self, request: Request<WhoAmIRequest>) -> Self::Future {
        let reply = match request.extensions().get::<Claims<SimpleJwtClaims>>() {
            Some(claims) => Ok(Response::new(WhoAmIReply {
                user_id: claims.user_id.to_string(),
                jti: claims.jti.clone(),
                note: request.get_ref().note.clone(),
            })),
            // Only reachable without the layer: a server bug, not the client's fault.
            None => Err(Status::internal("JwtAuthLayer is not installed")),
        };
        std::future::ready(reply)
    }
}

/// `service Identity`, server side: what tonic-build would generate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IdentityServer;

impl NamedService for IdentityServer {
    const NAME: &'static str = "authdemo.Identity";
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<B> tower::Service<http::Request<B>> for IdentityServer
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() == WHO_AM_I {
            Box::pin(async move {
                let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
                Ok(grpc.unary(WhoAmI, req).await)
            })
        } else {
            Box::pin(async { Ok(Status::unimplemented("no such method").into_http()) })
        }
    }
}

/// Serves `IdentityServer` behind `JwtAuthLayer` on `listener` until `shutdown` completes.
pub(crate) async fn serve(
    listener: TcpListener,
    keys: Keys,
    shutdown: impl Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys))
        .add_service(IdentityServer)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
}

/// Calls `WhoAmI` on `channel`, with `authorization` metadata if given.
pub(crate) async fn who_am_i(
    channel: Channel,
    authorization: Option<&str>,
) -> Result<WhoAmIReply, Status> {
    let mut request = Request::new(WhoAmIRequest {
        note: "hello".into(),
    });
    if let Some(value) = authorization {
        let value = value
            .parse()
            .map_err(|_| Status::invalid_argument("authorization must be ASCII"))?;
        request.metadata_mut().insert("authorization", value);
    }
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let codec = ProstCodec::<WhoAmIRequest, WhoAmIReply>::default();
    let response = client
        .unary(request, PathAndQuery::from_static(WHO_AM_I), codec)
        .await?;
    Ok(response.into_inner())
}

/// An access token for `user_id`, valid for five minutes, as simplejwt would mint it.
pub(crate) fn demo_token(keys: &Keys, user_id: &str) -> Result<String, ConfigError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    keys.encode(&serde_json::json!({
        "token_type": "access",
        "exp": now.as_secs() + 300,
        "iat": now.as_secs(),
        "jti": format!("{:032x}", now.as_nanos()),
        "user_id": user_id,
    }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keys = Keys::hs256(b"tonic-example-development-secret-change-me")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, keys.clone(), async {
        let _ = stopped.await;
    }));
    println!("gRPC server on http://{addr}");

    let channel = Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    match who_am_i(channel.clone(), None).await {
        Ok(reply) => println!("no token   -> unexpectedly OK: {reply:?}"),
        Err(status) => println!("no token   -> {:?}: {}", status.code(), status.message()),
    }
    let bearer = format!("Bearer {}", demo_token(&keys, "1")?);
    let reply = who_am_i(channel, Some(&bearer)).await?;
    println!(
        "with token -> OK: user_id={} jti={}",
        reply.user_id, reply.jti
    );

    let _ = stop.send(());
    server.await??;
    Ok(())
}
