//! The example server's own router (`examples/schedule_server`, its `routes.rs`, `storage.rs`
//! and `domain.rs` compiled in here as they are) served twice, for the end-to-end load test
//! (`scripts/load.sh example`):
//!
//! - `protected`: `routes::app`, exactly what `cargo run --example schedule_server` serves:
//!   `GET /api/weekly_schedule/` behind `JwtAuthLayer` and its per-request user check;
//! - `open`: the same stack assembled here from the example's own pieces (`token_routes`,
//!   `schedule_handlers`, `with_middleware`, the same `Allow`/`Vary` layers), where `JwtAuthLayer`
//!   and its user check are replaced by a layer that only inserts the demo user's claims, as the
//!   auth layer would.
//!
//! So the two differ only by what authentication costs. It listens on two ephemeral 127.0.0.1
//! ports, prints `protected <ip:port>`, `open <ip:port>` and `token <jwt>` (an access token of
//! the demo user, valid for an hour), stores a one-slot schedule for that user, then serves until
//! killed, on `LOAD_SERVER_THREADS` worker threads (default 1).
//!
//! `schedule_load inproc [N]` serves nothing: it sends N requests (default 200 000) through each
//! router in process, three rounds, and prints the time per request (no sockets, no load
//! generator: what the stack itself costs).
#![allow(dead_code, unreachable_pub, missing_docs)]

#[path = "../../../../examples/schedule_server/compat.rs"]
mod compat;
#[path = "../../../../examples/schedule_server/domain.rs"]
mod domain;
#[path = "../../../../examples/schedule_server/routes.rs"]
mod routes;
#[path = "../../../../examples/schedule_server/storage.rs"]
mod storage;

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::Request;
use tower::util::MapRequestLayer;
use tower_jwt_auth::store::{MemoryRevocationStore, MemoryUserStore};
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{Claims, Keys, SimpleJwtClaims, Verifier};

use axum::http::{HeaderValue, header};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::routes::{
    AppState, DEFAULT_BODY_LIMIT, DEFAULT_REQUEST_TIMEOUT, SCHEDULE, SCHEDULE_ALLOW, app,
    schedule_handlers, token_routes, with_middleware,
};
use crate::storage::ScheduleStore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let threads: usize = std::env::var("LOAD_SERVER_THREADS")
        .ok()
        .map(|t| t.parse())
        .transpose()?
        .unwrap_or(1);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), BoxError> {
    let secret = storage::random_secret()?;
    let keys = Keys::hs256(&secret.0)?;
    let users = MemoryUserStore::new();
    let demo = users
        .add_user("demo", "demo-password-for-load", true)
        .await?;
    let issuer = Issuer::new(keys.clone())?.access_token_lifetime(Duration::from_secs(3600))?;
    let tokens = TokenEndpoints::new(
        issuer.clone(),
        users.clone(),
        MemoryRevocationStore::new(),
        TokenSettings::default(),
    )?;
    let schedules = ScheduleStore::memory();
    let state = AppState {
        tokens,
        verifier: Verifier::new(keys.clone()),
        users,
        schedules: schedules.clone(),
        body_limit: DEFAULT_BODY_LIMIT,
        request_timeout: DEFAULT_REQUEST_TIMEOUT,
    };

    // The demo user's access token, and the claims the open route hands to the handler.
    let token = issuer.pair_for_user(&demo)?.access.token;
    let claims = Claims::<SimpleJwtClaims>::new(Verifier::new(keys).verify(&token)?.claims);
    let schedule =
        serde_json::from_str(r#"{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}"#)?;
    schedules.put(claims.user_id.as_str(), schedule).await?;

    let inject = MapRequestLayer::new(move |mut req: Request| {
        req.extensions_mut().insert(claims.clone());
        req
    });
    let protected = app(state.clone());
    let open = with_middleware(
        token_routes(&state.tokens)
            .route(
                SCHEDULE,
                schedule_handlers().layer(
                    ServiceBuilder::new()
                        .layer(SetResponseHeaderLayer::overriding(
                            header::ALLOW,
                            HeaderValue::from_static(SCHEDULE_ALLOW),
                        ))
                        .layer(SetResponseHeaderLayer::overriding(
                            header::VARY,
                            HeaderValue::from_static("Accept"),
                        ))
                        .layer(inject),
                ),
            )
            .with_state(state.schedules.clone()),
        &state,
    );

    // `schedule_load inproc N`: no sockets, N requests through each router in process (for
    // profilers, and to tell the in-process cost from the end-to-end one).
    if std::env::args().nth(1).as_deref() == Some("inproc") {
        let n: u32 = std::env::args()
            .nth(2)
            .map(|n| n.parse())
            .transpose()?
            .unwrap_or(200_000);
        for round in 0..3 {
            for (name, app) in [("open", &open), ("protected", &protected)] {
                let start = std::time::Instant::now();
                for _ in 0..n {
                    let req = axum::http::Request::get("/api/weekly_schedule/")
                        .header("authorization", format!("Bearer {token}"))
                        .extension(axum::extract::ConnectInfo(SocketAddr::from((
                            [127, 0, 0, 1],
                            9,
                        ))))
                        .body(axum::body::Body::empty())?;
                    let res = tower::ServiceExt::oneshot(app.clone(), req).await?;
                    assert_eq!(res.status(), 200);
                    std::hint::black_box(axum::body::to_bytes(res.into_body(), 1 << 16).await?);
                }
                let ns = start.elapsed().as_nanos() / u128::from(n);
                println!("round {round} {name}: {ns} ns/request");
            }
        }
        return Ok(());
    }

    let lp = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let lo = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    println!("protected {}", lp.local_addr()?);
    println!("open {}", lo.local_addr()?);
    println!("token {token}");
    let p = axum::serve(
        lp,
        protected.into_make_service_with_connect_info::<SocketAddr>(),
    );
    let o = axum::serve(lo, open.into_make_service_with_connect_info::<SocketAddr>());
    tokio::try_join!(async { p.await }, async { o.await })?;
    Ok(())
}
