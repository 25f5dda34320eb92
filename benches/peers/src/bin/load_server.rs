//! A small axum 0.8 server for the end-to-end load test (`scripts/load.sh`): the same handler
//! unprotected (`/open`), behind `JwtAuthLayer` (`/protected`) and behind the layer with the
//! verified-token cache (`/cached`). It listens on 127.0.0.1 (port from argv, default 0), prints
//! `addr <ip:port>` and `token <jwt>` (an HS256 access token valid for a day, signed with a
//! random per-run secret), then serves until killed.

use std::net::SocketAddr;

use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};
use tower_jwt_auth::{JwtAuthLayer, Keys};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Access {
    token_type: String,
    exp: i64,
    iat: i64,
    jti: String,
    user_id: String,
}

/// The one handler: a small JSON body, like the schedule GET.
async fn schedule(user: Option<Extension<Access>>) -> Json<serde_json::Value> {
    let user = user.map(|Extension(a)| a.user_id);
    Json(serde_json::json!({
        "user": user,
        "schedule": {"monday": [{"start": "00:00", "stop": "01:00", "ids": [1]}]}
    }))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args().nth(1).map(|p| p.parse()).transpose()?.unwrap_or(0);
    let threads: usize = std::env::var("LOAD_SERVER_THREADS")
        .ok()
        .map(|t| t.parse())
        .transpose()?
        .unwrap_or(1);
    // A throwaway per-run secret.
    let mut secret = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut secret)?;
    let keys = Keys::hs256(secret)?;
    let iat = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let token = keys.encode(&Access {
        token_type: "access".into(),
        exp: iat + 86_400,
        iat,
        jti: "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f".into(),
        user_id: "1".into(),
    })?;

    let app = Router::new()
        .route("/open", get(schedule))
        .route(
            "/protected",
            get(schedule).layer(JwtAuthLayer::<Access>::new(keys.clone())),
        )
        .route(
            "/cached",
            get(schedule).layer(JwtAuthLayer::<Access>::new(keys).cache(10_000)),
        );

    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(async move {
            let listener =
                tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
            println!("addr {}", listener.local_addr()?);
            println!("token {token}");
            axum::serve(listener, app).await?;
            Ok(())
        })
}
