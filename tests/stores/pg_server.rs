//! A throwaway PostgreSQL server for the SQL store tests: `initdb` in a temp dir, started once
//! per test binary on 127.0.0.1 and an ephemeral port (as the `postgres` user when run as root),
//! stopped by PID when the binary exits; one fresh database per test. A test that stops and
//! starts PostgreSQL takes a server of its own ([`Postgres::start`]).
#![allow(unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::servers::{free_port, is_root, stop_at_exit};

/// A running server: its port, data dir and how to start it again.
pub struct Postgres {
    pub port: u16,
    bin: PathBuf,
    data: PathBuf,
    opts: String,
    dir: tempfile::TempDir,
}

impl Postgres {
    /// A new server of its own (`initdb` in a temp dir, an ephemeral port), started.
    pub fn start() -> Self {
        start()
    }

    /// `pg_ctl start` (again) on the same port and data, waiting until it accepts connections.
    pub fn start_again(&self) {
        let out = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &self.opts, "-w", "-l"])
            .arg(self.dir.path().join("log"))
            .arg("start")
            .stdout(Stdio::null())
            .output()
            .expect("pg_ctl start");
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid_file =
            std::fs::read_to_string(self.data.join("postmaster.pid")).expect("postmaster.pid");
        let pid: u32 = pid_file
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("a PID");
        // SIGINT: PostgreSQL's fast shutdown.
        stop_at_exit(pid, "INT");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `pg_ctl stop -m fast`: every connection is closed.
    pub fn stop(&self) {
        let out = as_postgres(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .output()
            .expect("pg_ctl stop");
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The URL of a new, empty database on this server.
    pub async fn fresh_db(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        let pool = sqlx::PgPool::connect(&admin).await.expect("connect");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create database");
        pool.close().await;
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return dir;
        }
    }
    // Debian keeps the server binaries off PATH, one directory per major version.
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.flatten().map(|e| e.path().join("bin")).collect())
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found
        .pop()
        .expect("PostgreSQL server binaries (run .ci/install-deps)")
}

fn as_postgres(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start() -> Postgres {
    let bin = bin_dir();
    let dir = tempfile::Builder::new()
        .prefix("tja-pg-")
        .tempdir()
        .expect("temp dir");
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .expect("chown");
        assert!(ok.success(), "chown the data dir to postgres");
    }
    let data = dir.path().join("data");
    let out = as_postgres(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .expect("initdb");
    assert!(
        out.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        dir.path().display()
    );
    let pg = Postgres {
        port,
        bin,
        data,
        opts,
        dir,
    };
    pg.start_again();
    pg
}

/// The server of this test binary, started at the first call.
pub fn server() -> &'static Postgres {
    static PG: OnceLock<Postgres> = OnceLock::new();
    PG.get_or_init(start)
}

/// The URL of a new, empty database on the shared server.
pub async fn fresh_db() -> String {
    server().fresh_db().await
}
