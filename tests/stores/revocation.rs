//! Revocation stores: atomic revoke-if-absent and rotation, token families, pruning, and the
//! file store's durability.

use std::path::Path;
use std::sync::Arc;

use tower_jwt_auth::store::{
    FileRevocationStore, MemoryRevocationStore, RevocationStore, Rotation, StoreError,
};

use crate::support::*;

/// A clock the test moves by hand, and the clock the store reads.
fn manual_clock(start: i64) -> (tower_jwt_auth::Clock, TestClock) {
    let now = TestClock::new(start);
    (now.clock(), now)
}

const T0: i64 = 1_800_000_000;
const HOUR: i64 = 3600;

macro_rules! revocation_suite {
    ($modname:ident, $make:expr) => {
        mod $modname {
            use super::*;

            #[tokio::test]
            async fn revoke_if_absent_answers_whether_the_token_was_live() {
                let (store, _dir, _now) = $make;
                assert!(!store.is_revoked("a").await.expect("ok"));
                assert!(store.revoke_if_absent("a", T0 + HOUR).await.expect("ok"));
                assert!(!store.revoke_if_absent("a", T0 + HOUR).await.expect("ok"));
                assert!(store.is_revoked("a").await.expect("ok"));
                assert!(store.is_revoked_sync("a"));
                assert!(!store.is_revoked("b").await.expect("ok"));
                assert!(!store.is_revoked_sync("b"));
                assert_eq!(store.len(), 1);
            }

            #[tokio::test]
            async fn rotation_chains_and_reuse_revokes_the_whole_family() {
                let (store, _dir, _now) = $make;
                let exp = T0 + HOUR;
                assert_eq!(
                    store.rotate("r1", exp, "r2", exp + 10).await.expect("ok"),
                    Rotation::Rotated
                );
                assert_eq!(
                    store
                        .rotate("r2", exp + 10, "r3", exp + 20)
                        .await
                        .expect("ok"),
                    Rotation::Rotated
                );
                assert!(store.is_revoked("r1").await.expect("ok"));
                assert!(store.is_revoked("r2").await.expect("ok"));
                assert!(!store.is_revoked("r3").await.expect("ok"));
                // An unrelated family is untouched by what follows.
                assert_eq!(
                    store.rotate("s1", exp, "s2", exp).await.expect("ok"),
                    Rotation::Rotated
                );
                // r1 replayed: reuse. r3, the live head of the family, is revoked too.
                assert_eq!(
                    store.rotate("r1", exp, "r4", exp).await.expect("ok"),
                    Rotation::Reused
                );
                assert!(store.is_revoked("r3").await.expect("ok"));
                assert!(store.is_revoked_sync("r3"));
                assert!(!store.is_revoked("r4").await.expect("ok"), "never issued");
                assert_eq!(
                    store.rotate("r3", exp + 20, "r5", exp).await.expect("ok"),
                    Rotation::Reused
                );
                assert!(!store.revoke_if_absent("r3", exp + 20).await.expect("ok"));
                assert!(!store.is_revoked("s2").await.expect("ok"));
                assert_eq!(
                    store.rotate("s2", exp, "s3", exp).await.expect("ok"),
                    Rotation::Rotated
                );
            }

            #[tokio::test]
            async fn a_blacklisted_token_presented_for_refresh_is_a_reuse() {
                let (store, _dir, _now) = $make;
                let exp = T0 + HOUR;
                assert_eq!(
                    store.rotate("a1", exp, "a2", exp).await.expect("ok"),
                    Rotation::Rotated
                );
                // Logout blacklists the live a2; presenting it again revokes the family.
                assert!(store.revoke_if_absent("a2", exp).await.expect("ok"));
                assert_eq!(
                    store.rotate("a2", exp, "a3", exp).await.expect("ok"),
                    Rotation::Reused
                );
                assert!(store.is_revoked("a2").await.expect("ok"));
                // A token never seen, blacklisted then refreshed: reuse as well.
                assert!(store.revoke_if_absent("lone", exp).await.expect("ok"));
                assert_eq!(
                    store.rotate("lone", exp, "x", exp).await.expect("ok"),
                    Rotation::Reused
                );
            }

            #[tokio::test]
            async fn bad_jtis_are_refused() {
                let (store, _dir, _now) = $make;
                let long = "j".repeat(256);
                for res in [
                    store.revoke_if_absent("", T0).await,
                    store.revoke_if_absent(&long, T0).await,
                ] {
                    assert!(matches!(res, Err(StoreError::Invalid(_))), "{res:?}");
                }
                for res in [
                    store.rotate("", T0, "n", T0).await,
                    store.rotate("o", T0, "", T0).await,
                    store.rotate("o", T0, &long, T0).await,
                    store.rotate("same", T0, "same", T0).await,
                ] {
                    assert!(matches!(res, Err(StoreError::Invalid(_))), "{res:?}");
                }
                assert!(
                    store
                        .revoke_if_absent(&"j".repeat(255), T0 + HOUR)
                        .await
                        .expect("ok")
                );
                assert!(!store.is_revoked("same").await.expect("ok"));
                assert!(!store.is_revoked("o").await.expect("ok"));
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn of_64_concurrent_revocations_exactly_one_wins() {
                let (store, _dir, _now) = $make;
                for round in 0..3 {
                    let jti = format!("race-{round}");
                    let barrier = Arc::new(tokio::sync::Barrier::new(64));
                    let tasks: Vec<_> = (0..64)
                        .map(|_| {
                            let (store, barrier, jti) =
                                (store.clone(), Arc::clone(&barrier), jti.clone());
                            tokio::spawn(async move {
                                barrier.wait().await;
                                store.revoke_if_absent(&jti, T0 + HOUR).await.expect("ok")
                            })
                        })
                        .collect();
                    let mut wins = 0;
                    for t in tasks {
                        wins += usize::from(t.await.expect("join"));
                    }
                    assert_eq!(wins, 1, "round {round}");
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn of_64_concurrent_rotations_exactly_one_wins_and_the_rest_revoke_the_family() {
                let (store, _dir, _now) = $make;
                let barrier = Arc::new(tokio::sync::Barrier::new(64));
                let tasks: Vec<_> = (0..64)
                    .map(|i| {
                        let (store, barrier) = (store.clone(), Arc::clone(&barrier));
                        tokio::spawn(async move {
                            barrier.wait().await;
                            let new = format!("new-{i}");
                            let r = store
                                .rotate("old", T0 + HOUR, &new, T0 + 2 * HOUR)
                                .await
                                .expect("ok");
                            (r, new)
                        })
                    })
                    .collect();
                let mut winners = Vec::new();
                for t in tasks {
                    let (r, new) = t.await.expect("join");
                    match r {
                        Rotation::Rotated => winners.push(new),
                        Rotation::Reused => {}
                    }
                }
                assert_eq!(winners.len(), 1, "{winners:?}");
                // The 63 replays were reuses: the winner's new token is revoked with its family.
                assert!(store.is_revoked(&winners[0]).await.expect("ok"));
                assert!(store.is_revoked("old").await.expect("ok"));
            }

            #[tokio::test]
            async fn expired_entries_are_forgotten_so_memory_stays_bounded() {
                let (store, _dir, now) = $make;
                for i in 0..500 {
                    assert!(
                        store
                            .revoke_if_absent(&format!("short-{i}"), T0 + 60)
                            .await
                            .expect("ok")
                    );
                }
                assert_eq!(
                    store
                        .rotate("f1", T0 + 60, "f2", T0 + 60)
                        .await
                        .expect("ok"),
                    Rotation::Rotated
                );
                assert_eq!(
                    store
                        .rotate("f1", T0 + 60, "f3", T0 + 60)
                        .await
                        .expect("ok"),
                    Rotation::Reused
                );
                assert!(
                    store
                        .revoke_if_absent("long", T0 + 10 * HOUR)
                        .await
                        .expect("ok")
                );
                assert_eq!(store.len(), 503);
                // Kept through the verifier's largest leeway (300 s) after expiry...
                now.set(T0 + 60 + 300);
                assert!(
                    store
                        .revoke_if_absent("tick-1", T0 + 10 * HOUR)
                        .await
                        .expect("ok")
                );
                assert_eq!(store.len(), 504);
                assert!(store.is_revoked("short-0").await.expect("ok"));
                assert!(store.is_revoked("f2").await.expect("ok"));
                // ...then forgotten.
                now.set(T0 + 60 + 301);
                assert!(
                    store
                        .revoke_if_absent("tick-2", T0 + 10 * HOUR)
                        .await
                        .expect("ok")
                );
                assert_eq!(store.len(), 3, "long, tick-1, tick-2");
                assert!(!store.is_revoked("short-0").await.expect("ok"));
                assert!(store.is_revoked("long").await.expect("ok"));
            }
        }
    };
}

revocation_suite!(memory, {
    let (clock, now) = manual_clock(T0);
    (MemoryRevocationStore::new().with_clock(clock), (), now)
});
revocation_suite!(file, {
    let dir = tempfile::tempdir().expect("tempdir");
    let (clock, now) = manual_clock(T0);
    let store = FileRevocationStore::open_with_clock(dir.path().join("revoked.jsonl"), clock)
        .expect("open");
    (store, dir, now)
});

fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).expect("read").lines().count()
}

#[tokio::test]
async fn the_file_store_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("revoked.jsonl");
    let (clock, _now) = manual_clock(T0);
    {
        let store = FileRevocationStore::open_with_clock(&path, clock.clone()).expect("open");
        assert!(store.revoke_if_absent("gone", T0 + HOUR).await.expect("ok"));
        assert_eq!(
            store
                .rotate("a1", T0 + HOUR, "a2", T0 + HOUR)
                .await
                .expect("ok"),
            Rotation::Rotated
        );
        assert_eq!(
            store
                .rotate("b1", T0 + HOUR, "b2", T0 + HOUR)
                .await
                .expect("ok"),
            Rotation::Rotated
        );
        assert_eq!(
            store
                .rotate("b1", T0 + HOUR, "b3", T0 + HOUR)
                .await
                .expect("ok"),
            Rotation::Reused
        );
    }
    let store = FileRevocationStore::open_with_clock(&path, clock).expect("reopen");
    for (jti, revoked) in [
        ("gone", true),
        ("a1", true),
        ("a2", false),
        ("b1", true),
        ("b2", true),
        ("x", false),
    ] {
        assert_eq!(store.is_revoked(jti).await.expect("ok"), revoked, "{jti}");
    }
    // The family structure survived too: a2 is still in a1's family.
    assert_eq!(
        store
            .rotate("a1", T0 + HOUR, "a9", T0 + HOUR)
            .await
            .expect("ok"),
        Rotation::Reused
    );
    assert!(store.is_revoked("a2").await.expect("ok"));
    assert!(!store.revoke_if_absent("gone", T0 + HOUR).await.expect("ok"));
    assert_owner_only([path.clone(), dir.path().join("revoked.jsonl.lock")]);
}

