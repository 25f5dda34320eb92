//! Refresh rotation: atomic under concurrency (simplejwt's check-then-blacklist race must not
//! exist here) and reuse detection with family revocation (RFC 9700 section 4.14).
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use http::StatusCode;
use tokio::sync::Barrier;
use tower_jwt_auth::token::TokenSettings;

use crate::support::*;

const BLACKLISTED: &str = r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#;

async fn race(n: usize, settings: TokenSettings) -> (Env, Vec<Reply>) {
    let env = env(settings).await;
    let pair = send(env.endpoints.obtain(), json(ALICE_LOGIN)).await;
    let body = refresh_body(&pair.token("refresh"));
    let barrier = Arc::new(Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let svc = env.endpoints.refresh();
        let body = body.clone();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            send(svc, json(&body)).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    (env, out)
}

async fn exactly_one_wins(n: usize) {
    let (env, results) = race(n, TokenSettings::rotating()).await;
    let winners: Vec<&Reply> = results
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "of {n} concurrent refreshes exactly one succeeds"
    );
    for r in results.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(r.body, BLACKLISTED);
        assert_framing(r);
    }
    // The losers were reuses: the whole family, including the winner's new token, is revoked.
    let new = winners[0].token("refresh");
    let res = send(env.endpoints.refresh(), refresh_req(&new)).await;
    if n > 1 {
        assert_eq!(res.body, BLACKLISTED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_8_concurrent_refreshes_exactly_one_wins() {
    exactly_one_wins(8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_64_concurrent_refreshes_exactly_one_wins() {
    exactly_one_wins(64).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_family_revocation_the_race_winner_keeps_its_token() {
    let mut s = TokenSettings::rotating();
    s.revoke_family_on_reuse = false;
    let (env, results) = race(64, s).await;
    let winners: Vec<&Reply> = results
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    assert_eq!(winners.len(), 1);
    assert!(
        results
            .iter()
            .filter(|r| r.status != StatusCode::OK)
            .all(|r| r.body == BLACKLISTED)
    );
    // No family revocation: the winner's token lives on.
    let new = winners[0].token("refresh");
    let res = send(env.endpoints.refresh(), refresh_req(&new)).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn reuse_revokes_the_family() {
    let env = env(TokenSettings::rotating()).await;
    let pair = send(env.endpoints.obtain(), json(ALICE_LOGIN)).await;
    let a = pair.token("refresh");
    let r1 = send(env.endpoints.refresh(), refresh_req(&a)).await;
    assert_eq!(r1.status, StatusCode::OK);
    let b = r1.token("refresh");
    let r2 = send(env.endpoints.refresh(), refresh_req(&b)).await;
    assert_eq!(r2.status, StatusCode::OK);
    let c = r2.token("refresh");
    // A stolen copy of `a` is replayed: rejected, and `c` (the legitimate latest) dies with it.
    let replay = send(env.endpoints.refresh(), refresh_req(&a)).await;
    assert_eq!(replay.body, BLACKLISTED);
    let res = send(env.endpoints.refresh(), refresh_req(&c)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.body, BLACKLISTED);
    // Verify reports it (blacklist_after_rotation is on).
    let res = send(env.endpoints.verify(), token_req(&c)).await;
    assert_eq!(res.body, r#"{"non_field_errors":["Token is blacklisted"]}"#);
    // Another login is a new family and works.
    let other = send(env.endpoints.obtain(), json(ALICE_LOGIN)).await;
    let res = send(
        env.endpoints.refresh(),
        refresh_req(&other.token("refresh")),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
}

/// With the file stores, rotation and revocation survive a restart: a token rotated before the
/// restart is a reuse after it.
#[tokio::test]
async fn file_stores_survive_a_restart() {
    use tower_jwt_auth::store::{FileRevocationStore, FileUserStore};
    use tower_jwt_auth::token::{Issuer, TokenEndpoints};

    let dir = tempfile::tempdir().unwrap();
    let users_path = dir.path().join("users.json");
    let revoked_path = dir.path().join("revoked.log");
    let clock = TestClock::new(T_IAT);
    let hasher = fast_hasher;
    let open = || {
        let users = FileUserStore::open_with_hasher(&users_path, hasher())
            .unwrap()
            .upgrade_on_login(false);
        let revoked = FileRevocationStore::open_with_clock(&revoked_path, clock.clock()).unwrap();
        let issuer = Issuer::new(ref_keys()).unwrap().clock(clock.clock());
        TokenEndpoints::new(issuer, users, revoked, TokenSettings::rotating()).unwrap()
    };

    let endpoints = open();
    FileUserStore::open_with_hasher(&users_path, hasher())
        .unwrap()
        .add_user("alice", "wonderland-42", true)
        .await
        .unwrap();
    let pair = send(endpoints.obtain(), json(ALICE_LOGIN)).await;
    assert_eq!(pair.status, StatusCode::OK, "{}", pair.body);
    let a = pair.token("refresh");
    let r1 = send(endpoints.refresh(), refresh_req(&a)).await;
    assert_eq!(r1.status, StatusCode::OK);
    let b = r1.token("refresh");
    drop(endpoints);

    // Restart.
    let endpoints = open();
    let replay = send(endpoints.refresh(), refresh_req(&a)).await;
    assert_eq!(replay.body, BLACKLISTED);
    let res = send(endpoints.refresh(), refresh_req(&b)).await;
    assert_eq!(res.body, BLACKLISTED, "the family was revoked by the reuse");
    drop(endpoints);
    let endpoints = open();
    let res = send(endpoints.refresh(), refresh_req(&b)).await;
    assert_eq!(res.body, BLACKLISTED, "and that was persisted too");
}
