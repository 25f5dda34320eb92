//! Login throttling: reservations that hold under concurrency, the bounded hashing queue, and
//! every lockout scenario (no client address, many addresses, a proxy) with its outcome.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use http::{Request, StatusCode};
use tower_jwt_auth::ClientAddr;
use tower_jwt_auth::store::StoreError;
use tower_jwt_auth::token::{
    Attempt, ClientAddrSource, Decision, LoginThrottle, ThrottleFuture, TokenEndpoints,
    TokenSettings,
};

use crate::support::*;

const GOOD: &str = ALICE_LOGIN;
const BAD: &str = r#"{"username":"alice","password":"wrong"}"#;
const NO_ACCOUNT: &str = r#"{"detail":"No active account found with the given credentials"}"#;
const BUSY: &str =
    r#"{"detail":"Too many logins in progress; try again shortly.","code":"login_busy"}"#;

fn from(ip: &str, body: &str) -> Request<String> {
    let mut req = json(body);
    let ip: IpAddr = ip.parse().unwrap();
    req.extensions_mut().insert(ClientAddr(ip));
    req
}

/// A request from `peer` (a proxy, say) carrying `X-Forwarded-For: xff`.
fn via(peer: &str, xff: &str, body: &str) -> Request<String> {
    let mut req = from(peer, body);
    req.headers_mut()
        .insert("x-forwarded-for", xff.parse().unwrap());
    req
}

fn retry_after(res: &Reply) -> i64 {
    res.header_opt("retry-after").unwrap().parse().unwrap()
}