#[tokio::test]
async fn a_second_store_on_the_same_file_is_refused_while_the_first_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("revoked.jsonl");
    let first = FileRevocationStore::open(&path).expect("open");
    assert!(matches!(
        FileRevocationStore::open(&path),
        Err(StoreError::Conflict(_))
    ));
    let clone = first.clone();
    drop(first);
    assert!(
        matches!(
            FileRevocationStore::open(&path),
            Err(StoreError::Conflict(_))
        ),
        "clones share the lock"
    );
    drop(clone);
    FileRevocationStore::open(&path).expect("free again");
}

#[tokio::test]
async fn a_torn_last_line_is_ignored_and_a_bad_line_elsewhere_refuses_to_open() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("revoked.jsonl");
    let (clock, _now) = manual_clock(T0);
    {
        let store = FileRevocationStore::open_with_clock(&path, clock.clone()).expect("open");
        assert!(store.revoke_if_absent("kept", T0 + HOUR).await.expect("ok"));
    }
    // A crash mid-append leaves a prefix of the line, without its newline.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    f.write_all(br#"[{"t":"revoked","jti":"torn","exp":18000"#)
        .expect("write");
    drop(f);
    {
        let store = FileRevocationStore::open_with_clock(&path, clock.clone())
            .expect("a torn tail is fine");
        assert!(store.is_revoked("kept").await.expect("ok"));
        assert!(!store.is_revoked("torn").await.expect("ok"));
        // The open compacted the tail away: the log is whole again.
        assert!(
            store
                .revoke_if_absent("after", T0 + HOUR)
                .await
                .expect("ok")
        );
    }
    let store = FileRevocationStore::open_with_clock(&path, clock.clone()).expect("open");
    assert!(store.is_revoked("after").await.expect("ok"));
    drop(store);
    // Garbage before the last line is corruption: refuse (never start empty).
    let good = std::fs::read_to_string(&path).expect("read");
    for bad in [
        format!("garbage\n{good}"),
        format!("{good}[{{\"t\":\"revoked\",\"jti\":\"x\"}}]\n"),
        format!("{good}[{{\"t\":\"nope\",\"fam\":\"x\",\"exp\":1}}]\n[]\n"),
    ] {
        std::fs::write(&path, &bad).expect("write");
        match FileRevocationStore::open_with_clock(&path, clock.clone()) {
            Err(StoreError::Corrupt(_)) => {}
            other => panic!("expected Corrupt for {bad:?}, got {other:?}"),
        }
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            bad,
            "left as it was"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&path, &good).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(matches!(
            FileRevocationStore::open(&path),
            Err(StoreError::Other(_))
        ));
    }
}

