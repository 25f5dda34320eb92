//! The Redis stores (the `redis` feature) on a real `redis-server`: atomic revocation and
//! rotation across connections, the local revocation set fed by pub/sub, the shared login
//! throttle, three token-service replicas over TCP sharing Redis and PostgreSQL, and what happens
//! when Redis is killed and restarted.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower_jwt_auth::store::{
    RedisConnection, RedisRevocationSet, RevocationFailMode, RevocationStore, Rotation,
    SqlDatabase, SqlUserStore, StoreError,
};
use tower_jwt_auth::token::{
    Attempt, Decision, Issuer, LoginThrottle, ThrottleSettings, TokenEndpoints, TokenSettings,
};
use tower_jwt_auth::{ClientAddr, JwtAuthLayer, RevocationCheck, SimpleJwtClaims, Verifier};

use crate::redis_server::{Redis, prefix, shared};
use crate::support::*;

const EXP: i64 = 4_102_444_800;

async fn conn(redis: &Redis, prefix: &str) -> RedisConnection {
    RedisConnection::connect(&redis.url())
        .await
        .expect("connect")
        .prefix(prefix)
}

/// Waits (at most `limit`) until `f` holds. The limits are generous: pub/sub delivery is fast,
/// but this binary runs server processes beside it on a shared machine.
async fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    f()
}

#[tokio::test]
async fn revocation_and_rotation_with_families() {
    let p = prefix();
    let store = conn(shared(), &p).await.revocations();
    assert!(!store.is_revoked("a").await.expect("ok"));
    assert!(store.revoke_if_absent("a", EXP).await.expect("ok"));
    assert!(!store.revoke_if_absent("a", EXP).await.expect("ok"));
    assert!(store.is_revoked("a").await.expect("ok"));
    assert_eq!(
        store.rotate("r1", EXP, "r2", EXP).await.expect("ok"),
        Rotation::Rotated
    );
    assert_eq!(
        store.rotate("r2", EXP, "r3", EXP + 9).await.expect("ok"),
        Rotation::Rotated
    );
    assert!(store.is_revoked("r1").await.expect("ok") && store.is_revoked("r2").await.expect("ok"));
    assert!(!store.is_revoked("r3").await.expect("ok"));
    assert_eq!(
        store.rotate("s1", EXP, "s2", EXP).await.expect("ok"),
        Rotation::Rotated
    );
    assert_eq!(
        store.rotate("r1", EXP, "r4", EXP).await.expect("ok"),
        Rotation::Reused
    );
    assert!(
        store.is_revoked("r3").await.expect("ok"),
        "the live head of the family"
    );
    assert!(!store.is_revoked("r4").await.expect("ok"), "never issued");
    assert!(!store.revoke_if_absent("r3", EXP).await.expect("ok"));
    assert_eq!(
        store.rotate("r3", EXP, "r5", EXP).await.expect("ok"),
        Rotation::Reused
    );
    assert!(!store.is_revoked("s2").await.expect("ok"));
    assert!(matches!(
        store.rotate("t1", EXP, "s2", EXP).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !store.is_revoked("t1").await.expect("ok"),
        "a refused rotation changes nothing"
    );
    assert!(matches!(
        store.rotate("t1", EXP, "t1", EXP).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.revoke_if_absent("", EXP).await,
        Err(StoreError::Invalid(_))
    ));
    // Keys expire with the token (plus the largest leeway): nothing to prune.
    let ttl = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &shared().port.to_string(),
            "TTL",
            &format!("{p}rev:a"),
        ])
        .output()
        .expect("redis-cli");
    let ttl: i64 = String::from_utf8_lossy(&ttl.stdout)
        .trim()
        .parse()
        .expect("a TTL");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let want = EXP + tower_jwt_auth::verify::MAX_LEEWAY_SECS as i64 - now;
    assert!((want - 5..=want).contains(&ttl), "{ttl} vs {want}");
}

#[tokio::test]
async fn of_64_concurrent_rotations_on_three_connections_exactly_one_wins_and_every_set_sees_the_family_revoked()
 {
    let p = prefix();
    let mut conns = Vec::new();
    let mut sets = Vec::new();
    for _ in 0..3 {
        let c = conn(shared(), &p).await;
        sets.push(c.revocation_set(RevocationFailMode::Closed).await);
        conns.push(c);
    }
    assert!(sets.iter().all(RedisRevocationSet::is_current));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let s = conns[i % 3].revocations();
        tasks.push(tokio::spawn(async move {
            s.rotate("root", EXP, &format!("child-{i}"), EXP).await
        }));
    }
    let mut winners = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        if t.await.expect("join").expect("rotate") == Rotation::Rotated {
            winners.push(i);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let child = format!("child-{}", winners[0]);
    for set in &sets {
        let s = set.clone();
        let c = child.clone();
        assert!(
            eventually(Duration::from_secs(5), || s.is_revoked(&c)
                && s.is_revoked("root"))
            .await,
            "the winner's child is revoked with its family on every replica"
        );
        assert!(!set.is_revoked("child-x"));
    }
}

