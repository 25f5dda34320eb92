//! Throwaway Redis servers for the Redis store tests: `redis-server` on 127.0.0.1, an ephemeral
//! port and a temp dir with AOF on (`appendfsync always`); one shared per test binary (tests use their own key prefix),
//! or a private one a test may kill -9 and restart on the same port and data. Stopped by PID
//! when the binary exits.
#![allow(unreachable_pub)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::servers::{free_port, stop_at_exit};

/// A running (or killed) Redis server.
pub struct Redis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Mutex<Option<Child>>,
}

impl Redis {
    /// A new server of its own.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("tja-redis-")
            .tempdir()
            .expect("temp dir");
        let r = Self {
            port: free_port(),
            dir,
            child: Mutex::new(None),
        };
        r.restart();
        r
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Starts the server (again) on its port and data dir, and waits until it answers.
    pub fn restart(&self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            // `always`: with `everysec` Redis may answer before writing the AOF when a
            // background fsync is slow, and a kill -9 then loses acknowledged writes.
            .args(["--appendonly", "yes", "--appendfsync", "always"])
            .args(["--save", "", "--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (run .ci/install-deps)");
        stop_at_exit(child.id(), "KILL");
        *self.child.lock().expect("lock") = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let up = Command::new("redis-cli")
                .args(["-p", &self.port.to_string(), "ping"])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG");
            if up {
                break;
            }
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// kill -9, and reap.
    pub fn kill(&self) {
        if let Some(mut c) = self.child.lock().expect("lock").take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The shared server of this test binary.
pub fn shared() -> &'static Redis {
    static R: OnceLock<Redis> = OnceLock::new();
    R.get_or_init(Redis::start)
}

/// A key prefix no other test uses.
pub fn prefix() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("t{}:", N.fetch_add(1, Ordering::Relaxed))
}
