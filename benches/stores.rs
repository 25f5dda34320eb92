//! The token services and a protected request on each store: in memory, Redis (users in memory,
//! revocations, rotation and the login throttle in Redis, the layer's check on the local
//! `RedisRevocationSet`), PostgreSQL and SQLite (users and revocations in the database, the
//! layer's check asking the database). Per backend, one operation each:
//!
//! * `obtain`: `POST /api/token/` (throttle reservation, password check, a token pair). Hashing
//!   uses the cheapest argon2id costs the crate accepts (m = 8 KiB, t = 1, p = 1), so the
//!   store's share shows; with the OWASP default (m = 19 MiB, t = 2) the hash alone takes
//!   tens of milliseconds and every backend looks the same.
//! * `refresh`: `POST /api/token/refresh/` with rotation and blacklisting (one atomic
//!   `rotate`, a user lookup, two tokens minted), a fresh refresh token per iteration.
//! * `protected`: a request through `JwtAuthLayer` whose verifier checks the `jti`.
//!
//! Redis runs twice: with `appendfsync always` (an fsync per write, what the store docs ask for
//! so that a crash loses nothing acknowledged) and with Redis's default `everysec`.
//!
//! Services are called in process (tower `oneshot`); Redis and PostgreSQL are real servers on
//! loopback, started by the bench in temp dirs (PostgreSQL first with `fsync=off`, as the tests
//! run it, then with fsync on; Redis with AOF), SQLite a WAL file in a temp dir. A backend whose server binary is missing is
//! skipped with a message. Throughput is reported per operation (criterion's `elem/s`).
//!
//! Run with `cargo bench --features sqlx,redis --bench stores`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

#[allow(dead_code)]
#[path = "../tests/stores/pg_server.rs"]
mod pg_server;
#[allow(dead_code)]
#[path = "../tests/stores/redis_server.rs"]
mod redis_server;
#[allow(dead_code)]
#[path = "../tests/stores/servers.rs"]
mod servers;

use std::convert::Infallible;
use std::process::{Command, Stdio};

use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};
use http::{Request, Response, StatusCode};
use tower::{Layer, Service, ServiceExt};
use tower_jwt_auth::password::PasswordHasher;
use tower_jwt_auth::store::{
    MemoryRevocationStore, MemoryUserStore, RedisConnection, RevocationFailMode, RevocationStore,
    SqlDatabase, SqlUserStore, User, UserStore,
};
use tower_jwt_auth::token::{Issuer, LoginThrottle, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{
    AuthError, AuthErrorKind, JwtAuthLayer, Keys, RevocationCheck, SimpleJwtClaims, Verified,
    Verifier,
};

const SECRET: &[u8] = b"bench-secret-0123456789abcdef0123456789abcdef";
const LOGIN: &str = r#"{"username":"alice","password":"wonderland-42"}"#;

fn keys() -> Keys {
    Keys::hs256(SECRET).expect("keys")
}

/// The cheapest argon2id costs the crate accepts.
fn cheapest_hasher() -> PasswordHasher {
    PasswordHasher::with_params(8, 1, 1, 4).expect("argon2 accepts m = 8 KiB, t = 1, p = 1")
}

fn post(path: &str, body: String) -> Request<String> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(body)
        .expect("request")
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have_postgres() -> bool {
    have("initdb")
        || std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|d| {
            d.flatten()
                .any(|e| e.path().join("bin").join("initdb").exists())
        })
}

