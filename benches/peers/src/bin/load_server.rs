//! A small axum 0.8 server for the end-to-end load test (`scripts/load.sh`): the same handler
//! unprotected (`/open`), behind `JwtAuthLayer` (`/protected`) and behind the layer with the
//! verified-token cache (`/cached`). It listens on 127.0.0.1 (port from argv, default 0), prints
//! `addr <ip:port>` and `token <jwt>` (an HS256 access token valid for a day, signed with a
//! random per-run secret), then serves until killed.

use std::net::SocketAddr;

use tower_jwt_auth::Keys;
use tower_jwt_auth_peers::{access, router};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::args()
        .nth(1)
        .map(|p| p.parse())
        .transpose()?
        .unwrap_or(0);
    let threads: usize = std::env::var("LOAD_SERVER_THREADS")
        .ok()
        .map(|t| t.parse())
        .transpose()?
        .unwrap_or(1);
    // A throwaway per-run secret.
    let mut secret = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut secret)?;
    let keys = Keys::hs256(secret)?;
    let token = keys.encode(&access())?;
    let app = router(keys);

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
