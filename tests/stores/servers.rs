//! What the server helpers share: an ephemeral port, whether we run as root, and a watchdog that
//! stops a server by PID once this test binary has exited (statics are never dropped).
#![allow(unreachable_pub)]

use std::process::{Command, Stdio};

/// A port the kernel just handed out on 127.0.0.1 (free again once the probe is dropped).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("an ephemeral port")
        .port()
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Starts a detached shell that waits for this process to exit, then sends `signal` to `pid`.
pub fn stop_at_exit(pid: u32, signal: &str) {
    let me = std::process::id();
    let script = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill -{signal} {pid} 2>/dev/null"
    );
    // Deliberately not waited for: it outlives this process.
    #[allow(clippy::zombie_processes)]
    let _watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("watchdog");
}