/// `obtain` and `refresh` on `endpoints`.
fn token_benches<U: UserStore, R: RevocationStore>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    endpoints: &TokenEndpoints<U, R>,
    user: &User,
) {
    let obtain = endpoints.obtain();
    g.bench_function(format!("obtain/{name}"), |b| {
        b.iter(|| {
            let res = rt
                .block_on(obtain.clone().oneshot(post("/api/token/", LOGIN.into())))
                .expect("infallible");
            assert_eq!(res.status(), StatusCode::OK);
        })
    });
    let issuer = Issuer::new(keys()).expect("issuer");
    let refresh = endpoints.refresh();
    g.bench_function(format!("refresh/{name}"), |b| {
        b.iter_batched(
            || {
                let (token, _) = issuer.refresh_for_user(user).expect("mint");
                format!(r#"{{"refresh":"{}"}}"#, token.token)
            },
            |body| {
                let res = rt
                    .block_on(refresh.clone().oneshot(post("/api/token/refresh/", body)))
                    .expect("infallible");
                assert_eq!(res.status(), StatusCode::OK);
            },
            BatchSize::SmallInput,
        )
    });
}

/// One authenticated request through `svc` (a `JwtAuthLayer` over an empty handler).
fn protected_bench<S>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    svc: S,
    access: &str,
) where
    S: Service<Request<String>, Response = Response<String>> + Clone,
    S::Error: std::fmt::Debug,
{
    let bearer = format!("Bearer {access}");
    g.bench_function(format!("protected/{name}"), |b| {
        b.iter(|| {
            let req = Request::get("/api/weekly_schedule/")
                .header("authorization", bearer.as_str())
                .body(String::new())
                .expect("request");
            let res = rt.block_on(svc.clone().oneshot(req)).expect("served");
            assert_eq!(res.status(), StatusCode::OK);
        })
    });
}

fn handler() -> impl Service<
    Request<String>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<String>, Infallible>> + Send,
> + Clone
+ Send {
    tower::service_fn(|_req: Request<String>| async { Ok(Response::new(String::from("ok"))) })
}

fn endpoints<U: UserStore, R: RevocationStore>(
    users: U,
    revocations: R,
    throttle: Option<impl LoginThrottle>,
) -> TokenEndpoints<U, R> {
    let ep = TokenEndpoints::new(
        Issuer::new(keys()).expect("issuer"),
        users,
        revocations,
        TokenSettings::rotating(),
    )
    .expect("endpoints");
    match throttle {
        Some(t) => ep.with_login_throttle(t).expect("throttle"),
        None => ep,
    }
}

/// An access token for `user`, and the user.
fn access_for(user: &User) -> String {
    Issuer::new(keys())
        .expect("issuer")
        .pair_for_user(user)
        .expect("mint")
        .access
        .token
}

/// The layer with an async check asking `store` (the SQL stores have no synchronous check).
fn asking<R: RevocationStore>(
    store: R,
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    JwtAuthLayer::<SimpleJwtClaims>::new(Verifier::new(keys()))
        .check(move |t: &Verified<SimpleJwtClaims>| {
            let store = store.clone();
            let jti = t.jti.clone();
            async move {
                let jti = jti.ok_or(AuthError::new(AuthErrorKind::MissingJti))?;
                match store.is_revoked(&jti).await {
                    Ok(false) => Ok(()),
                    Ok(true) => Err(AuthError::new(AuthErrorKind::Revoked)),
                    Err(_) => Err(AuthError::new(AuthErrorKind::Internal)),
                }
            }
        })
        .layer(handler())
        .map_response(|r: Response<_>| r.map(|_| String::new()))
}

