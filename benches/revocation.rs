//! Revocation cost with 0 and with 100 000 revoked tokens already stored: a revocation must not
//! grow with the number stored (the file store appends one fsynced line).
//!
//! Run with `cargo bench --bench revocation`.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use tower_jwt_auth::store::{FileRevocationStore, MemoryRevocationStore, RevocationStore};

const EXP: i64 = 4_102_444_800; // 2100-01-01

fn revocation(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let n = AtomicU64::new(0);
    let next = || format!("{:032x}", n.fetch_add(1, Ordering::Relaxed));

    let mut g = c.benchmark_group("revocation");
    g.sample_size(30);
    for preload in [0usize, 100_000] {
        let memory = MemoryRevocationStore::new();
        rt.block_on(async {
            for _ in 0..preload {
                memory.revoke_if_absent(&next(), EXP).await.expect("revoke");
            }
        });
        // Preload the file store through its log format; open replays and compacts it.
        let path = dir.path().join(format!("revoked-{preload}.jsonl"));
        let mut log = String::new();
        for _ in 0..preload {
            let j = next();
            log.push_str(&format!(
                r#"[{{"t":"revoked","jti":"{j}","exp":{EXP},"fam":"{j}"}}]"#
            ));
            log.push('\n');
        }
        std::fs::write(&path, log).expect("write");
        let file = FileRevocationStore::open(&path).expect("open");
        assert_eq!(file.len(), preload);
        g.bench_function(format!("memory_revoke/{preload}"), |b| {
            b.iter(|| {
                rt.block_on(memory.revoke_if_absent(&next(), EXP))
                    .expect("revoke")
            })
        });
        g.bench_function(format!("file_revoke/{preload}"), |b| {
            b.iter(|| {
                rt.block_on(file.revoke_if_absent(&next(), EXP))
                    .expect("revoke")
            })
        });
        g.bench_function(format!("file_is_revoked_sync/{preload}"), |b| {
            b.iter(|| {
                file.is_revoked_sync(std::hint::black_box("0000000000000000000000000000002a"))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, revocation);
criterion_main!(benches);
