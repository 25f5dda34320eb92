//! Login throttling: 429 + `Retry-After` past the threshold, per account and per client address.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};

use http::{Request, StatusCode};
use tower_jwt_auth::ClientAddr;
use tower_jwt_auth::token::TokenSettings;

use crate::support::*;

const GOOD: &str = ALICE_LOGIN;
const BAD: &str = r#"{"username":"alice","password":"wrong"}"#;
const NO_ACCOUNT: &str = r#"{"detail":"No active account found with the given credentials"}"#;

fn from(ip: &str, body: &str) -> Request<String> {
    let mut req = json(body);
    let ip: IpAddr = ip.parse().unwrap();
    req.extensions_mut().insert(ClientAddr(ip));
    req
}

#[tokio::test]
async fn a_burst_of_30_is_stopped() {
    let env = env(TokenSettings::default()).await;
    let mut statuses = Vec::new();
    for _ in 0..30 {
        let res = login(&env, json(BAD)).await;
        if res.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(res.header_opt("retry-after"), Some("300"));
            assert_eq!(
                res.body,
                r#"{"detail":"Request was throttled. Expected available in 300 seconds."}"#
            );
        } else {
            assert_eq!(res.body, NO_ACCOUNT);
        }
        statuses.push(res.status.as_u16());
    }
    assert_eq!(statuses[..5], [401; 5]);
    assert_eq!(statuses[5..], [429; 25]);
    // Even the right password waits: the password is not checked while locked out.
    let res = login(&env, json(GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Retry-After counts down, and the lockout ends by itself.
    env.clock.advance(299);
    let res = login(&env, json(GOOD)).await;
    assert_eq!(res.header_opt("retry-after"), Some("1"));
    assert_eq!(
        res.body,
        r#"{"detail":"Request was throttled. Expected available in 1 second."}"#
    );
    env.clock.advance(1);
    let res = login(&env, json(GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn two_typos_are_fine_and_success_resets() {
    let env = env(TokenSettings::default()).await;
    for _ in 0..2 {
        assert_eq!(
            login(&env, json(BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&env, json(GOOD)).await.status, StatusCode::OK);
    // The counter was reset: four more typos still leave the account open.
    for _ in 0..4 {
        assert_eq!(
            login(&env, json(BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&env, json(GOOD)).await.status, StatusCode::OK);
    // Usernames are counted as trimmed and case-folded.
    for u in ["alice", " ALICE ", "Alice", "alicE", "aLice"] {
        let body = format!(r#"{{"username":"{u}","password":"nope"}}"#);
        assert_eq!(
            login(&env, json(&body)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&env, json(GOOD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn failures_age_out_of_the_window() {
    let env = env(TokenSettings::default()).await;
    for _ in 0..4 {
        login(&env, json(BAD)).await;
    }
    env.clock.advance(301);
    // A new window: five more failures before the lockout.
    for _ in 0..5 {
        assert_eq!(
            login(&env, json(BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&env, json(BAD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn failures_are_also_counted_per_client_address() {
    let env = env(TokenSettings::default()).await;
    // 20 failures over 20 usernames from one address (a credential-stuffing sweep).
    for i in 0..20 {
        let body = format!(r#"{{"username":"user{i}","password":"x"}}"#);
        assert_eq!(
            login(&env, from("203.0.113.7", &body)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = login(&env, from("203.0.113.7", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("300"));
    // Another address is not affected; a SocketAddr in the extensions works too.
    assert_eq!(
        login(&env, from("198.51.100.1", GOOD)).await.status,
        StatusCode::OK
    );
    let mut req = json(GOOD);
    req.extensions_mut()
        .insert("203.0.113.7:4242".parse::<SocketAddr>().unwrap());
    assert_eq!(login(&env, req).await.status, StatusCode::TOO_MANY_REQUESTS);
    // IPv6 neighbours in one /64 share a counter.
    for i in 0..20 {
        let body = format!(r#"{{"username":"v6user{i}","password":"x"}}"#);
        let ip = format!("2001:db8:0:1::{:x}", i + 1);
        assert_eq!(
            login(&env, from(&ip, &body)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = login(&env, from("2001:db8:0:1:ffff::1", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn throttling_can_be_disabled() {
    let mut s = TokenSettings::default();
    s.throttle = None;
    let env = env(s).await;
    for _ in 0..30 {
        assert_eq!(
            login(&env, json(BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&env, json(GOOD)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn sliding_obtain_shares_the_throttle() {
    let env = env(TokenSettings::default()).await;
    for _ in 0..5 {
        login(&env, json(BAD)).await;
    }
    let res = send(env.endpoints.sliding_obtain(), json(GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_framing(&res);
}

#[tokio::test]
async fn an_attacker_elsewhere_cannot_lock_the_owner_out() {
    let env = env(TokenSettings::default()).await;
    for _ in 0..10 {
        login(&env, from("192.0.2.66", BAD)).await;
    }
    assert_eq!(
        login(&env, from("192.0.2.66", GOOD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner, from their own address, is not locked out.
    assert_eq!(
        login(&env, from("198.51.100.20", GOOD)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_distributed_attack_on_one_account_is_stopped() {
    let env = env(TokenSettings::default()).await;
    // 50 failures from 50 addresses, 1 each: no pair and no address reaches its limit.
    for i in 0..50 {
        let res = login(&env, from(&format!("10.1.0.{i}"), BAD)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let res = login(&env, from("10.1.1.1", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("300"));
    env.clock.advance(300);
    assert_eq!(
        login(&env, from("10.1.1.1", GOOD)).await.status,
        StatusCode::OK
    );
}