fn stores(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("stores");
    g.throughput(Throughput::Elements(1));
    g.sample_size(30);

    // In memory.
    {
        let users = MemoryUserStore::with_hasher(cheapest_hasher());
        let alice = rt
            .block_on(users.add_user("alice", "wonderland-42", true))
            .expect("add");
        let revoked = MemoryRevocationStore::new();
        let ep = endpoints(
            users,
            revoked.clone(),
            None::<tower_jwt_auth::token::MemoryLoginThrottle>,
        );
        token_benches(&mut g, &rt, "memory", &ep, &alice);
        let r = revoked.clone();
        let verifier = Verifier::new(keys()).revocation(move |j: &str| r.is_revoked_sync(j));
        let svc = JwtAuthLayer::<SimpleJwtClaims>::new(verifier)
            .layer(handler())
            .map_response(|r: Response<_>| r.map(|_| String::new()));
        protected_bench(&mut g, &rt, "memory", svc, &access_for(&alice));
    }

    // Redis: revocations, rotation and the throttle; users in memory. With `appendfsync always`
    // (what the docs ask for: nothing acknowledged is lost) and with Redis's default `everysec`.
    for fsync in ["always", "everysec"] {
        if !have("redis-server") {
            eprintln!("skipped the Redis backend: redis-server is not installed");
            break;
        }
        let redis = redis_server::Redis::start();
        let set_fsync = Command::new("redis-cli")
            .args([
                "-p",
                &redis.port.to_string(),
                "CONFIG",
                "SET",
                "appendfsync",
                fsync,
            ])
            .output()
            .expect("redis-cli");
        assert_eq!(String::from_utf8_lossy(&set_fsync.stdout).trim(), "OK");
        let name = format!("redis-{fsync}");
        let (conn, set, users, alice) = rt.block_on(async {
            let conn = RedisConnection::connect(&redis.url()).await.expect("redis");
            let set = conn.revocation_set(RevocationFailMode::Closed).await;
            assert!(set.is_current());
            let users = MemoryUserStore::with_hasher(cheapest_hasher());
            let alice = users
                .add_user("alice", "wonderland-42", true)
                .await
                .expect("add");
            (conn, set, users, alice)
        });
        let ep = endpoints(
            users,
            conn.revocations().with_local_set(&set),
            Some(conn.throttle(Default::default())),
        );
        token_benches(&mut g, &rt, &name, &ep, &alice);
        let verifier = Verifier::new(keys()).revocation(set.clone());
        let svc = JwtAuthLayer::<SimpleJwtClaims>::new(verifier)
            .layer(handler())
            .map_response(|r: Response<_>| r.map(|_| String::new()));
        protected_bench(&mut g, &rt, &name, svc, &access_for(&alice));
        assert!(!set.is_revoked("never-revoked"));
        redis.kill();
    }

    // PostgreSQL (with `fsync=off` as the tests run it, then with fsync on) and SQLite: users and
    // revocations in the database.
    if have_postgres() {
        let pg = pg_server::Postgres::start();
        let url = rt.block_on(pg.fresh_db());
        sql_backend(&mut g, &rt, "postgres-fsync-off", &url);
        rt.block_on(async {
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            sqlx::query("ALTER SYSTEM SET fsync = on")
                .execute(&pool)
                .await
                .expect("fsync on");
            sqlx::query("SELECT pg_reload_conf()")
                .execute(&pool)
                .await
                .expect("reload");
            pool.close().await;
        });
        let url = rt.block_on(pg.fresh_db());
        sql_backend(&mut g, &rt, "postgres-fsync-on", &url);
    } else {
        eprintln!("skipped the PostgreSQL backend: initdb is not installed");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    sql_backend(&mut g, &rt, "sqlite", &url);
    g.finish();
}

/// The three benches on the database at `url`.
fn sql_backend(
    g: &mut BenchmarkGroup<'_, WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    url: &str,
) {
    let (db, users, alice) = rt.block_on(async {
        let db = SqlDatabase::connect(url).await.expect("database");
        db.migrate().await.expect("migrate");
        let users = SqlUserStore::with_hasher(db.clone(), cheapest_hasher());
        let alice = users
            .add_user("alice", "wonderland-42", true)
            .await
            .expect("add");
        (db, users, alice)
    });
    let ep = endpoints(
        users,
        db.revocations(),
        None::<tower_jwt_auth::token::MemoryLoginThrottle>,
    );
    token_benches(g, rt, name, &ep, &alice);
    protected_bench(g, rt, name, asking(db.revocations()), &access_for(&alice));
}

criterion_group!(benches, stores);
criterion_main!(benches);