#[tokio::test]
async fn the_local_set_loads_what_was_revoked_before_and_follows_what_comes_after() {
    let p = prefix();
    let a = conn(shared(), &p).await;
    let before = a.revocations();
    assert!(before.revoke_if_absent("early", EXP).await.expect("ok"));
    assert_eq!(
        before.rotate("f1", EXP, "f2", EXP).await.expect("ok"),
        Rotation::Rotated
    );
    assert_eq!(
        before.rotate("f1", EXP, "f3", EXP).await.expect("ok"),
        Rotation::Reused
    );
    let b = conn(shared(), &p).await;
    let set_b = b.revocation_set(RevocationFailMode::Closed).await;
    assert!(set_b.is_current());
    assert!(set_b.is_revoked("early"), "loaded at start");
    assert!(
        set_b.is_revoked("f2"),
        "a member of a revoked family, loaded at start"
    );
    assert!(!set_b.is_revoked("later"));
    let set_a = a.revocation_set(RevocationFailMode::Closed).await;
    let store_a = a.revocations().with_local_set(&set_a);
    assert!(store_a.revoke_if_absent("later", EXP).await.expect("ok"));
    assert!(set_a.is_revoked("later"), "the own instance's set, at once");
    let s = set_b.clone();
    assert!(eventually(Duration::from_secs(5), || s.is_revoked("later")).await);
    assert!(!set_b.is_revoked("other"));
    // Through the verifier: B's verifier refuses a token revoked on A.
    let token = mint_raw(&format!(
        r#"{{"token_type":"access","exp":{EXP},"iat":{T_IAT},"jti":"later","user_id":"1"}}"#
    ));
    let verifier = Verifier::new(ref_keys()).revocation(set_b.clone());
    let err = verifier
        .verify::<SimpleJwtClaims>(&token)
        .expect_err("revoked");
    assert_eq!(err.kind(), tower_jwt_auth::AuthErrorKind::Revoked);
}