fn throttled_body(n: i64) -> String {
    let unit = if n == 1 { "second" } else { "seconds" };
    format!(r#"{{"detail":"Request was throttled. Expected available in {n} {unit}."}}"#)
}

/// Sends `req` until it is not throttled, waiting out each `Retry-After` on the test clock (an
/// attacker honouring the delays); returns the answer and the longest wait.
async fn patiently(env: &Env, req: impl Fn() -> Request<String>) -> (Reply, i64) {
    let mut longest = 0;
    loop {
        let res = login(env, req()).await;
        if res.status != StatusCode::TOO_MANY_REQUESTS {
            return (res, longest);
        }
        let wait = retry_after(&res);
        assert_eq!(res.body, throttled_body(wait));
        longest = longest.max(wait);
        env.clock.advance(wait);
    }
}

#[tokio::test]
async fn without_client_addresses_five_wrong_passwords_do_not_lock_the_owner_out() {
    let env = env(TokenSettings::default()).await;
    // The old lockout: 5 wrong passwords from anywhere. Now nothing happens to the owner.
    for _ in 0..5 {
        let res = login(&env, json(BAD)).await;
        assert_eq!(
            (res.status, res.body.as_str()),
            (StatusCode::UNAUTHORIZED, NO_ACCOUNT)
        );
    }
    assert_eq!(login(&env, json(GOOD)).await.status, StatusCode::OK);
    // Ten free failures on the account, then the eleventh starts the delays.
    for i in 0..11 {
        let res = login(&env, json(BAD)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    let res = login(&env, json(BAD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("1"));
    assert_eq!(res.body, throttled_body(1));
    // The owner waits that second, not 300.
    assert_eq!(
        login(&env, json(GOOD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    env.clock.advance(1);
    assert_eq!(login(&env, json(GOOD)).await.status, StatusCode::OK);
    // A persistent attacker honouring every delay: the delays double up to 60 s, never more, and
    // the owner then gets in within 60 s.
    let mut longest = 0;
    for _ in 0..30 {
        let (res, wait) = patiently(&env, || json(BAD)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        longest = longest.max(wait);
    }
    assert_eq!(longest, 60);
    let (res, wait) = patiently(&env, || json(GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
    // (The attack's window may have just ended, letting the owner in at once.)
    assert!(wait <= 60, "{wait}");
}

#[tokio::test]
async fn ten_addresses_times_five_do_not_lock_the_owner_out() {
    let env = env(TokenSettings::default()).await;
    for i in 0..10 {
        let ip = format!("10.2.0.{i}");
        for _ in 0..5 {
            let (res, wait) = patiently(&env, || from(&ip, BAD)).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED);
            assert!(wait <= 60, "{wait}");
        }
        // Each attacking address is out for the rest of its window.
        let res = login(&env, from(&ip, GOOD)).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    }
    // 50 failures on the account: the owner, from an address with no failures, gets in at once.
    let res = login(&env, from("198.51.100.20", GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test]
async fn a_distributed_attack_is_slowed_never_a_lockout() {
    let env = env(TokenSettings::default()).await;
    // 100 addresses, one failure each: all checked (each address is clean).
    for i in 0..100 {
        let res = login(&env, from(&format!("10.1.{}.{}", i / 100, i % 100), BAD)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{i}");
    }
    // Past 100 failures on one account, clean addresses are delayed too: at most 60 s.
    let res = login(&env, from("10.1.9.1", BAD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("60"));
    let res = login(&env, from("198.51.100.20", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("60"));
    env.clock.advance(60);
    assert_eq!(
        login(&env, from("198.51.100.20", GOOD)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_proxy_presenting_its_own_address_without_the_header_configured() {
    let mut s = TokenSettings::default();
    s.client_addr = ClientAddrSource::Extensions;
    let env = env(s).await;
    // Every client arrives from the proxy's address: 20 failures (any usernames) block it, and
    // with it everyone behind it, until the window ends. The fix is the next test's setting.
    for i in 0..20 {
        let body = format!(r#"{{"username":"user{i}","password":"x"}}"#);
        assert_eq!(
            login(&env, from("10.0.0.1", &body)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = login(&env, via("10.0.0.1", "198.51.100.7", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("300"));
}

#[tokio::test]
async fn a_proxy_presenting_its_own_address_with_the_header_configured() {
    let mut s = TokenSettings::default();
    s.client_addr = ClientAddrSource::forwarded_for(["10.0.0.1".parse().unwrap()]);
    let env = env(s).await;
    // 20 failures from one client behind the proxy block that client only.
    for i in 0..20 {
        let body = format!(r#"{{"username":"user{i}","password":"x"}}"#);
        let res = login(&env, via("10.0.0.1", "203.0.113.50", &body)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = login(&env, via("10.0.0.1", "203.0.113.50", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // A hop the client wrote itself (left of the proxy's entry) does not change its address.
    let res = login(&env, via("10.0.0.1", "192.0.2.1, 203.0.113.50", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client through the same proxy logs in.
    let res = login(&env, via("10.0.0.1", "198.51.100.7", GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
    // A peer that is not a trusted proxy cannot pick its address with the header.
    for i in 0..20 {
        let body = format!(r#"{{"username":"spoof{i}","password":"x"}}"#);
        let res = login(&env, via("192.0.2.200", &format!("198.18.0.{i}"), &body)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = login(&env, via("192.0.2.200", "198.18.1.1", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // The trusted proxy without the header: counted as the proxy (a misconfiguration, never an
    // address the client picked).
    let res = login(&env, from("10.0.0.1", GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
}

/// 200 logins started at once: only what the limit allows reaches the password hash.
async fn burst(env: &Env, n: usize, req: impl Fn() -> Request<String>) -> Vec<Reply> {
    env.users.check_delay_ms.store(50, Ordering::SeqCst);
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let svc = env.endpoints.obtain();
        let req = req();
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            send(svc, req).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    env.users.check_delay_ms.store(0, Ordering::SeqCst);
    out
}

fn count(replies: &[Reply], status: StatusCode) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_burst_is_limited_exactly_like_a_sequential_one() {
    let env = env(TokenSettings::default()).await;
    let replies = burst(&env, 200, || from("203.0.113.9", BAD)).await;
    assert_eq!(env.users.checks.load(Ordering::SeqCst), 5);
    assert_eq!(count(&replies, StatusCode::UNAUTHORIZED), 5);
    assert_eq!(count(&replies, StatusCode::TOO_MANY_REQUESTS), 195);
    for r in replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
    {
        assert_eq!(r.header_opt("retry-after"), Some("300"));
        assert_eq!(r.body, throttled_body(300));
    }
    // The real user, from a clean address, logs in.
    let res = login(&env, from("198.51.100.20", GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(env.users.checks.load(Ordering::SeqCst), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_concurrent_burst_without_client_addresses_reaches_the_hash_eleven_times() {
    let env = env(TokenSettings::default()).await;
    let replies = burst(&env, 200, || json(BAD)).await;
    // Ten free failures on the account, one delayed slot, the rest refused.
    assert_eq!(env.users.checks.load(Ordering::SeqCst), 11);
    assert_eq!(count(&replies, StatusCode::UNAUTHORIZED), 11);
    assert_eq!(count(&replies, StatusCode::TOO_MANY_REQUESTS), 189);
    // The owner, from an address the server can see and with no failures, gets in.
    let res = login(&env, from("198.51.100.20", GOOD)).await;
    assert_eq!(res.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_hashing_queue_answers_503_at_once_and_refunds() {
    let mut s = TokenSettings::default();
    s.max_pending_logins = 2;
    let env = env(s).await;
    env.users.check_delay_ms.store(400, Ordering::SeqCst);
    let barrier = Arc::new(tokio::sync::Barrier::new(10));
    let mut tasks = Vec::new();
    for i in 0..10 {
        let svc = env.endpoints.obtain();
        let req = from(&format!("192.0.2.{i}"), BAD);
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let t = Instant::now();
            let res = send(svc, req).await;
            (res, t.elapsed())
        }));
    }
    let mut busy = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let (res, took) = t.await.unwrap();
        if res.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(res.body, BUSY);
            assert_eq!(res.header_opt("retry-after"), Some("1"));
            assert_eq!(res.header_opt("content-type"), Some("application/json"));
            assert!(took < Duration::from_millis(400), "{took:?}");
            busy.push(i);
        } else {
            assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        }
    }
    assert_eq!(busy.len(), 8);
    assert_eq!(env.users.checks.load(Ordering::SeqCst), 2);
    env.users.check_delay_ms.store(0, Ordering::SeqCst);
    // The refused attempts were refunded: a busy address still has its five tries.
    let ip = format!("192.0.2.{}", busy[0]);
    for _ in 0..5 {
        assert_eq!(
            login(&env, from(&ip, BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&env, from(&ip, GOOD)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn two_typos_are_fine_and_success_resets() {
    let env = env(TokenSettings::default()).await;
    let ip = "198.51.100.5";
    for _ in 0..2 {
        assert_eq!(
            login(&env, from(ip, BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&env, from(ip, GOOD)).await.status, StatusCode::OK);
    // The counter was reset: four more typos still leave the account open.
    for _ in 0..4 {
        assert_eq!(
            login(&env, from(ip, BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login(&env, from(ip, GOOD)).await.status, StatusCode::OK);
    // Usernames are counted as trimmed and case-folded.
    for u in ["alice", " ALICE ", "Alice", "alicE", "aLice"] {
        let body = format!(r#"{{"username":"{u}","password":"nope"}}"#);
        assert_eq!(
            login(&env, from(ip, &body)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let res = login(&env, from(ip, GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("300"));
    assert_eq!(res.body, throttled_body(300));
    // Retry-After counts down, and the block ends by itself.
    env.clock.advance(299);
    let res = login(&env, from(ip, GOOD)).await;
    assert_eq!(res.header_opt("retry-after"), Some("1"));
    assert_eq!(res.body, throttled_body(1));
    env.clock.advance(1);
    assert_eq!(login(&env, from(ip, GOOD)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn failures_age_out_of_the_window() {
    let env = env(TokenSettings::default()).await;
    let ip = "198.51.100.6";
    for _ in 0..4 {
        login(&env, from(ip, BAD)).await;
    }
    env.clock.advance(301);
    // A new window: five more failures before the block.
    for _ in 0..5 {
        assert_eq!(
            login(&env, from(ip, BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&env, from(ip, BAD)).await.status,
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
            login(&env, from("192.0.2.1", BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&env, from("192.0.2.1", GOOD)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sliding_obtain_shares_the_throttle() {
    let env = env(TokenSettings::default()).await;
    for _ in 0..5 {
        login(&env, from("192.0.2.2", BAD)).await;
    }
    let res = send(env.endpoints.sliding_obtain(), from("192.0.2.2", GOOD)).await;
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
async fn unavailable_addresses_are_ignored_even_when_present() {
    let mut s = TokenSettings::default();
    s.client_addr = ClientAddrSource::Unavailable;
    let env = env(s).await;
    // Per-address limits are off: 6 failures "from" one address are 6 account failures.
    for _ in 0..6 {
        assert_eq!(
            login(&env, from("192.0.2.3", BAD)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login(&env, from("192.0.2.3", GOOD)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_loud_warning_at_start_up_when_addresses_may_be_unseen() {
    let users = Users::transcript().await;
    let build = |s: TokenSettings| {
        let issuer = tower_jwt_auth::token::Issuer::new(ref_keys()).unwrap();
        let users = users.clone();
        logs_of(move || {
            TokenEndpoints::new(issuer, users, Revocations::new(), s).unwrap();
        })
    };
    let log = build(TokenSettings::default());
    assert!(log.contains("WARN"), "{log}");
    assert!(log.contains("client_addr is not set"), "{log}");
    let mut s = TokenSettings::default();
    s.client_addr = ClientAddrSource::Unavailable;
    let log = build(s.clone());
    assert!(
        log.contains("LOGIN THROTTLING CANNOT SEE CLIENT ADDRESSES"),
        "{log}"
    );
    s.throttle = None;
    assert_eq!(build(s), "");
    let mut s = TokenSettings::default();
    s.client_addr = ClientAddrSource::Extensions;
    assert_eq!(build(s), "");
}

/// A throttle that refuses everything, to show a custom one is used.
#[derive(Debug)]
struct Closed;
impl LoginThrottle for Closed {
    fn reserve<'a>(&'a self, _: &'a Attempt) -> ThrottleFuture<'a, Decision> {
        Box::pin(async { Ok(Decision::Denied { retry_after: 7 }) })
    }
    fn record_success<'a>(&'a self, _: &'a Attempt) -> ThrottleFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
    fn refund<'a>(&'a self, _: &'a Attempt) -> ThrottleFuture<'a, ()> {
        Box::pin(async { Err(StoreError::Other("unused".into())) })
    }
}

#[tokio::test]
async fn a_custom_throttle_replaces_the_memory_one() {
    let env = env(TokenSettings::default()).await;
    let _service = env.endpoints.obtain();
    assert!(env.endpoints.clone().with_login_throttle(Closed).is_err());
    let mut s = TokenSettings::default();
    s.client_addr = ClientAddrSource::Extensions;
    let issuer = tower_jwt_auth::token::Issuer::new(ref_keys()).unwrap();
    let endpoints = TokenEndpoints::new(issuer, env.users.clone(), Revocations::new(), s)
        .unwrap()
        .with_login_throttle(Closed)
        .unwrap();
    let res = send(endpoints.obtain(), from("192.0.2.4", GOOD)).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.header_opt("retry-after"), Some("7"));
    assert_eq!(env.users.checks.load(Ordering::SeqCst), 0);
}
