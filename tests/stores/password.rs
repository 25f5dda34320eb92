//! Password hashing: argon2id with OWASP parameters, Django's hashes verified.

use serde_json::Value;
use tower_jwt_auth::password::{HashKind, MAX_PASSWORD_LEN, PasswordHasher};

use crate::support::*;

/// tests/fixtures/django_hashes.json: hashes made by Django (tests/fixtures/make_django_hashes.py).
fn fixtures() -> Value {
    fixture_json("django_hashes.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn django_pbkdf2_hashes_verify_and_wrong_passwords_do_not() {
    let hasher = PasswordHasher::new();
    let fx = fixtures();
    let cases = fx["hashes"].as_array().expect("hashes");
    assert!(cases.len() >= 8);
    let mut saw_django_52 = false;
    for case in cases {
        let password = case["password"].as_str().expect("password");
        if password.len() == MAX_PASSWORD_LEN {
            continue; // oversized_passwords_are_rejected_without_panicking checks this one
        }
        let hash = case["hash"].as_str().expect("hash");
        let iterations = case["iterations"].as_u64().expect("iterations");
        saw_django_52 |= iterations == 1_000_000;
        assert!(hash.starts_with(&format!("pbkdf2_sha256${iterations}$")));
        assert_eq!(HashKind::of(hash), Some(HashKind::DjangoPbkdf2Sha256));
        assert!(PasswordHasher::is_supported(hash));
        assert!(
            hasher.verify(password, hash).await.expect("verify runs"),
            "{iterations} iterations"
        );
        // Unoptimised test builds take seconds per million iterations: one wrong password for the
        // expensive hashes, all of them for the cheap ones.
        let wrong = case["wrong"].as_array().expect("wrong");
        let n = if iterations >= 500_000 {
            1
        } else {
            wrong.len()
        };
        for wrong in &wrong[..n] {
            let wrong = wrong.as_str().expect("wrong password");
            assert!(
                !hasher.verify(wrong, hash).await.expect("verify runs"),
                "{wrong:?} must not verify against the hash of {password:?}"
            );
        }
        assert!(hasher.needs_upgrade(hash));
    }
    assert!(saw_django_52);
}

#[tokio::test]
async fn django_argon2_form_verifies() {
    let hasher = PasswordHasher::new();
    let fx = fixtures();
    let case = &fx["django_argon2"];
    let hash = case["hash"].as_str().expect("hash");
    assert_eq!(HashKind::of(hash), Some(HashKind::DjangoArgon2));
    assert!(hasher.verify("argon-pass", hash).await.expect("runs"));
    assert!(!hasher.verify("argon-pasS", hash).await.expect("runs"));
    // Django's parameters (m=102400, p=8) are not ours: upgrade.
    assert!(hasher.needs_upgrade(hash));
}

#[tokio::test]
async fn new_hashes_are_argon2id_with_owasp_parameters_and_fresh_salts() {
    let hasher = PasswordHasher::new();
    let a = hasher.hash("pw").await.expect("hash");
    let b = hasher.hash("pw").await.expect("hash");
    assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
    assert_ne!(a, b, "every hash gets its own salt");
    assert!(!hasher.needs_upgrade(&a));
    assert!(hasher.verify("pw", &a).await.expect("runs"));
    assert!(hasher.verify("pw", &b).await.expect("runs"));
    assert!(!hasher.verify("pW", &a).await.expect("runs"));
    assert!(!hasher.verify("", &a).await.expect("runs"));
}

#[tokio::test]
async fn hashes_with_other_parameters_need_an_upgrade() {
    let owasp = PasswordHasher::new();
    let weak = PasswordHasher::with_params(64, 1, 1, 1).expect("params");
    let weak_hash = weak.hash("pw").await.expect("hash");
    assert!(weak_hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    assert!(owasp.needs_upgrade(&weak_hash));
    assert!(!weak.needs_upgrade(&weak_hash));
    // Still verifies with the OWASP hasher: parameters come from the hash.
    assert!(owasp.verify("pw", &weak_hash).await.expect("runs"));
    // argon2i is not argon2id.
    let argon2i = weak_hash.replacen("$argon2id$", "$argon2i$", 1);
    assert!(weak.needs_upgrade(&argon2i));
    assert!(owasp.needs_upgrade("garbage"));
    // An unusable password has nothing to upgrade.
    assert!(!owasp.needs_upgrade("!XW1zwvVzIyZbuLP1Wk7mFk3ht9FvM6Op9gXwqMQf"));
}

#[tokio::test]
async fn unusable_malformed_and_unsupported_hashes_never_verify() {
    let hasher = PasswordHasher::with_params(64, 1, 1, 2).expect("params");
    for hash in [
        "!XW1zwvVzIyZbuLP1Wk7mFk3ht9FvM6Op9gXwqMQf",
        "",
        "secret",
        "md5$salt$5ebe2294ecd0e0f08eab7690d2a6ee69",
        "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuu",
        "pbkdf2_sha256$0$salt$xkedv2ot6QeXSX7wSSQZzt9S55YusDC1lKe2VR8zJH4=",
        "pbkdf2_sha256$4294967295$salt$xkedv2ot6QeXSX7wSSQZzt9S55YusDC1lKe2VR8zJH4=",
        "pbkdf2_sha256$99999999999999999999$salt$xkedv2ot6QeXSX7wSSQZzt9S55YusDC1lKe2VR8zJH4=",
        "pbkdf2_sha256$1$salt$not base64",
        "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "$argon2id$",
    ] {
        assert!(
            !hasher.verify("secret", hash).await.expect("runs"),
            "{hash}"
        );
        if !hash.starts_with('!') {
            assert!(!PasswordHasher::is_supported(hash), "{hash}");
        }
    }
    assert!(PasswordHasher::is_supported("!unusable"));
}

#[tokio::test]
async fn oversized_passwords_are_rejected_without_panicking() {
    let hasher = PasswordHasher::with_params(64, 1, 1, 2).expect("params");
    let fx = fixtures();
    // The 4096-byte password of the fixtures verifies; one byte more does not.
    let case = fx["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .find(|c| c["password"].as_str().map(str::len) == Some(MAX_PASSWORD_LEN))
        .expect("a 4 KiB case");
    let hash = case["hash"].as_str().expect("hash");
    let password = case["password"].as_str().expect("password");
    assert!(hasher.verify(password, hash).await.expect("runs"));
    let longer = format!("{password}a");
    assert!(!hasher.verify(&longer, hash).await.expect("runs"));
    let huge = "x".repeat(10 * 1024 * 1024);
    assert!(!hasher.verify(&huge, hash).await.expect("runs"));
    assert!(hasher.hash(&huge).await.is_err());
}

#[test]
fn invalid_parameters_are_errors() {
    assert!(PasswordHasher::with_params(64, 1, 1, 0).is_err());
    assert!(PasswordHasher::with_params(1, 1, 1, 1).is_err());
    assert!(PasswordHasher::with_params(64, 0, 1, 1).is_err());
    assert!(PasswordHasher::with_params(u32::MAX, 1, 1, 1).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_defaults_to_one_less_than_the_cpu_count_and_queued_calls_complete() {
    let hasher = PasswordHasher::with_params(1024, 1, 1, 1).expect("params");
    assert_eq!(hasher.max_concurrent(), 1);
    assert_eq!(
        PasswordHasher::new().max_concurrent(),
        std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
    );
    let hash = hasher.hash("pw").await.expect("hash");
    let mut tasks = Vec::new();
    for i in 0..32 {
        let (h, hash) = (hasher.clone(), hash.clone());
        tasks.push(tokio::spawn(async move {
            h.verify(if i % 2 == 0 { "pw" } else { "no" }, &hash).await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.expect("join").expect("runs"), i % 2 == 0);
    }
}

/// A hash made by real Django's `make_password` (Django is installed by `.ci/install-deps`).
#[tokio::test]
async fn a_hash_made_by_real_django_make_password_verifies() {
    let script = "from django.conf import settings; settings.configure()\n\
                  from django.contrib.auth.hashers import make_password\n\
                  print(make_password('made-by-django'))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output();
    let hash = match out {
        Ok(out) if out.status.success() => String::from_utf8(out.stdout).expect("utf-8"),
        other => {
            assert!(
                std::env::var_os("CI").is_none(),
                "Django must be installed in CI (.ci/install-deps): {other:?}"
            );
            eprintln!("skipped: python3 with Django not available: {other:?}");
            return;
        }
    };
    let hash = hash.trim();
    assert!(hash.starts_with("pbkdf2_sha256$1000000$"), "{hash}");
    let hasher = PasswordHasher::new();
    assert!(hasher.verify("made-by-django", hash).await.expect("runs"));
}

/// A caller that gives up (a dropped request) does not leak its permit: with a bound of one,
/// later calls still run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_calls_release_their_permit() {
    let hasher = PasswordHasher::with_params(1024, 1, 1, 1).expect("params");
    let hash = hasher.hash("pw").await.expect("hash");
    for _ in 0..8 {
        let (h, hash) = (hasher.clone(), hash.clone());
        let task = tokio::spawn(async move { h.verify("pw", &hash).await });
        tokio::task::yield_now().await;
        task.abort();
        let _ = task.await;
    }
    let done = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        hasher.verify("pw", &hash),
    )
    .await
    .expect("the permit came back");
    assert!(done.expect("runs"));
}
