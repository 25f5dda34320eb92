//! Several `schedule_server` processes (the example, built by cargo with every feature) sharing
//! PostgreSQL and Redis, or one on SQLite: concurrent refreshes of one token spread over the
//! processes, a logout on one refused by the others, a user added with the CLI while they run,
//! kill -9 of a process mid-rotation, Redis killed and restarted, PostgreSQL stopped and started.
//! Real servers on 127.0.0.1 and ephemeral ports, real HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::pg_server::Postgres;
use crate::redis_server::Redis;

/// The shared signing secret of the replicas.
const SECRET: &str = "replica-secret-0123456789abcdef0123456789abcdef";
const ALICE: &str = r#"{"username":"alice","password":"wonderland-42"}"#;
const BLACKLISTED: &str = r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#;
const VERIFY_BLACKLISTED: &str = r#"{"non_field_errors":["Token is blacklisted"]}"#;
const ROTATING: [&str; 2] = ["--rotate-refresh-tokens", "--blacklist-after-rotation"];

/// One replica test at a time: each runs two or three server processes, and their timing
/// assertions (recovery deadlines) should not depend on how many others run beside them.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The example's executable (built once; see `support::example_exe`).
fn exe() -> &'static Path {
    crate::support::example_exe(true)
}

/// One `schedule_server` process.
struct Server {
    child: Child,
    addr: SocketAddr,
    args: Vec<String>,
    banner: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// `serve --addr 127.0.0.1:0 ARGS…`, waiting for the banner's address.
    fn start(args: &[&str]) -> Self {
        Self::start_on("127.0.0.1:0", args)
    }

    fn start_on(addr: &str, args: &[&str]) -> Self {
        Self::start_env(addr, args, &[])
    }

    /// `serve --addr ADDR ARGS…` with the environment variables `env` (SCHEDULE_DATABASE_URL and
    /// SCHEDULE_REDIS_URL are unset unless given here).
    fn start_env(addr: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all = vec!["serve".to_owned(), "--addr".into(), addr.into()];
        all.extend(args.iter().map(|&a| a.to_owned()));
        let mut child = Command::new(exe())
            .args(&all)
            .env("JWT_SECRET", SECRET)
            .env("RUST_LOG", "info")
            .env_remove("SCHEDULE_DATABASE_URL")
            .env_remove("SCHEDULE_REDIS_URL")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("log")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = String::new();
        let addr = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no banner; log:\n{}", log.lock().expect("log")));
            banner += &line;
            banner.push('\n');
            if let Some(a) = line.strip_prefix("schedule_server listening on http://") {
                break a.parse().expect("an address");
            }
        };
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            banner += &line;
            banner.push('\n');
        }
        Self {
            child,
            addr,
            args: args.iter().map(|&a| a.to_owned()).collect(),
            banner,
            log,
        }
    }

    /// The same server again on the same address.
    fn restart(&self) -> Self {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let addr = self.addr.to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        // The port is free once the killed process is reaped.
        while std::net::TcpListener::bind(self.addr).is_err() {
            assert!(Instant::now() < deadline, "{addr} stays in use");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self::start_on(&addr, &args)
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM: a graceful shutdown exits 0.
    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{status:?}");
    }

    fn log(&self) -> String {
        self.log.lock().expect("log").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `schedule_server users …ARGS` with `stdin`; success, stdout, stderr.
fn cli(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(exe())
        .arg("users")
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("SCHEDULE_DATABASE_URL")
        .env_remove("SCHEDULE_REDIS_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn add_user(name: &str, password: &str, db: &str) {
    let (ok, out, err) = cli(
        &["add", name, "--database-url", db],
        &format!("{password}\n"),
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.starts_with(&format!("added user {name:?} with id ")),
        "{out}"
    );
}

/// A reply: status and body.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// The status line and headers.
    head: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    fn field(&self, name: &str) -> String {
        self.json()[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
            .to_owned()
    }
}

/// Why a request got no reply.
#[derive(Debug, PartialEq)]
enum Failed {
    /// Nothing was sent: the request certainly had no effect.
    Refused,
    /// Sent, but no complete answer: it may or may not have had its effect.
    Lost,
}

/// One HTTP/1.1 request with a JSON body over a fresh connection.
async fn try_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> Result<Reply, Failed> {
    try_http_as(addr, method, path, bearer, "application/json", body).await
}

/// One HTTP/1.1 request with a body of `content_type` over a fresh connection.
async fn try_http_as(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    content_type: &str,
    body: &str,
) -> Result<Reply, Failed> {
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|_| Failed::Refused)?;
    let auth = bearer.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: replica\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|_| Failed::Lost)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.map_err(|_| Failed::Lost)?;
    let out = String::from_utf8_lossy(&out);
    let status = out
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or(Failed::Lost)?;
    let (head, body) = out.split_once("\r\n\r\n").ok_or(Failed::Lost)?;
    // Every answer here has a Content-Length (no chunking): a short body is a lost answer.
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
        })
        .unwrap_or(0);
    if body.len() < len {
        return Err(Failed::Lost);
    }
    Ok(Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: &str,
) -> Reply {
    try_http(addr, method, path, bearer, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path} on {addr}: {e:?}"))
}