#[tokio::test]
async fn the_throttle_is_shared_and_reserves_atomically() {
    let p = prefix();
    let throttles: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(std::sync::Arc::new(
                conn(shared(), &p)
                    .await
                    .throttle(ThrottleSettings::default()),
            ));
        }
        v
    };
    let ip = Some(ClientAddr("203.0.113.7".parse().expect("ip")));
    let attempt = Attempt::new("alice", ip);
    let mut tasks = Vec::new();
    for i in 0..24 {
        let t = std::sync::Arc::clone(&throttles[i % 3]);
        let a = attempt.clone();
        tasks.push(tokio::spawn(async move { t.reserve(&a).await }));
    }
    let mut allowed = 0;
    for t in tasks {
        match t.await.expect("join").expect("reserve") {
            Decision::Allowed => allowed += 1,
            Decision::Denied { retry_after } => assert!((295..=300).contains(&retry_after)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        allowed, 5,
        "five per username and address, over all replicas"
    );
    // A refund gives back exactly one reservation.
    throttles[1].refund(&attempt).await.expect("refund");
    assert_eq!(
        throttles[2].reserve(&attempt).await.expect("ok"),
        Decision::Allowed
    );
    assert!(matches!(
        throttles[0].reserve(&attempt).await.expect("ok"),
        Decision::Denied { .. }
    ));
    // The owner from another address is not blocked; a success resets the username.
    let home = Attempt::new(
        "alice",
        Some(ClientAddr("198.51.100.20".parse().expect("ip"))),
    );
    assert_eq!(
        throttles[0].reserve(&home).await.expect("ok"),
        Decision::Allowed
    );
    throttles[1].record_success(&home).await.expect("success");
    // Usernames are case-folded, as in memory: ALICE from the blocked address is blocked too,
    // while the success from home cleared only home's pair.
    let upper = Attempt::new("ALICE", ip);
    assert!(matches!(
        throttles[2].reserve(&upper).await.expect("ok"),
        Decision::Denied { .. }
    ));
    let home_upper = Attempt::new("ALICE", home_addr());
    assert_eq!(
        throttles[2].reserve(&home_upper).await.expect("ok"),
        Decision::Allowed
    );
}

fn home_addr() -> Option<ClientAddr> {
    Some(ClientAddr("198.51.100.20".parse().expect("ip")))
}

/// One replica: token endpoints and a protected route behind the layer, served over TCP.
async fn replica(
    db: &SqlDatabase,
    redis: &RedisConnection,
    fail: RevocationFailMode,
) -> (SocketAddr, RedisRevocationSet, tokio::task::JoinHandle<()>) {
    let set = redis.revocation_set(fail).await;
    let users = SqlUserStore::with_hasher(db.clone(), fast_hasher());
    let store = redis.revocations().with_local_set(&set);
    let ep = TokenEndpoints::new(
        Issuer::new(ref_keys()).expect("issuer"),
        users,
        store,
        TokenSettings::rotating(),
    )
    .expect("endpoints")
    .with_login_throttle(redis.throttle(ThrottleSettings::default()))
    .expect("throttle");
    let layer = JwtAuthLayer::<SimpleJwtClaims>::new(
        Verifier::simplejwt(ref_keys()).revocation(set.clone()),
    );
    let app = axum::Router::new()
        .route_service("/api/token/", ep.obtain())
        .route_service("/api/token/refresh/", ep.refresh())
        .route_service("/api/token/blacklist/", ep.blacklist())
        .route(
            "/protected/",
            axum::routing::get(|| async { "ok" }).layer(layer),
        )
        .layer(axum::middleware::map_request(
            |axum::extract::ConnectInfo(addr): axum::extract::ConnectInfo<SocketAddr>,
             mut req: axum::extract::Request| async move {
                req.extensions_mut().insert(ClientAddr(addr.ip()));
                req
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (addr, set, server)
}

/// One HTTP/1.1 request; the status and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let auth = auth.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    let status = out
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not HTTP: {out:?}"));
    let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
    (status, body)
}

fn field(body: &str, name: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}"));
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_owned()
}

#[tokio::test]
async fn three_replicas_share_rotation_logout_and_the_throttle() {
    let db = SqlDatabase::connect(&crate::pg_server::fresh_db().await)
        .await
        .expect("db");
    db.migrate().await.expect("migrate");
    SqlUserStore::with_hasher(db.clone(), fast_hasher())
        .add_user("alice", "wonderland-42", true)
        .await
        .expect("add");
    let p = prefix();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        let c = conn(shared(), &p).await;
        nodes.push(replica(&db, &c, RevocationFailMode::Closed).await);
    }
    let [a, b, c] = [nodes[0].0, nodes[1].0, nodes[2].0];
    let (st, body) = http(a, "POST", "/api/token/", None, ALICE_LOGIN).await;
    assert_eq!(st, 200, "{body}");
    let refresh = field(&body, "refresh");
    let access = field(&body, "access");
    assert_eq!(
        http(b, "GET", "/protected/", Some(&access), "").await.0,
        200
    );
    // Rotated on A, replayed on B: refused (and the family revoked).
    let (st, body) = http(
        a,
        "POST",
        "/api/token/refresh/",
        None,
        &refresh_body(&refresh),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let rotated = field(&body, "refresh");
    let (st, body) = http(
        b,
        "POST",
        "/api/token/refresh/",
        None,
        &refresh_body(&refresh),
    )
    .await;
    assert_eq!((st, field(&body, "code")), (401, "token_not_valid".into()));
    let (st, _) = http(
        c,
        "POST",
        "/api/token/refresh/",
        None,
        &refresh_body(&rotated),
    )
    .await;
    assert_eq!(st, 401, "the whole family is revoked");

    // A logout on A (the blacklist endpoint) is refused by B's token endpoints, and B's layer
    // refuses any token carrying the revoked jti.
    let (_, body) = http(c, "POST", "/api/token/", None, ALICE_LOGIN).await;
    let refresh2 = field(&body, "refresh");
    let (st, body) = http(
        a,
        "POST",
        "/api/token/blacklist/",
        None,
        &refresh_body(&refresh2),
    )
    .await;
    assert_eq!((st, body.as_str()), (200, "{}"));
    let jti = {
        let payload = refresh2.split('.').nth(1).expect("payload");
        let bytes =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .expect("base64");
        let v: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        v["jti"].as_str().expect("jti").to_owned()
    };
    let bound = mint_raw(&format!(
        r#"{{"token_type":"access","exp":{EXP},"iat":{T_IAT},"jti":"{jti}","user_id":"1"}}"#
    ));
    let set_b = nodes[1].1.clone();
    assert!(eventually(Duration::from_secs(5), || set_b.is_revoked(&jti)).await);
    let (st, body) = http(b, "GET", "/protected/", Some(&bound), "").await;
    assert_eq!(st, 401, "{body}");
    assert_eq!(
        http(c, "GET", "/protected/", Some(&access), "").await.0,
        200
    );
    let (st, _) = http(
        b,
        "POST",
        "/api/token/refresh/",
        None,
        &refresh_body(&refresh2),
    )
    .await;
    assert_eq!(st, 401);

    // The throttle is shared: five failures spread over the three, the sixth is refused anywhere.
    let wrong = r#"{"username":"alice","password":"nope"}"#;
    for (i, addr) in [a, b, c, a, b].into_iter().enumerate() {
        assert_eq!(
            http(addr, "POST", "/api/token/", None, wrong).await.0,
            401,
            "{i}"
        );
    }
    let (st, body) = http(c, "POST", "/api/token/", None, wrong).await;
    assert_eq!(st, 429, "{body}");
    for n in nodes {
        n.2.abort();
    }
}

#[tokio::test]
async fn redis_killed_and_restarted_503s_then_recovery_with_nothing_revoked_coming_back() {
    let redis = Redis::start();
    let p = prefix();
    let db = SqlDatabase::connect(&crate::pg_server::fresh_db().await)
        .await
        .expect("db");
    db.migrate().await.expect("migrate");
    SqlUserStore::with_hasher(db.clone(), fast_hasher())
        .add_user("alice", "wonderland-42", true)
        .await
        .expect("add");
    let closed_conn = conn(&redis, &p).await;
    let (node, set, server) = replica(&db, &closed_conn, RevocationFailMode::Closed).await;
    let open = conn(&redis, &p)
        .await
        .revocation_set(RevocationFailMode::Open)
        .await;
    let (_, body) = http(node, "POST", "/api/token/", None, ALICE_LOGIN).await;
    let (refresh, access) = (field(&body, "refresh"), field(&body, "access"));
    let (st, _) = http(
        node,
        "POST",
        "/api/token/blacklist/",
        None,
        &refresh_body(&refresh),
    )
    .await;
    assert_eq!(st, 200, "acknowledged");
    let store = conn(&redis, &p).await.revocations();
    assert!(store.revoke_if_absent("acked", EXP).await.expect("ok"));
    // The fail-open set learns of it by subscription: let that land before Redis dies, since
    // "the last known set" can only hold what reached it.
    assert!(eventually(Duration::from_secs(4), || open.is_revoked("acked")).await);

    redis.kill();
    // Token endpoints: JSON 503, never a token.
    for (path, body) in [
        ("/api/token/", ALICE_LOGIN.to_owned()),
        ("/api/token/refresh/", refresh_body(&refresh)),
        ("/api/token/blacklist/", refresh_body(&refresh)),
    ] {
        let (st, reply) = http(node, "POST", path, None, &body).await;
        assert_eq!(st, 503, "{path}: {reply}");
        let v: serde_json::Value = serde_json::from_str(&reply).expect("JSON");
        assert!(
            v["detail"].is_string() && v.get("access").is_none(),
            "{reply}"
        );
    }
    assert!(matches!(
        store.is_revoked("acked").await,
        Err(StoreError::Io(_))
    ));
    // The protected route: fail closed once the set knows it is stale (within its 1 s ping).
    let s = set.clone();
    assert!(eventually(Duration::from_secs(4), || !s.is_current()).await);
    let (st, _) = http(node, "GET", "/protected/", Some(&access), "").await;
    assert_eq!(st, 401, "fail closed");
    // Fail open answers from the last known set.
    assert!(!open.is_revoked("some-live-jti"));
    assert!(open.is_revoked("acked"));

    redis.restart();
    let s = set.clone();
    assert!(
        eventually(Duration::from_secs(6), || s.is_current()).await,
        "reconnected by itself"
    );
    assert_eq!(
        http(node, "GET", "/protected/", Some(&access), "").await.0,
        200
    );
    let mut recovered = false;
    // Generous: the reconnect backoff is short, but this binary runs server processes beside it.
    for _ in 0..150 {
        let (st, _) = http(node, "POST", "/api/token/", None, ALICE_LOGIN).await;
        if st == 200 {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "the token endpoints recover by themselves");
    // AOF: what was acknowledged before the kill -9 is still revoked.
    assert!(store.is_revoked("acked").await.expect("ok"));
    let (st, _) = http(
        node,
        "POST",
        "/api/token/refresh/",
        None,
        &refresh_body(&refresh),
    )
    .await;
    assert_eq!(st, 401, "the logged-out refresh token stays revoked");
    assert!(set.is_revoked("acked"), "reloaded into the local set");
    server.abort();
    redis.kill();
}
