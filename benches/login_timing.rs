//! Login timing: `authenticate` for an unknown user must cost what a wrong password costs (the
//! store verifies a dummy argon2id hash), so response times do not reveal which usernames exist.
//!
//! Run with `cargo bench --bench login_timing`; the medians are in
//! `target/criterion/login_timing/*/new/estimates.json` (`median.point_estimate`, ns).
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tower_jwt_auth::store::{MemoryUserStore, UserStore};

fn login_timing(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    // OWASP argon2id parameters (the default hasher).
    let store = MemoryUserStore::new();
    rt.block_on(async {
        store
            .add_user("alice", "correct horse battery staple", true)
            .await
            .expect("add");
        // A user imported from Django 5.2 (PBKDF2-SHA256, 1 000 000 iterations; password
        // "django-5.2-default", from tests/fixtures/django_hashes.json).
        store
            .import_django(
                r#"[{"model":"auth.user","pk":2,"fields":{"username":"dj","is_active":true,
                "password":"pbkdf2_sha256$1000000$xrsgchF0udOUlERiqyoiLy$q5eattUaW28sdTMk4rU1qmLl/5Z2BPgPOpRaC2/GraE="}}]"#,
            )
            .await
            .expect("import");
    });

    let mut g = c.benchmark_group("login_timing");
    g.sample_size(40);
    g.bench_function("unknown_user", |b| {
        b.iter(|| {
            let r = rt.block_on(store.authenticate(black_box("mallory"), black_box("guess")));
            assert!(matches!(r, Ok(None)));
        })
    });
    g.bench_function("wrong_password", |b| {
        b.iter(|| {
            let r = rt.block_on(store.authenticate(black_box("alice"), black_box("guess")));
            assert!(matches!(r, Ok(None)));
        })
    });
    g.bench_function("right_password", |b| {
        b.iter(|| {
            let r = rt.block_on(store.authenticate(
                black_box("alice"),
                black_box("correct horse battery staple"),
            ));
            assert!(matches!(r, Ok(Some(_))));
        })
    });
    g.bench_function("django_pbkdf2_wrong_password", |b| {
        b.iter(|| {
            let r = rt.block_on(store.authenticate(black_box("dj"), black_box("guess")));
            assert!(matches!(r, Ok(None)));
        })
    });
    g.finish();
}

criterion_group!(benches, login_timing);
criterion_main!(benches);
