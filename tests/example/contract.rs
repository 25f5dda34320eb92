//! The example's OpenAPI 3.1 description (`/api/schema/`) against the running server, checked
//! by schemathesis (PyPI): generated requests to every operation, with a valid bearer token, must
//! get no 5xx, and every status, content type, body and header must be what the schema says.

#![cfg(unix)]
#![cfg(feature = "token")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use super::e2e::{Server, have_tool, obtain};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_matches_the_openapi_description() {
    let install = "pip install 'schemathesis>=4,<5', or run .ci/install-deps";
    if !have_tool("schemathesis", &["--version"], install) {
        return;
    }
    let server = Server::start(&["--addr", "127.0.0.1:0", "--access-lifetime", "3600"], &[]);
    let r = obtain(&server, "demo", &server.demo_password()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let access = r.json()["access"].as_str().unwrap().to_owned();

    let (schema, base) = (server.url("/api/schema/"), server.url(""));
    let tmp = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .args(["run", &schema, "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {access}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_schema_conformance,response_headers_conformance",
            ])
            .args(["--max-examples", "50", "--seed", "20261206"])
            .args(["--request-timeout", "10"])
            // Its example database and reports stay out of the repository.
            .current_dir(tmp.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found a mismatch:\n{stdout}\n{}\nserver log (tail):\n{}",
        String::from_utf8_lossy(&out.stderr),
        server
            .log()
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stdout.contains("Tested: 8") && stdout.contains("passed"),
        "{stdout}"
    );
    // A 5xx would have failed the run; the log agrees.
    assert!(!server.log().contains("status=5"), "{}", server.log());
}
