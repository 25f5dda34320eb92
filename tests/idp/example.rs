//! The example as the issuer: `serve --algorithm ALG --signing-key FILE` publishes its JWKS and a
//! discovery document; a resource server (here, a `RemoteKeys` source and a layer) verifies its
//! tokens through them; a restart with a new signing key and the old one as `--verify-key`
//! rotates without breaking the old tokens.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower_jwt_auth::{Algorithm, AuthErrorKind, Key, RemoteKeys, SimpleJwtClaims, Verifier};

/// The example's executable (built once; see `support::example_exe`).
fn server_exe() -> &'static Path {
    crate::support::example_exe(false)
}

/// The example on an ephemeral port: its base URL and demo password; killed by PID on drop.
struct Example {
    child: Child,
    base: String,
    password: String,
}

impl Example {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(server_exe())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args)
            .env_remove("JWT_SECRET")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the example starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("banner").expect("line");
        let base = first
            .strip_prefix("schedule_server listening on ")
            .expect("the address line")
            .to_owned();
        let demo = lines.next().expect("demo line").expect("line");
        let password = demo
            .rsplit("password ")
            .next()
            .expect("password")
            .trim_matches('"')
            .to_owned();
        Self {
            child,
            base,
            password,
        }
    }

    async fn access_token(&self) -> String {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<Full<bytes::Bytes>>();
        let body = serde_json::json!({ "username": "demo", "password": self.password }).to_string();
        let res = client
            .request(
                Request::post(format!("{}/api/token/", self.base))
                    .header("content-type", "application/json")
                    .body(Full::from(body))
                    .expect("request"),
            )
            .await
            .expect("the example answers");
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value =
            serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes())
                .expect("JSON");
        v["access"].as_str().expect("access").to_owned()
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn kid(alg: Algorithm, file: &str) -> String {
    let pem = std::fs::read_to_string(fixture(file)).expect("fixture");
    Key::from_private_pem(alg, pem)
        .expect("key")
        .thumbprint()
        .expect("thumbprint")
}

#[tokio::test]
async fn the_example_publishes_its_keys_and_a_resource_server_verifies_its_tokens() {
    for (alg, name, file) in [
        (Algorithm::RS256, "RS256", "rsa.private.pem"),
        (Algorithm::ES256, "ES256", "ec256.private.pem"),
        (Algorithm::EdDSA, "EdDSA", "ed25519.private.pem"),
    ] {
        let ex = Example::start(&["--algorithm", name, "--signing-key", &fixture(file)]);
        let keys = RemoteKeys::discover(&ex.base)
            .await
            .expect("the example's discovery");
        assert_eq!(
            keys.jwks_uri(),
            format!("{}/.well-known/jwks.json", ex.base)
        );
        let published = keys.keys();
        assert_eq!(published.keys().len(), 1, "{name}");
        assert_eq!(published.keys()[0].kid(), Some(kid(alg, file).as_str()));
        assert_eq!(published.keys()[0].algorithm(), alg);

        let token = ex.access_token().await;
        let header = crate::support::decode_raw(&token).0;
        assert!(header.contains(&format!(r#""alg":"{name}""#)), "{header}");
        let verifier = Verifier::simplejwt(&keys).issuer([ex.base.clone()]);
        let verified = verifier
            .verify::<SimpleJwtClaims>(&token)
            .expect("verifies remotely");
        assert_eq!(verified.claims.user_id.to_string(), "1");
    }
}

#[tokio::test]
async fn rotation_new_signing_key_old_one_kept_for_verification() {
    let old = Example::start(&[
        "--algorithm",
        "ES256",
        "--signing-key",
        &fixture("ec256.private.pem"),
    ]);
    let old_token = old.access_token().await;
    drop(old);

    // Restarted with a new key; the old one verifies only. Another ES256 key: the P-256 one
    // generated here.
    let dir = tempfile::tempdir().expect("tempdir");
    let new_key = dir.path().join("new.pem");
    let out = Command::new("python3")
        .args(["-c", "from cryptography.hazmat.primitives.asymmetric import ec; from cryptography.hazmat.primitives import serialization as s; print(ec.generate_private_key(ec.SECP256R1()).private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()).decode())"])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python3 with cryptography (.ci/install-deps)"
    );
    std::fs::write(&new_key, &out.stdout).expect("write");
    let ex = Example::start(&[
        "--algorithm",
        "ES256",
        "--signing-key",
        new_key.to_str().expect("path"),
        "--verify-key",
        &fixture("ec256.public.pem"),
    ]);
    let keys = RemoteKeys::discover(&ex.base).await.expect("discovery");
    let kids: Vec<_> = keys
        .keys()
        .keys()
        .iter()
        .filter_map(|k| k.kid().map(str::to_owned))
        .collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(
        kids[1],
        kid(Algorithm::ES256, "ec256.private.pem"),
        "the old key, still published"
    );
    let new_token = ex.access_token().await;
    assert!(
        crate::support::decode_raw(&new_token).0.contains(&kids[0]),
        "signed with the new key"
    );

    // The resource server verifies both (the issuer moved with the port: not checked here).
    let verifier = Verifier::simplejwt(&keys);
    assert!(verifier.verify::<SimpleJwtClaims>(&new_token).is_ok());
    assert!(verifier.verify::<SimpleJwtClaims>(&old_token).is_ok());
    // The example itself still accepts the old token.
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let res = client
        .request(
            Request::get(format!("{}/api/weekly_schedule/", ex.base))
                .header("authorization", format!("Bearer {old_token}"))
                .body(Full::default())
                .expect("request"),
        )
        .await
        .expect("answers");
    assert_eq!(res.status(), StatusCode::OK);
    // A token of a key that is published nowhere is refused.
    let stranger = tower_jwt_auth::Keys::new(
        Key::from_private_pem(
            Algorithm::ES256,
            std::fs::read_to_string(fixture("ec256.private.pem")).expect("pem"),
        )
        .expect("key")
        .with_kid("stranger"),
    );
    let forged = stranger.encode(&serde_json::json!({"token_type": "access", "exp": 4_000_000_000u64, "jti": "x", "user_id": 1})).expect("sign");
    assert_eq!(
        verifier
            .verify::<SimpleJwtClaims>(&forged)
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(AuthErrorKind::UnknownKey)
    );
}