#[tokio::test]
async fn the_log_is_compacted_on_open_and_when_it_outgrows_the_live_entries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("revoked.jsonl");
    let (clock, now) = manual_clock(T0);
    let store = FileRevocationStore::open_with_clock(&path, clock.clone()).expect("open");
    for i in 0..1100 {
        assert!(
            store
                .revoke_if_absent(&format!("s{i}"), T0 + 10)
                .await
                .expect("ok")
        );
    }
    assert_eq!(lines(&path), 1100, "one appended line per revocation");
    now.set(T0 + 10 + 301);
    // The next write prunes the expired entries and rewrites the log from the live ones.
    assert!(store.revoke_if_absent("live", T0 + HOUR).await.expect("ok"));
    assert_eq!(store.len(), 1);
    assert_eq!(lines(&path), 1);
    drop(store);
    now.set(T0 + HOUR + 301);
    let store = FileRevocationStore::open_with_clock(&path, clock).expect("open");
    assert!(store.is_empty());
    assert_eq!(lines(&path), 0, "compacted on open");
}

/// 100 000 revoked tokens: the log replays, and each further revocation is one appended line
/// (not a rewrite of the whole file).
#[tokio::test]
async fn a_hundred_thousand_revoked_tokens() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("revoked.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        for i in 0..100_000 {
            writeln!(
                f,
                r#"[{{"t":"revoked","jti":"j{i:06}","exp":{},"fam":"j{i:06}"}}]"#,
                T0 + HOUR
            )
            .expect("write");
        }
    }
    let (clock, _now) = manual_clock(T0);
    let store = FileRevocationStore::open_with_clock(&path, clock).expect("open");
    assert_eq!(store.len(), 100_000);
    assert!(store.is_revoked_sync("j000000") && store.is_revoked_sync("j099999"));
    assert!(!store.is_revoked_sync("j100000"));
    let size = std::fs::metadata(&path).expect("meta").len();
    for i in 0..10 {
        assert!(
            store
                .revoke_if_absent(&format!("n{i}"), T0 + HOUR)
                .await
                .expect("ok")
        );
    }
    assert!(
        !store
            .revoke_if_absent("j050000", T0 + HOUR)
            .await
            .expect("ok")
    );
    let grown = std::fs::metadata(&path).expect("meta").len() - size;
    assert!(grown < 10 * 100, "10 revocations appended {grown} bytes");
    assert_eq!(lines(&path), 100_010);
}

#[test]
fn debug_output_is_short() {
    let store = MemoryRevocationStore::new();
    assert_eq!(
        format!("{store:?}"),
        "MemoryRevocationStore { tracked: 0, clock: Clock::system() }"
    );
}
