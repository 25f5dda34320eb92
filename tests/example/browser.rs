//! The example's page in a real browser: Debian's Chromium driven by playwright-core
//! (`tests/web/schedule.mjs`) against the compiled server, started with a 2-second access
//! lifetime so the page's silent token refresh is exercised. The script signs in, adds two slots
//! on two days, saves, reloads, shows an invalid slot's message, waits past the access lifetime,
//! saves again and signs out; this test then shows the API refusing the refresh token the page
//! held. A screenshot of the grid is left in `target/artifacts/schedule-grid.png`.

#![cfg(unix)]
#![cfg(feature = "token")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::e2e::{Server, have_tool, refresh};

const INSTALL: &str = "apt-get install chromium nodejs npm, or run .ci/install-deps";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_signs_in_edits_the_week_refreshes_its_token_and_signs_out_in_chromium() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let web = root.join("tests/web");
    if !have_tool("node", &["--version"], INSTALL)
        || !have_tool("/usr/bin/chromium", &["--version"], INSTALL)
    {
        return;
    }
    if !web.join("node_modules/playwright-core").is_dir() {
        // The lock file pins playwright-core; `npm ci` installs exactly it (no browser download).
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&web)
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci in tests/web failed");
    }
    let artifacts = root.join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let screenshot = artifacts.join("schedule-grid.png");
    let _ = std::fs::remove_file(&screenshot);

    let server = Server::start(&["--addr", "127.0.0.1:0", "--access-lifetime", "2"], &[]);
    let out = tokio::task::spawn_blocking({
        let (base, password, web) = (server.url(""), server.demo_password(), web.clone());
        let screenshot = screenshot.clone();
        move || {
            Command::new("node")
                .arg("schedule.mjs")
                .current_dir(web)
                .env("BASE_URL", base)
                .env("USERNAME", "demo")
                .env("PASSWORD", password)
                .env("ACCESS_LIFETIME", "2")
                .env("SCREENSHOT", screenshot)
                .output()
                .expect("node runs")
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser scenario failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        server.log()
    );
    for step in [
        "ok: a wrong password shows the API's message",
        "ok: two slots on Monday and Wednesday saved (201)",
        "ok: after a reload, still signed in, both slots shown",
        "ok: stop before start: the API's message next to the Stop field (400)",
        "had refreshed its token; a save succeeded without a sign-in",
        "ok: signed out: the refresh token blacklisted",
    ] {
        assert!(stdout.contains(step), "missing step {step:?}:\n{stdout}");
    }
    let png = std::fs::read(&screenshot).expect("the screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );

    // The refresh token the page held before signing out is refused.
    let last: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let token = last["refresh"].as_str().unwrap();
    let r = refresh(&server, token).await;
    assert_eq!(
        (r.status, r.body.as_str()),
        (
            401,
            r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#
        )
    );
    // Neither token nor password reached the server's log.
    let log = server.log();
    assert!(!log.contains(token) && !log.contains(&server.demo_password()));
}
