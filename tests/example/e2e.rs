//! The compiled `schedule_server` example, end to end: started on 127.0.0.1 with an ephemeral
//! port and a temporary data directory, driven over real HTTP, stopped with SIGTERM and started
//! again. Also the `users` subcommands, the Django import (a fixture made by real Django) and the
//! README's quick start (the default run's printed curl lines, run as printed).

#![cfg(unix)]
#![cfg(feature = "token")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// The example's executable (built once; see `support::example_exe`).
fn server_exe() -> &'static Path {
    crate::support::example_exe(false)
}

/// Whether an external program the test needs can run. Under CI (`CI` set, as `.ci/run` does,
/// after `.ci/install-deps` installed it) its absence fails the test; elsewhere the test says
/// why it is skipped.
pub(super) fn have_tool(program: &str, args: &[&str], install: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{program}` is needed under CI: {install}"
        );
        eprintln!("skipped: `{program}` is not installed ({install})");
    }
    ok
}

/// A running server: its base URL, its stdout banner and its log (stderr), collected live.
pub(super) struct Server {
    child: Child,
    base: String,
    pub(super) banner: Vec<String>,
    log: Arc<Mutex<String>>,
    /// The thread copying stderr into `log`; it ends at EOF, when the process has exited.
    log_reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(super) fn start(args: &[&str], envs: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(server_exe());
        cmd.args(args)
            .env_remove("JWT_SECRET")
            .env_remove("SCHEDULE_DATABASE_URL")
            .env_remove("SCHEDULE_REDIS_URL")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the server starts");

        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        let log_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        // The banner: read stdout until the bound address is known (and the demo lines, if
        // any, have been printed: they come right after it).
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut banner = Vec::new();
        let base = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no banner; log:\n{}", log.lock().unwrap()));
            let base = line
                .strip_prefix("schedule_server listening on ")
                .map(str::to_owned);
            banner.push(line);
            if let Some(base) = base {
                break base;
            }
        };
        // The rest of the banner is printed in the same write.
        while let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            banner.push(line);
        }
        Self {
            child,
            base,
            banner,
            log,
            log_reader: Some(log_reader),
        }
    }

    /// The demo user's password, from the banner of an in-memory run.
    pub(super) fn demo_password(&self) -> String {
        let banner = self.banner.join("\n");
        banner
            .split("password \"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("no demo password in the banner:\n{banner}"))
            .to_owned()
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(super) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGTERM, then wait: a graceful shutdown exits 0.
    fn stop(self) -> String {
        self.stop_with("TERM")
    }

    /// `kill -SIGNAL`, then wait: a graceful shutdown exits 0 and says so in the log.
    fn stop_with(mut self, signal: &str) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "exit status after SIG{signal}: {status:?}"
        );
        if let Some(reader) = self.log_reader.take() {
            reader.join().unwrap();
        }
        let log = self.log();
        assert!(log.contains("shutting down"), "{log}");
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: http::HeaderMap,
    pub(super) body: String,
}

impl Reply {
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn call(method: &str, url: &str, bearer: Option<&str>, body: Option<&str>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<bytes::Bytes>>();
    let mut req = http::Request::builder().method(method).uri(url);
    if let Some(t) = bearer {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(Full::new(bytes::Bytes::from(body.unwrap_or("").to_owned())))
        .unwrap();
    let res = client.request(req).await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

pub(super) async fn obtain(s: &Server, username: &str, password: &str) -> Reply {
    let body = json!({"username": username, "password": password}).to_string();
    call("POST", &s.url("/api/token/"), None, Some(&body)).await
}

pub(super) async fn refresh(s: &Server, token: &str) -> Reply {
    let body = json!({"refresh": token}).to_string();
    call("POST", &s.url("/api/token/refresh/"), None, Some(&body)).await
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Runs the example's CLI to completion.
fn cli(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(server_exe())
        .args(args)
        .env_remove("SCHEDULE_DATABASE_URL")
        .env_remove("SCHEDULE_REDIS_URL")
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const SEED: &str = r#"{"schedule":{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}}"#;
const WEEK: &str = r#"{"schedule":{"sunday":[{"start":"22:00","stop":"24:00","ids":[]}],"monday":[{"start":"08:30","stop":"12:00","ids":[1,2,3]}]}}"#;
const WEEK_NORMALISED: &str = r#"{"schedule":{"monday":[{"start":"08:30","stop":"12:00","ids":[1,2,3]}],"sunday":[{"start":"22:00","stop":"24:00","ids":[]}]}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn persistent_server_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = data.to_str().unwrap();

    // Users: ids "1", "2" in creation order; the password comes from stdin.
    let (ok, out, err) = cli(
        &["users", "add", "alice", "--data-dir", d],
        "wonderland-42\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "added user \"alice\" with id 1\n");
    let (ok, out, err) = cli(
        &["users", "add", "dormant", "--inactive", "--data-dir", d],
        "sleepy-hollow-7\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "added user \"dormant\" with id 2 (inactive)\n");
    let (ok, _, err) = cli(&["users", "add", "alice", "--data-dir", d], "again\n");
    assert!(!ok);
    assert!(err.contains("alice"), "{err}");
    let (ok, out, _) = cli(&["users", "list", "--data-dir", d], "");
    assert!(ok);
    assert_eq!(out, "id\tusername\tactive\n1\talice\tyes\n2\tdormant\tno\n");
    assert!(!err.contains("wonderland-42") && !err.contains("again"));

    let args = [
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--data-dir",
        d,
        "--rotate-refresh-tokens",
        "--blacklist-after-rotation",
        "--access-lifetime",
        "600",
        "--refresh-lifetime",
        "7200",
    ];
    let server = Server::start(&args, &[]);
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
    assert!(
        server.banner.iter().any(|l| l.ends_with("(2 users)")),
        "{:?}",
        server.banner
    );
    assert!(!server.base.ends_with(":0"));

    // The secret was generated once into the data directory, mode 0600.
    let secret_file = data.join("jwt_secret");
    let secret = std::fs::read_to_string(&secret_file).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    // obtain → POST → GET
    let r = obtain(&server, "alice", "wonderland-42").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let pair = r.json();
    let access = pair["access"].as_str().unwrap().to_owned();
    let refresh1 = pair["refresh"].as_str().unwrap().to_owned();
    let claims = claims_of(&access);
    assert_eq!(claims["user_id"], "1");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    let claims = claims_of(&refresh1);
    assert_eq!(claims["token_type"], "refresh");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7200
    );

    let r = obtain(&server, "dormant", "sleepy-hollow-7").await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        r#"{"detail":"No active account found with the given credentials"}"#
    );

    let r = call(
        "GET",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"schedule":{}}"#));
    let r = call(
        "POST",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        Some(WEEK),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (201, WEEK_NORMALISED));
    assert_eq!(r.headers["allow"], "GET, POST, DELETE, HEAD, OPTIONS");
    assert_eq!(r.headers["vary"], "Accept");
    let r = call(
        "GET",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, WEEK_NORMALISED));

    // A second server on the same directory is refused (one writer per data directory).
    let out = Command::new(server_exe())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", d])
        .env_remove("SCHEDULE_DATABASE_URL")
        .env_remove("SCHEDULE_REDIS_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("another schedule_server is serving this data directory"),
        "{err}"
    );

    // `users add` works while the server runs (the file store reloads what another process
    // wrote).
    let (ok, out, err) = cli(
        &["users", "add", "carol", "--data-dir", d],
        "carol-pass-1\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "added user \"carol\" with id 3\n");
    let r = obtain(&server, "carol", "carol-pass-1").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        claims_of(r.json()["access"].as_str().unwrap())["user_id"],
        "3"
    );

    const BLACKLISTED: &str = r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#;

    // refresh with rotation: a new pair; the old refresh token is now revoked.
    let r = refresh(&server, &refresh1).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.starts_with(r#"{"access":""#), "{}", r.body);
    let refresh2 = r.json()["refresh"].as_str().unwrap().to_owned();
    assert_ne!(refresh2, refresh1);
    // Reusing the rotated-out token is refused, and (RFC 9700 §4.14) revokes its whole family,
    // so the token it was rotated into is dead too.
    let r = refresh(&server, &refresh1).await;
    assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
    let r = refresh(&server, &refresh2).await;
    assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));

    // A fresh login, then logout (blacklist) of its refresh token.
    let r = obtain(&server, "alice", "wonderland-42").await;
    let refresh3 = r.json()["refresh"].as_str().unwrap().to_owned();
    let body3 = json!({"refresh": refresh3}).to_string();
    let r = call(
        "POST",
        &server.url("/api/token/blacklist/"),
        None,
        Some(&body3),
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, "{}"));
    let r = refresh(&server, &refresh3).await;
    assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));

    // Another login, rotated once: its newest refresh token is live across the restart.
    let r = obtain(&server, "alice", "wonderland-42").await;
    let refresh4 = r.json()["refresh"].as_str().unwrap().to_owned();
    let r = refresh(&server, &refresh4).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refresh5 = r.json()["refresh"].as_str().unwrap().to_owned();

    // One log line per request, with the user id; no token, password or secret anywhere.
    let log = server.stop();
    assert!(log.contains("shutting down"), "{log}");
    let schedule_lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("schedule_server::http") && l.contains("/api/weekly_schedule/"))
        .collect();
    assert_eq!(schedule_lines.len(), 3, "{log}");
    assert!(
        schedule_lines
            .iter()
            .all(|l| l.contains("user=\"1\"") || l.contains("user=1")),
        "{log}"
    );
    assert!(
        schedule_lines[1].contains("method=POST") && schedule_lines[1].contains("status=201"),
        "{log}"
    );
    for secret_text in [
        access.as_str(),
        &refresh1,
        &refresh2,
        &refresh3,
        &refresh4,
        &refresh5,
        "wonderland-42",
        secret.trim(),
    ] {
        assert!(!log.contains(secret_text), "the log leaks a secret:\n{log}");
    }

    // Restart on the same directory.
    let server = Server::start(&args, &[]);
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), secret);
    // The schedule is still there, for the access token issued before the restart.
    let r = call(
        "GET",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, WEEK_NORMALISED));
    // The live refresh token still works (and rotates)...
    let r = refresh(&server, &refresh5).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let refresh6 = r.json()["refresh"].as_str().unwrap().to_owned();
    // ...revoked ones stay revoked...
    for revoked in [&refresh1, &refresh2, &refresh3, &refresh5] {
        let r = refresh(&server, revoked).await;
        assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));
    }
    // ...and the reuse of refresh5 just now revoked its family, refresh6 included.
    let r = refresh(&server, &refresh6).await;
    assert_eq!((r.status, r.body.as_str()), (401, BLACKLISTED));

    // DELETE clears it, and that persists too.
    let r = call(
        "DELETE",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    server.stop();
    let server = Server::start(&args, &[]);
    let r = call(
        "GET",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"schedule":{}}"#));
    server.stop();

    // JWT_SECRET always wins over the file: the old tokens no longer verify.
    let other = "another-secret-from-the-environment-0123456789abcdef";
    let server = Server::start(&args, &[("JWT_SECRET", other)]);
    let r = call(
        "GET",
        &server.url("/api/weekly_schedule/"),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    let r = obtain(&server, "alice", "wonderland-42").await;
    assert_eq!(r.status, 200);
    let log = server.stop();
    assert!(!log.contains(other), "{log}");
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), secret);
}

#[tokio::test(flavor = "multi_thread")]
async fn django_users_log_in_with_their_django_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/django_auth_user.json"
    );
    let (ok, out, err) = cli(&["users", "import-django", fixture, "--data-dir", d], "");
    assert!(ok, "{err}");
    assert_eq!(out, "imported 5 users from Django\n");
    let (ok, out, _) = cli(&["users", "list", "--data-dir", d], "");
    assert!(ok);
    assert_eq!(
        out,
        "id\tusername\tactive\n1\talice\tyes\n2\tdormant\tno\n3\tadmin\tyes\n4\tgrüße\tyes\n5\tnopass\tyes\n"
    );
    // New users continue after Django's ids.
    let (ok, out, err) = cli(
        &["users", "add", "newcomer", "--data-dir", d],
        "fresh-password-1\n",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "added user \"newcomer\" with id 6\n");

    let server = Server::start(&["serve", "--addr", "127.0.0.1:0", "--data-dir", d], &[]);
    for (user, password, id) in [
        ("alice", "wonderland-42", "1"),
        ("grüße", "pässwörd ✓", "4"),
        ("newcomer", "fresh-password-1", "6"),
    ] {
        let r = obtain(&server, user, password).await;
        assert_eq!(r.status, 200, "{user}: {}", r.body);
        let access = r.json()["access"].as_str().unwrap().to_owned();
        assert_eq!(claims_of(&access)["user_id"], id);
        let r = call(
            "POST",
            &server.url("/api/weekly_schedule/"),
            Some(&access),
            Some(SEED),
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (201, SEED));
    }
    for (user, password) in [
        ("alice", "wonderland-43"),
        ("dormant", "sleepy-hollow-7"),
        ("nopass", "x"),
    ] {
        let r = obtain(&server, user, password).await;
        assert_eq!(r.status, 401, "{user}");
        assert_eq!(
            r.body,
            r#"{"detail":"No active account found with the given credentials"}"#
        );
    }
    server.stop();
}

/// The README's quick start: `cargo run --example schedule_server` (here with `--addr
/// 127.0.0.1:0` so it cannot collide with a real port 8000) and the three curl lines it prints,
/// run exactly as printed.
#[tokio::test(flavor = "multi_thread")]
async fn quick_start_curl_lines_work_as_printed() {
    // RUST_LOG=trace: even at the most verbose level no token or password may reach the log.
    let server = Server::start(&["--addr", "127.0.0.1:0"], &[("RUST_LOG", "trace")]);
    let banner = server.banner.join("\n");
    assert!(banner.contains("demo user"), "{banner}");
    let lines: Vec<&str> = server
        .banner
        .iter()
        .map(|l| l.trim())
        .filter(|l| l.starts_with("ACCESS=$(curl ") || l.starts_with("curl "))
        .collect();
    assert_eq!(lines.len(), 3, "{banner}");
    assert!(
        lines[0].contains("/api/token/")
            && lines[1].contains("-X POST")
            && lines[2].contains("weekly_schedule")
    );
    let log = server.log();
    assert!(log.contains("tokens will not survive a restart"), "{log}");

    let access = if Command::new("curl").arg("--version").output().is_ok() {
        // Run them in one shell, as a user pasting them would (ACCESS carries over); then print
        // ACCESS so the test can look for it in the log.
        let script = format!(
            "set -e\n{}\necho\necho \"$ACCESS\"\n",
            lines.join("\necho\n")
        );
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = String::from_utf8(out.stdout).unwrap();
        let (out, access) = out.trim_end().rsplit_once('\n').unwrap();
        assert_eq!(out, format!("\n{SEED}\n{SEED}"));
        assert_eq!(claims_of(access)["token_type"], "access");
        access.to_owned()
    } else {
        // No curl: do what the lines say.
        let password = server.demo_password();
        let r = obtain(&server, "demo", &password).await;
        assert_eq!(r.status, 200);
        let access = r.json()["access"].as_str().unwrap().to_owned();
        let r = call(
            "POST",
            &server.url("/api/weekly_schedule/"),
            Some(&access),
            Some(SEED),
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (201, SEED));
        let r = call(
            "GET",
            &server.url("/api/weekly_schedule/"),
            Some(&access),
            None,
        )
        .await;
        assert_eq!((r.status, r.body.as_str()), (200, SEED));
        access
    };
    // Ctrl-C.
    let log = server.stop_with("INT");
    let password = banner
        .split("password \"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap();
    assert!(!log.contains(password), "{log}");
    assert!(!log.contains(&access), "{log}");
    // The access token's signature alone must not leak either.
    assert!(!log.contains(access.rsplit('.').next().unwrap()), "{log}");
    assert!(log.contains("method=POST"), "{log}");
}

/// Bad configuration and bad input stop the program with a clear message (and never echo a
/// secret), instead of starting in a surprising state.
#[test]
fn refuses_bad_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let d = d.to_str().unwrap();

    // A JWT_SECRET too short for HS256.
    let out = Command::new(server_exe())
        .args(["--addr", "127.0.0.1:0"])
        .env("JWT_SECRET", "short-secret-value")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("HS256 needs at least 32 bytes"), "{err}");
    assert!(!err.contains("short-secret-value"), "{err}");

    // A corrupt schedules file: refused, and nothing else is created next to it.
    std::fs::create_dir_all(d).unwrap();
    std::fs::write(Path::new(d).join("schedules.json"), "{not json").unwrap();
    let out = Command::new(server_exe())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir", d])
        .env_remove("JWT_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("schedules.json is corrupt"), "{err}");
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["schedules.json"]);

    // Passwords: empty, or with surrounding whitespace (the login endpoint trims it, as DRF
    // does, so such a user could never log in).
    for (stdin, why) in [
        ("\n", "empty password"),
        (" padded \n", "leading or trailing whitespace"),
    ] {
        let (ok, _, err) = cli(&["users", "add", "bob", "--data-dir", d], stdin);
        assert!(!ok);
        assert!(err.contains(why), "{err}");
    }
    // Listing a directory that does not exist does not create it.
    let missing = dir.path().join("missing");
    let (ok, _, err) = cli(
        &["users", "list", "--data-dir", missing.to_str().unwrap()],
        "",
    );
    assert!(!ok);
    assert!(err.contains("no data directory"), "{err}");
    assert!(!missing.exists());
    // Not a dumpdata file.
    let (ok, _, err) = cli(
        &["users", "import-django", "/dev/null", "--data-dir", d],
        "",
    );
    assert!(!ok);
    assert!(err.contains("not a dumpdata user list"), "{err}");

    // The default build has neither the sqlx nor the redis feature: their flags are refused
    // with the command that enables them, before anything is created or connected to.
    let fresh = dir.path().join("fresh");
    let fresh = fresh.to_str().unwrap();
    let sqlite = format!("sqlite://{}/users.db", dir.path().display());
    for (args, needs) in [
        (
            vec![
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--data-dir",
                fresh,
                "--database-url",
                &sqlite,
            ],
            "--database-url needs the sqlx feature: cargo run --example schedule_server --features sqlx",
        ),
        (
            vec![
                "--addr",
                "127.0.0.1:0",
                "--redis-url",
                "redis://127.0.0.1:1/",
            ],
            "--redis-url needs the redis feature: cargo run --example schedule_server --features sqlx,redis",
        ),
        (
            vec!["users", "list", "--database-url", &sqlite],
            "--database-url needs the sqlx feature",
        ),
    ] {
        let (ok, out, err) = cli(&args, "");
        assert!(!ok, "{args:?}: {out}");
        assert!(err.contains(needs), "{args:?}: {err}");
        assert!(!out.contains("listening"), "{args:?}: {out}");
    }
    assert!(!Path::new(fresh).exists());
    assert!(!dir.path().join("users.db").exists());
}