fn refresh_body(token: &str) -> String {
    format!(r#"{{"refresh":"{token}"}}"#)
}

async fn login(addr: SocketAddr, body: &str) -> (String, String) {
    let r = http(addr, "POST", "/api/token/", None, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    (r.field("access"), r.field("refresh"))
}

async fn refresh(addr: SocketAddr, token: &str) -> Reply {
    http(
        addr,
        "POST",
        "/api/token/refresh/",
        None,
        &refresh_body(token),
    )
    .await
}

async fn verify(addr: SocketAddr, token: &str) -> Reply {
    let body = format!(r#"{{"token":"{token}"}}"#);
    http(addr, "POST", "/api/token/verify/", None, &body).await
}

async fn protected(addr: SocketAddr, access: &str) -> Reply {
    http(addr, "GET", "/api/weekly_schedule/", Some(access), "").await
}

/// Polls `f` every 2 ms until it holds or `limit` passes; how long it took.
async fn until<F, Fut>(limit: Duration, mut f: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if f().await {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    None
}

/// A fresh PostgreSQL database URL carrying a password (the server trusts every local login,
/// so it is ignored by PostgreSQL, but must never be printed).
async fn db_with_password(pg: Option<&Postgres>) -> String {
    let url = match pg {
        Some(pg) => pg.fresh_db().await,
        None => crate::pg_server::fresh_db().await,
    };
    url.replacen("postgres@", "postgres:hunter2-secret@", 1)
}

/// `n` servers sharing `db` and `redis`, with rotation and blacklisting.
fn replicas(n: usize, db: &str, redis: &str) -> Vec<Server> {
    let args = [
        "--database-url",
        db,
        "--redis-url",
        redis,
        ROTATING[0],
        ROTATING[1],
    ];
    (0..n).map(|_| Server::start(&args)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_processes_share_rotation_reuse_detection_logout_and_users() {
    let _serial = one_at_a_time().await;
    let redis = Redis::start();
    let db = db_with_password(None).await;
    add_user("alice", "wonderland-42", &db);
    let nodes = replicas(3, &db, &redis.url());
    let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.addr).collect();
    for n in &nodes {
        assert!(
            n.banner
                .contains("database: postgres://postgres:***@127.0.0.1:"),
            "{}",
            n.banner
        );
        assert!(n.banner.contains("(1 users)"), "{}", n.banner);
        assert!(
            n.banner.contains(&format!("redis: {}", redis.url())),
            "{}",
            n.banner
        );
        assert!(!n.banner.contains("hunter2") && !n.log().contains("hunter2"));
    }

    // 64 concurrent refreshes of one refresh token, spread over the three: one winner.
    let (access, token) = login(addrs[0], ALICE).await;
    for &a in &addrs {
        assert_eq!(protected(a, &access).await.status, 200);
    }
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (addr, t) = (addrs[i % 3], token.clone());
        tasks.push(tokio::spawn(async move { refresh(addr, &t).await }));
    }
    let mut winners = Vec::new();
    for t in tasks {
        let r = t.await.expect("join");
        match r.status {
            200 => winners.push(r),
            401 => assert_eq!(r.body, BLACKLISTED),
            _ => panic!("{r:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of 64 refreshes wins");
    let (won_access, won_refresh) = (winners[0].field("access"), winners[0].field("refresh"));
    // Reuse detection: the whole family is refused on all three, refresh and access tokens.
    for &a in &addrs {
        let r = refresh(a, &won_refresh).await;
        assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
        let lag = until(Duration::from_secs(2), || {
            let t = won_access.clone();
            async move { protected(a, &t).await.status == 401 }
        })
        .await;
        assert!(lag.is_some(), "the family's access token is refused on {a}");
        assert_eq!(protected(a, &access).await.status, 401);
    }

    // A logout on B: A's and C's protected route refuse the session's access token.
    let (access, token) = login(addrs[2], ALICE).await;
    for &a in &addrs {
        assert_eq!(protected(a, &access).await.status, 200);
    }
    let r = http(
        addrs[1],
        "POST",
        "/api/token/blacklist/",
        None,
        &refresh_body(&token),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    for a in [addrs[0], addrs[2]] {
        let lag = until(Duration::from_secs(1), || {
            let t = access.clone();
            async move { protected(a, &t).await.status == 401 }
        })
        .await
        .unwrap_or_else(|| panic!("{a} still accepts a logged-out session after 1 s"));
        eprintln!(
            "logout on B refused by {a} after {:.1} ms (measured)",
            lag.as_secs_f64() * 1e3
        );
        let r = protected(a, &access).await;
        assert_eq!(r.json()["code"], "token_not_valid", "{}", r.body);
        let r = refresh(a, &token).await;
        assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
    }
    // Another session of the same user is untouched.
    let (other, _) = login(addrs[0], ALICE).await;
    assert_eq!(protected(addrs[1], &other).await.status, 200);

    // A token without a session (as issued without --redis-url) is refused.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let no_sid = tower_jwt_auth::Keys::hs256(SECRET.as_bytes())
        .expect("keys")
        .encode(&serde_json::json!({
            "token_type": "access", "exp": now + 300, "iat": now,
            "jti": "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", "user_id": "1",
        }))
        .expect("token");
    let r = protected(addrs[0], &no_sid).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json()["messages"][0]["message"],
        "Token has no id",
        "{}",
        r.body
    );

    // A user added with the CLI while the three run logs in on all three.
    add_user("bob", "builder-of-things", &db);
    for &a in &addrs {
        let (access, _) = login(a, r#"{"username":"bob","password":"builder-of-things"}"#).await;
        assert_eq!(protected(a, &access).await.status, 200);
    }
    let (ok, out, _) = cli(&["list", "--database-url", &db], "");
    assert!(ok);
    assert_eq!(out, "id\tusername\tactive\n1\talice\tyes\n2\tbob\tyes\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_of_a_process_mid_rotation_loses_nothing_acknowledged() {
    let _serial = one_at_a_time().await;
    let redis = Redis::start();
    let db = db_with_password(None).await;
    add_user("alice", "wonderland-42", &db);
    let mut nodes = replicas(3, &db, &redis.url());
    let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.addr).collect();
    const CHAINS: usize = 6;
    const ROUNDS: usize = 30;
    let mut starts = Vec::new();
    for _ in 0..CHAINS {
        starts.push(login(addrs[0], ALICE).await.1);
    }
    // Each chain rotates its token ROUNDS times, round-robin over the three processes; a request
    // that could not be sent goes to the next process; one sent but unanswered ends the chain.
    let acked = Arc::new(AtomicUsize::new(0));
    let mut chains = Vec::new();
    for (c, start) in starts.into_iter().enumerate() {
        let addrs = addrs.clone();
        let acked = Arc::clone(&acked);
        chains.push(tokio::spawn(async move {
            let mut rotations: Vec<(String, String)> = Vec::new();
            let mut current = start;
            let mut lost = false;
            let mut i = c;
            'rounds: for _ in 0..ROUNDS {
                loop {
                    let addr = addrs[i % 3];
                    i += 1;
                    match try_http(
                        addr,
                        "POST",
                        "/api/token/refresh/",
                        None,
                        &refresh_body(&current),
                    )
                    .await
                    {
                        Ok(r) => {
                            assert_eq!(r.status, 200, "{}", r.body);
                            let next = r.field("refresh");
                            rotations.push((current, next.clone()));
                            current = next;
                            acked.fetch_add(1, Ordering::Relaxed);
                            continue 'rounds;
                        }
                        Err(Failed::Refused) => continue,
                        Err(Failed::Lost) => {
                            eprintln!("chain {c}: lost on {addr}");
                            lost = true;
                            break 'rounds;
                        }
                    }
                }
            }
            (rotations, current, lost)
        }));
    }
    // kill -9 of C while rotations are in flight.
    while acked.load(Ordering::Relaxed) < CHAINS * ROUNDS / 3 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    nodes[2].kill9();
    let killed_at = acked.load(Ordering::Relaxed);
    let mut results = Vec::new();
    for c in chains {
        results.push(c.await.expect("join"));
    }
    let total: usize = results.iter().map(|r| r.0.len()).sum();
    assert!(
        total > killed_at,
        "rotations went on after the kill ({killed_at} → {total})"
    );
    let survivors = [addrs[0], addrs[1]];
    for (rotations, last, lost) in &results {
        // Every acknowledged rotation's predecessor stays revoked, on every survivor.
        for (old, _) in rotations {
            for &a in &survivors {
                let r = verify(a, old).await;
                assert_eq!((r.status, r.body.as_str()), (400, VERIFY_BLACKLISTED));
            }
        }
        if *lost {
            // Unanswered (only C died, so the request was C's): its rotation script ran in
            // Redis or did not, nothing in between.
            let r = verify(survivors[0], last).await;
            match r.status {
                // Not rotated: the token is live and refreshes exactly once, as if acknowledged.
                200 => {
                    assert_eq!(r.body, "{}");
                    let r = refresh(survivors[0], last).await;
                    assert_eq!(r.status, 200, "{}", r.body);
                    assert!(r.field("refresh").starts_with("ey"), "{}", r.body);
                }
                // Rotated, the successor never delivered: the token is revoked, and refreshing
                // it is a reuse.
                400 => assert_eq!(r.body, VERIFY_BLACKLISTED),
                _ => panic!("{r:?}"),
            }
            let r = refresh(survivors[1], last).await;
            assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
            continue;
        }
        // The last acknowledged token is live, and refreshes exactly once.
        let r = verify(survivors[1], last).await;
        assert_eq!((r.status, r.body.as_str()), (200, "{}"));
        assert_eq!(refresh(survivors[0], last).await.status, 200);
        let r = refresh(survivors[1], last).await;
        assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
    }
    // C started again sees the same: nothing it acknowledged before dying was lost.
    let c = nodes[2].restart();
    for (rotations, _, _) in &results {
        for (old, _) in rotations {
            assert_eq!(verify(c.addr, old).await.status, 400);
        }
    }
    let lost = results.iter().filter(|r| r.2).count();
    eprintln!(
        "kill -9 after {killed_at} rotations: {total} acknowledged, {lost} of {CHAINS} chains had a request in flight"
    );
}

/// A token's claims (not verified: the test's own tokens).
fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn now_secs() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    i64::try_from(now).expect("a sane clock")
}

/// The seconds left on the session's revocation in Redis (`-2`: none).
fn session_ttl(redis: &Redis, sid: &str) -> i64 {
    let out = Command::new("redis-cli")
        .args([
            "-p",
            &redis.port.to_string(),
            "TTL",
            &format!("tja:rev:{sid}"),
        ])
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a TTL")
}

/// `status` and `body`, framed as the token endpoints frame their answers: JSON, `no-store`,
/// and the challenge exactly on a 401.
fn assert_token_reply(r: &Reply, status: u16, body: &str, what: &str) {
    assert_eq!((r.status, r.body.as_str()), (status, body), "{what}");
    let head = r.head.to_ascii_lowercase();
    for line in ["content-type: application/json", "cache-control: no-store"] {
        assert!(head.contains(line), "{what}: no {line} in {}", r.head);
    }
    let challenge = "www-authenticate: bearer realm=\"api\"";
    if status == 401 {
        assert!(
            head.contains(challenge),
            "{what}: no {challenge} in {}",
            r.head
        );
    } else {
        assert!(!head.contains("www-authenticate"), "{what}: {}", r.head);
    }
}

/// The verify endpoint's 400 for a revoked token.
fn assert_verify_blacklisted(r: &Reply, what: &str) {
    assert_token_reply(r, 400, VERIFY_BLACKLISTED, what);
}

/// The refresh endpoint's 401 for a revoked token.
fn assert_blacklisted(r: &Reply, what: &str) {
    assert_token_reply(r, 401, BLACKLISTED, what);
}

async fn logout(addr: SocketAddr, token: &str) -> Reply {
    http(
        addr,
        "POST",
        "/api/token/blacklist/",
        None,
        &refresh_body(token),
    )
    .await
}

/// Waits until `addr` refuses `access` (the session's revocation reached it).
async fn refused_soon(addr: SocketAddr, access: &str) {
    let lag = until(Duration::from_secs(1), || {
        let t = access.to_owned();
        async move { protected(addr, &t).await.status == 401 }
    })
    .await;
    assert!(lag.is_some(), "{addr} still accepts the session after 1 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_logged_out_session_never_refreshes_again_and_its_hold_outlives_its_tokens() {
    let _serial = one_at_a_time().await;
    let redis = Redis::start();
    let db = db_with_password(None).await;
    add_user("alice", "wonderland-42", &db);
    // Rotation without blacklisting: a rotated refresh token stays live for the endpoint.
    let args = [
        "--database-url",
        &db,
        "--redis-url",
        &redis.url(),
        "--rotate-refresh-tokens",
        "--access-lifetime",
        "60",
        "--refresh-lifetime",
        "600",
    ];
    let nodes = [Server::start(&args), Server::start(&args)];
    let (a, b) = (nodes[0].addr, nodes[1].addr);

    // Logged out with the newest token: the older one no longer refreshes, on either replica.
    let (_, r0) = login(a, ALICE).await;
    let r = refresh(a, &r0).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (a1, r1) = (r.field("access"), r.field("refresh"));
    let sid = claims(&r0)["sid"].as_str().expect("a sid").to_owned();
    assert_eq!(claims(&r1)["sid"], sid.as_str());
    assert_eq!(claims(&a1)["sid"], sid.as_str());
    for t in [&r0, &r1, &a1] {
        let r = verify(a, t).await;
        assert_eq!(
            (r.status, r.body.as_str()),
            (200, "{}"),
            "before the logout"
        );
    }
    let r = logout(b, &r1).await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    for addr in [a, b] {
        assert_blacklisted(&refresh(addr, &r0).await, "an older token of the session");
        assert_blacklisted(&refresh(addr, &r1).await, "the logged-out token");
        refused_soon(addr, &a1).await;
        // The verify endpoint agrees with the protected route, for every token of the session.
        for (t, what) in [
            (&r0, "an older refresh"),
            (&r1, "the logged-out"),
            (&a1, "access"),
        ] {
            assert_verify_blacklisted(&verify(addr, t).await, what);
        }
    }
    // The hold outlives every token the session has, access and refresh.
    let ttl = session_ttl(&redis, &sid);
    let held_until = now_secs() + ttl;
    for t in [&r0, &r1, &a1] {
        let exp = claims(t)["exp"].as_i64().expect("exp");
        assert!(
            exp < held_until,
            "exp {exp} outlives the hold ({held_until})"
        );
    }
    assert!(ttl >= 600 + 60, "{ttl}");

    // Logged out with an already rotated token: its successor no longer refreshes.
    let (_, s0) = login(b, ALICE).await;
    let r = refresh(b, &s0).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (s1_access, s1) = (r.field("access"), r.field("refresh"));
    let r = logout(a, &s0).await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    for addr in [a, b] {
        assert_blacklisted(
            &refresh(addr, &s1).await,
            "the successor of a logged-out token",
        );
        refused_soon(addr, &s1_access).await;
    }
    // Another session goes on.
    let (live_access, live) = login(a, ALICE).await;
    let r = refresh(b, &live).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(protected(a, &live_access).await.status, 200);
    for t in [&live_access, &live] {
        let r = verify(b, t).await;
        assert_eq!((r.status, r.body.as_str()), (200, "{}"), "another session");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_and_redis_urls_from_the_environment_stay_out_of_ps_and_help() {
    let _serial = one_at_a_time().await;
    let redis = Redis::start();
    let db = db_with_password(None).await;
    // `users` reads SCHEDULE_DATABASE_URL when given neither --database-url nor --data-dir.
    let mut child = Command::new(exe())
        .args(["users", "add", "alice"])
        .env("RUST_LOG", "warn")
        .env("SCHEDULE_DATABASE_URL", &db)
        .env_remove("SCHEDULE_REDIS_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"wonderland-42\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert_eq!(stdout, "added user \"alice\" with id 1\n");
    assert!(!stderr.contains("hunter2"), "{stderr}");

    let redis_url = redis
        .url()
        .replacen("redis://", "redis://:hunter2-secret@", 1);
    // A URL with a password makes redis-rs send AUTH, which a server without one refuses: give
    // the test's server that password.
    let ok = Command::new("redis-cli")
        .args([
            "-p",
            &redis.port.to_string(),
            "CONFIG",
            "SET",
            "requirepass",
            "hunter2-secret",
        ])
        .output()
        .expect("redis-cli");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "OK");
    let server = Server::start_env(
        "127.0.0.1:0",
        &[ROTATING[0], ROTATING[1]],
        &[
            ("SCHEDULE_DATABASE_URL", &db),
            ("SCHEDULE_REDIS_URL", &redis_url),
        ],
    );
    assert!(
        server
            .banner
            .contains("database: postgres://postgres:***@127.0.0.1:"),
        "{}",
        server.banner
    );
    let shown_redis = format!("redis: redis://:***@127.0.0.1:{}/ (", redis.port);
    assert!(server.banner.contains(&shown_redis), "{}", server.banner);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.child.id())).expect("cmdline");
    let cmdline = String::from_utf8_lossy(&cmdline);
    assert!(
        cmdline.contains("serve") && !cmdline.contains("hunter2"),
        "{cmdline}"
    );
    assert!(!server.banner.contains("hunter2") && !server.log().contains("hunter2"));
    // Both stores are in use: a login, then a logout that ends the session (Redis).
    let (access, token) = login(server.addr, ALICE).await;
    assert_eq!(protected(server.addr, &access).await.status, 200);
    let r = logout(server.addr, &token).await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    refused_soon(server.addr, &access).await;
    // With Redis, revocations go to Redis only: the database's blacklist tables stay unused.
    use tower_jwt_auth::store::RevocationStore as _;
    let jti = claims(&token)["jti"].as_str().expect("a jti").to_owned();
    let sql = tower_jwt_auth::store::SqlDatabase::connect(&db)
        .await
        .expect("the database")
        .revocations();
    assert!(!sql.is_revoked(&jti).await.expect("a SQL answer"));
    let r = refresh(server.addr, &token).await;
    assert_blacklisted(&r, "the logged-out token, refused through Redis");

    // `--help` names the variables, never their values.
    let out = Command::new(exe())
        .args(["serve", "--help"])
        .env("SCHEDULE_DATABASE_URL", &db)
        .env("SCHEDULE_REDIS_URL", &redis_url)
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(help.contains("[env: SCHEDULE_DATABASE_URL]"), "{help}");
    assert!(help.contains("[env: SCHEDULE_REDIS_URL]"), "{help}");
    assert!(!help.contains("hunter2"), "{help}");
}

/// `refresh=TOKEN` as multipart/form-data: the content type and the body.
fn multipart(token: &str) -> (&'static str, String) {
    (
        "multipart/form-data; boundary=XyZ",
        format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"refresh\"\r\n\r\n{token}\r\n--XyZ--\r\n"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn json_form_and_multipart_logouts_and_refused_refreshes_end_the_session() {
    let _serial = one_at_a_time().await;
    let redis = Redis::start();
    let db = db_with_password(None).await;
    add_user("alice", "wonderland-42", &db);
    let nodes = replicas(2, &db, &redis.url());
    let (a, b) = (nodes[0].addr, nodes[1].addr);
    type Body = fn(&str) -> (&'static str, String);
    let bodies: [(&str, Body); 3] = [
        ("json", |t| ("application/json", refresh_body(t))),
        ("form", |t| {
            ("application/x-www-form-urlencoded", format!("refresh={t}"))
        }),
        ("multipart", multipart),
    ];
    for (what, body) in bodies {
        // A logout in this format ends the session on both replicas.
        let (access, token) = login(a, ALICE).await;
        assert_eq!(protected(b, &access).await.status, 200);
        let (ct, text) = body(&token);
        let r = try_http_as(a, "POST", "/api/token/blacklist/", None, ct, &text)
            .await
            .expect("an answer");
        assert_eq!((r.status, r.body.as_str()), (200, "{}"), "{what} logout");
        for addr in [a, b] {
            refused_soon(addr, &access).await;
            assert_blacklisted(&refresh(addr, &token).await, what);
        }
        // A reused rotated token in this format ends the session of its successor too.
        let (_, token) = login(b, ALICE).await;
        let r = refresh(b, &token).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let next_access = r.field("access");
        assert_eq!(protected(a, &next_access).await.status, 200);
        let (ct, text) = body(&token);
        let r = try_http_as(a, "POST", "/api/token/refresh/", None, ct, &text)
            .await
            .expect("an answer");
        assert_blacklisted(&r, what);
        for addr in [a, b] {
            refused_soon(addr, &next_access).await;
        }
    }
    // A multipart logout the endpoint refuses (no closing boundary) ends nothing.
    let (access, token) = login(a, ALICE).await;
    let r = try_http_as(
        a,
        "POST",
        "/api/token/blacklist/",
        None,
        "multipart/form-data; boundary=XyZ",
        &format!("--XyZ\r\nContent-Disposition: form-data; name=\"refresh\"\r\n\r\n{token}"),
    )
    .await
    .expect("an answer");
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(protected(b, &access).await.status, 200);
    assert_eq!(refresh(b, &token).await.status, 200);
}

/// The token endpoints' 503, never a token.
fn assert_unavailable(r: &Reply, what: &str) {
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            503,
            r#"{"detail":"Authentication is temporarily unavailable.","code":"service_unavailable"}"#
        ),
        "{what}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_and_restarted_503_and_401_then_recovery_with_nothing_revoked_coming_back() {
    let _serial = one_at_a_time().await;
    let redis = Redis::start();
    let db = db_with_password(None).await;
    add_user("alice", "wonderland-42", &db);
    let nodes = replicas(2, &db, &redis.url());
    let (a, b) = (nodes[0].addr, nodes[1].addr);
    let (access, token) = login(a, ALICE).await;
    let (gone_access, gone) = login(b, ALICE).await;
    let r = http(
        a,
        "POST",
        "/api/token/blacklist/",
        None,
        &refresh_body(&gone),
    )
    .await;
    assert_eq!(r.status, 200, "acknowledged");
    assert!(
        until(Duration::from_secs(1), || {
            let t = gone_access.clone();
            async move { protected(b, &t).await.status == 401 }
        })
        .await
        .is_some()
    );

    redis.kill();
    for addr in [a, b] {
        assert_unavailable(
            &http(addr, "POST", "/api/token/", None, ALICE).await,
            "obtain",
        );
        assert_unavailable(&refresh(addr, &token).await, "refresh");
        let r = http(
            addr,
            "POST",
            "/api/token/blacklist/",
            None,
            &refresh_body(&token),
        )
        .await;
        assert_unavailable(&r, "blacklist");
        // Fail closed: once the local set knows it is stale (its ping is once a second).
        let closed = until(Duration::from_secs(5), || {
            let t = access.clone();
            async move { protected(addr, &t).await.status == 401 }
        })
        .await;
        assert!(closed.is_some(), "{addr} fails closed");
    }

    redis.restart();
    for addr in [a, b] {
        let back = until(Duration::from_secs(10), || {
            let t = access.clone();
            async move { protected(addr, &t).await.status == 200 }
        })
        .await;
        assert!(
            back.is_some(),
            "{addr}'s protected route recovers by itself"
        );
        let back = until(Duration::from_secs(10), || async move {
            try_http(addr, "POST", "/api/token/", None, ALICE)
                .await
                .is_ok_and(|r| r.status == 200)
        })
        .await;
        assert!(
            back.is_some(),
            "{addr}'s token endpoints recover by themselves"
        );
        // AOF: the logout acknowledged before the kill -9 still holds.
        let r = refresh(addr, &gone).await;
        assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
        assert_eq!(protected(addr, &gone_access).await.status, 401);
    }
    assert_eq!(
        refresh(b, &token).await.status,
        200,
        "a live session goes on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_and_started_503_then_recovery() {
    let _serial = one_at_a_time().await;
    let pg = Postgres::start();
    let redis = Redis::start();
    let db = db_with_password(Some(&pg)).await;
    add_user("alice", "wonderland-42", &db);
    let nodes = replicas(2, &db, &redis.url());
    let (a, b) = (nodes[0].addr, nodes[1].addr);
    let (access, token) = login(a, ALICE).await;

    pg.stop();
    assert_unavailable(&http(b, "POST", "/api/token/", None, ALICE).await, "obtain");
    assert_unavailable(&refresh(a, &token).await, "refresh");
    // The protected route's per-request user check cannot answer: 503, not 401.
    assert_unavailable(&protected(b, &access).await, "protected");

    pg.start_again();
    for addr in [a, b] {
        let back = until(Duration::from_secs(15), || async move {
            try_http(addr, "POST", "/api/token/", None, ALICE)
                .await
                .is_ok_and(|r| r.status == 200)
        })
        .await;
        assert!(back.is_some(), "{addr} recovers by itself");
        assert_eq!(protected(addr, &access).await.status, 200);
    }
    let r = refresh(b, &token).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_without_redis_a_cli_user_logs_in_and_a_logout_holds_across_a_restart() {
    let _serial = one_at_a_time().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("app.db").display());
    add_user("alice", "wonderland-42", &db);
    let mut server = Server::start(&["--database-url", &db]);
    assert!(
        server.banner.contains(&format!("database: {db} (1 users)")),
        "{}",
        server.banner
    );
    let (access, token) = login(server.addr, ALICE).await;
    assert_eq!(protected(server.addr, &access).await.status, 200);
    let (_, kept) = login(server.addr, ALICE).await;
    let r = http(
        server.addr,
        "POST",
        "/api/token/blacklist/",
        None,
        &refresh_body(&token),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    server.stop();

    let again = server.restart();
    let r = refresh(again.addr, &token).await;
    assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
    let r = refresh(again.addr, &kept).await;
    assert_eq!(r.status, 200, "{}", r.body);
    login(again.addr, ALICE).await;
}

#[test]
fn startup_errors_name_the_url_without_its_password() {
    let closed = crate::servers::free_port();
    for (flag, url, shown) in [
        (
            "--database-url",
            format!("postgres://app:hunter2-secret@127.0.0.1:{closed}/app"),
            format!("database postgres://app:***@127.0.0.1:{closed}/app: "),
        ),
        (
            "--redis-url",
            format!("redis://:hunter2-secret@127.0.0.1:{closed}/0"),
            format!("redis redis://:***@127.0.0.1:{closed}/0: "),
        ),
        // A password as a query parameter, as sqlx and redis-rs read it.
        (
            "--database-url",
            format!(
                "postgres://app@127.0.0.1:{closed}/app?sslmode=disable&password=hunter2-secret"
            ),
            format!(
                "database postgres://app@127.0.0.1:{closed}/app?sslmode=disable&password=***: "
            ),
        ),
        (
            "--redis-url",
            "redis+unix:///nonexistent-tja/redis.sock?db=1&pass=hunter2-secret".to_owned(),
            "redis redis+unix:///nonexistent-tja/redis.sock?db=1&pass=***: ".to_owned(),
        ),
        // An unencoded `#`, `/` or `?` in the password: the URL is not shown at all.
        (
            "--database-url",
            format!("postgres://app:se#hunter2-secret@127.0.0.1:{closed}/app"),
            "database postgres://***: ".to_owned(),
        ),
        (
            "--database-url",
            format!("postgres://app:se/hunter2-secret@127.0.0.1:{closed}/app"),
            "database postgres://***: ".to_owned(),
        ),
        (
            "--database-url",
            format!("postgres://app:se?hunter2-secret@127.0.0.1:{closed}/app"),
            "database postgres://***: ".to_owned(),
        ),
        (
            "--redis-url",
            format!("redis://:se#hunter2-secret@127.0.0.1:{closed}/0"),
            "redis redis://***: ".to_owned(),
        ),
    ] {
        let out = Command::new(exe())
            .args(["serve", "--addr", "127.0.0.1:0", flag, &url])
            .env("JWT_SECRET", SECRET)
            .env_remove("SCHEDULE_DATABASE_URL")
            .env_remove("SCHEDULE_REDIS_URL")
            .stdin(Stdio::null())
            .output()
            .expect("runs");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        assert!(stderr.contains(&format!("error: {shown}")), "{stderr}");
        assert!(
            !stdout.contains("hunter2") && !stderr.contains("hunter2"),
            "{stderr}"
        );
    }
}
