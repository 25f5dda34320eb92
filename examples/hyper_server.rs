//! Run with
//!
//! ```not_rust
//! cargo run --example hyper_server
//! ```
//!
//! A plain hyper 1 server (hyper-util's HTTP/1.1 + HTTP/2 connection builder, no axum) whose
//! every request goes through `JwtAuthLayer`. It listens on 127.0.0.1:3000 (set `PORT` to change
//! it), verifies HS256 tokens signed with `JWT_SECRET` (a development secret by default, as
//! simplejwt signs with Django's `SECRET_KEY`) and prints a token to try:
//!
//! ```not_rust
//! curl -i http://127.0.0.1:3000/                                    # 401 + WWW-Authenticate
//! curl -i http://127.0.0.1:3000/ -H "Authorization: Bearer $TOKEN"  # 200 hello, user 1
//! ```

use std::convert::Infallible;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{Service, ServiceBuilder, service_fn};
use tower_jwt_auth::{Claims, ConfigError, JwtAuthLayer, Keys, ResponseBody, SimpleJwtClaims};

/// Used when `JWT_SECRET` is not set. Never use it outside a demo.
const DEV_SECRET: &str = "hyper-example-development-secret-change-me-0123456789";

/// The protected handler: the layer has verified the token and left its claims here.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let res = match req.extensions().get::<Claims<SimpleJwtClaims>>() {
        Some(claims) => Response::new(Full::from(format!("hello, user {}\n", claims.user_id))),
        None => {
            // Only reachable if the layer is not installed: a server bug, not a client error.
            let mut res = Response::new(Full::from("authentication layer missing\n"));
            *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            res
        }
    };
    Ok(res)
}

/// The tower stack hyper serves: `JwtAuthLayer` in front of `hello`.
pub(crate) fn app(
    keys: Keys,
) -> impl Service<
    Request<Incoming>,
    Response = Response<ResponseBody<Full<Bytes>>>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(keys))
        .service(service_fn(hello))
}

/// Accepts connections on `listener` and serves [`app`] on each one (HTTP/1.1, or HTTP/2 with
/// prior knowledge), until the future is dropped.
pub(crate) async fn serve(listener: TcpListener, keys: Keys) {
    let app = app(keys);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // For example EMFILE: back off instead of spinning.
                eprintln!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let builder = auto::Builder::new(TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
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
    let secret = std::env::var("JWT_SECRET").unwrap_or_else(|_| DEV_SECRET.to_owned());
    let keys = Keys::hs256(secret.as_bytes())?;
    let port = match std::env::var("PORT") {
        Ok(p) => p.parse::<u16>()?,
        Err(_) => 3000,
    };
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}", listener.local_addr()?);
    println!("TOKEN={}", demo_token(&keys, "1")?);
    tokio::select! {
        () = serve(listener, keys) => {}
        res = tokio::signal::ctrl_c() => res?,
    }
    Ok(())
}
