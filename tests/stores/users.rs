//! User stores: the `UserStore` trait, the management API, Django import, and the file store's
//! atomicity, locking and fail-closed loading.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use tower_jwt_auth::UserId;
use tower_jwt_auth::password::{HashCostLimits, PasswordHasher};
use tower_jwt_auth::store::{FileUserStore, MemoryUserStore, StoreError, UserStore};

use crate::support::*;

/// A dump in the shape of `manage.py dumpdata auth.user`, with cheap (1000-iteration) hashes
/// from tests/fixtures/django_hashes.json: "secret" for every user.
fn cheap_dump() -> String {
    let hashes = fixture_json("django_hashes.json");
    let secret_1000 = hashes["hashes"]
        .as_array()
        .expect("hashes")
        .iter()
        .find(|h| h["iterations"] == 1000)
        .expect("a 1000-iteration hash")["hash"]
        .clone();
    json!([
        {"model": "auth.user", "pk": 3, "fields": {"password": secret_1000, "username": "ann",
         "is_active": true, "is_superuser": false, "email": "", "groups": [], "user_permissions": []}},
        {"model": "auth.user", "pk": 9, "fields": {"password": secret_1000, "username": "ben",
         "is_active": false, "is_superuser": false, "email": "", "groups": [], "user_permissions": []}},
        {"model": "auth.user", "pk": 4, "fields": {"password": "!unusable0123456789abcdefghijklmnopqrst",
         "username": "cat", "is_active": true}},
        {"model": "auth.user", "pk": 5, "fields": {"password": "", "username": "dan"}},
    ])
    .to_string()
}

fn id(s: &str) -> UserId {
    UserId::from(s)
}

/// The same behaviour suite for both stores.
macro_rules! user_store_suite {
    ($modname:ident, $make:expr) => {
        mod $modname {
            use super::*;

            #[tokio::test]
            async fn ids_are_sequential_strings_from_1_and_usernames_unique() {
                let (store, _dir) = $make;
                let a = store.add_user("alice", "pw-alice", true).await.expect("add");
                let b = store.add_user("bob", "pw-bob", false).await.expect("add");
                assert_eq!((a.id.as_str(), b.id.as_str()), ("1", "2"));
                assert!(a.password_hash.starts_with(FAST_PREFIX));
                assert!(!b.is_active);
                match store.add_user("alice", "other", true).await {
                    Err(StoreError::Conflict(_)) => {}
                    other => panic!("expected a conflict, got {other:?}"),
                }
                // Case-sensitive, as Django.
                assert_eq!(store.add_user("Alice", "pw", true).await.expect("add").id.as_str(), "3");
                for bad in ["", &"x".repeat(151), "tab\there"] {
                    assert!(matches!(
                        store.add_user(bad, "pw", true).await,
                        Err(StoreError::Invalid(_))
                    ));
                }
                assert!(matches!(
                    store.add_user("dave", &"p".repeat(4097), true).await,
                    Err(StoreError::Invalid(_))
                ));
                let names: Vec<String> =
                    store.list().await.expect("list").into_iter().map(|u| u.username).collect();
                assert_eq!(names, ["alice", "bob", "Alice"]);
            }

            #[tokio::test]
            async fn authenticate_checks_the_password_and_returns_inactive_users_too() {
                let (store, _dir) = $make;
                store.add_user("alice", "pw-alice", true).await.expect("add");
                store.add_user("bob", "pw-bob", false).await.expect("add");
                let alice = store.authenticate("alice", "pw-alice").await.expect("ok");
                assert_eq!(alice.map(|u| (u.id, u.is_active)), Some((id("1"), true)));
                let bob = store.authenticate("bob", "pw-bob").await.expect("ok");
                assert_eq!(bob.map(|u| (u.id, u.is_active)), Some((id("2"), false)));
                assert_eq!(store.authenticate("alice", "pw-bob").await.expect("ok"), None);
                assert_eq!(store.authenticate("alice", "").await.expect("ok"), None);
                assert_eq!(store.authenticate("nobody", "pw-alice").await.expect("ok"), None);
                assert_eq!(store.authenticate("", "").await.expect("ok"), None);
                let huge = "x".repeat(1 << 20);
                assert_eq!(store.authenticate("alice", &huge).await.expect("ok"), None);
                assert_eq!(store.authenticate(&huge, "pw").await.expect("ok"), None);
            }

            #[tokio::test]
            async fn the_management_api_updates_and_removes_users() {
                let (store, _dir) = $make;
                let a = store.add_user("alice", "old-pw", true).await.expect("add");
                assert!(store.set_password(&a.id, "new-pw").await.expect("set"));
                assert_eq!(store.authenticate("alice", "old-pw").await.expect("ok"), None);
                assert!(store.authenticate("alice", "new-pw").await.expect("ok").is_some());
                assert!(store.set_active(&a.id, false).await.expect("set"));
                assert!(!store.get(&a.id).await.expect("get").expect("alice").is_active);
                let mut claims = serde_json::Map::new();
                claims.insert("role".into(), json!("admin"));
                assert!(store.set_extra_claims(&a.id, claims.clone()).await.expect("set"));
                let got = store.get_by_username("alice").await.expect("get").expect("alice");
                assert_eq!(got.extra_claims, claims);
                assert_eq!(store.get_by_username("nobody").await.expect("get"), None);
                // Unknown ids are `false`, not errors.
                assert!(!store.set_password(&id("99"), "x").await.expect("set"));
                assert!(!store.set_active(&id("99"), true).await.expect("set"));
                assert!(!store.remove(&id("99")).await.expect("remove"));
                // Removal frees the username but never the id.
                assert!(store.remove(&a.id).await.expect("remove"));
                assert_eq!(store.get(&a.id).await.expect("get"), None);
                assert_eq!(store.authenticate("alice", "new-pw").await.expect("ok"), None);
                let again = store.add_user("alice", "pw", true).await.expect("add");
                assert_eq!(again.id.as_str(), "2");
                // Debug never shows a hash.
                let dbg = format!("{store:?} {:?}", again);
                assert!(!dbg.contains("argon2id"), "{dbg}");
            }

            #[tokio::test]
            async fn django_import_keeps_pks_and_hashes_and_ids_continue_after_the_max() {
                let (store, _dir) = $make;
                store.add_user("first", "pw", true).await.expect("add");
                let imported = store.import_django(&cheap_dump()).await.expect("import");
                let got: Vec<(String, String, bool)> = imported
                    .iter()
                    .map(|u| (u.id.to_string(), u.username.clone(), u.is_active))
                    .collect();
                assert_eq!(
                    got,
                    [
                        ("3".into(), "ann".into(), true),
                        ("9".into(), "ben".into(), false),
                        ("4".into(), "cat".into(), true),
                        ("5".into(), "dan".into(), true)
                    ]
                );
                // An empty Django hash is kept as an unusable password.
                assert_eq!(imported[3].password_hash, "!");
                assert_eq!(store.authenticate("dan", "").await.expect("ok"), None);
                assert!(imported[0].password_hash.starts_with("pbkdf2_sha256$1000$"));
                assert_eq!(store.add_user("next", "pw", true).await.expect("add").id.as_str(), "10");
                // The unusable password never logs in.
                assert_eq!(store.authenticate("cat", "").await.expect("ok"), None);
                assert_eq!(store.authenticate("ben", "wrong").await.expect("ok"), None);
                let ben = store.authenticate("ben", "secret").await.expect("ok").expect("ben");
                assert!(!ben.is_active);
                // Importing again conflicts and changes nothing.
                assert!(matches!(
                    store.import_django(&cheap_dump()).await,
                    Err(StoreError::Conflict(_))
                ));
                assert_eq!(store.list().await.expect("list").len(), 6);
            }

            #[tokio::test]
            async fn bad_django_dumps_are_refused_whole() {
                let (store, _dir) = $make;
                for bad in [
                    "not json".to_string(),
                    "{}".to_string(),
                    json!([{"model": "auth.user", "pk": 1, "fields": {"username": "x"}}]).to_string(),
                    // An unsupported hasher after a good user: nothing is imported.
                    json!([
                        {"model": "auth.user", "pk": 1, "fields": {"username": "ok", "password": "!x"}},
                        {"model": "auth.user", "pk": 2, "fields": {"username": "md5", "password": "md5$salt$5ebe2294ecd0e0f08eab7690d2a6ee69"}}
                    ]).to_string(),
                    json!([
                        {"model": "auth.user", "pk": 1, "fields": {"username": "dup", "password": "!x"}},
                        {"model": "auth.user", "pk": 2, "fields": {"username": "dup", "password": "!x"}}
                    ]).to_string(),
                ] {
                    let res = store.import_django(&bad).await;
                    assert!(
                        matches!(res, Err(StoreError::Invalid(_) | StoreError::Conflict(_))),
                        "{bad}: {res:?}"
                    );
                }
                assert!(store.list().await.expect("list").is_empty());
                let res = store.import_django(&json!([
                    {"model": "auth.user", "pk": 2, "fields": {"username": "md5", "password": "md5$salt$5ebe2294ecd0e0f08eab7690d2a6ee69"}}
                ]).to_string()).await;
                let msg = res.expect_err("refused").to_string();
                assert!(msg.contains("\"md5\""), "{msg}");
                assert!(!msg.contains("5ebe2294"), "no hash in errors: {msg}");
            }

            #[tokio::test]
            async fn upgrade_on_login_rewrites_a_django_hash_to_argon2id() {
                let (store, _dir) = $make;
                store.import_django(&cheap_dump()).await.expect("import");
                let ann = store.authenticate("ann", "secret").await.expect("ok").expect("ann");
                assert!(ann.password_hash.starts_with(FAST_PREFIX), "{}", ann.password_hash);
                let stored = store.get(&id("3")).await.expect("get").expect("ann");
                assert_eq!(stored.password_hash, ann.password_hash);
                // Still logs in, with the new hash; wrong passwords still fail.
                assert!(store.authenticate("ann", "secret").await.expect("ok").is_some());
                assert_eq!(store.authenticate("ann", "Secret").await.expect("ok"), None);
                // A wrong password never upgrades.
                assert_eq!(store.authenticate("ben", "nope").await.expect("ok"), None);
                let ben = store.get(&id("9")).await.expect("get").expect("ben");
                assert!(ben.password_hash.starts_with("pbkdf2_sha256$"));
            }
        }
    };
}

user_store_suite!(memory, (MemoryUserStore::with_hasher(fast_hasher()), ()));
user_store_suite!(file, {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = FileUserStore::open_with_hasher(dir.path().join("users.json"), fast_hasher())
        .expect("open");
    (store, dir)
});

#[tokio::test]
async fn upgrade_on_login_can_be_turned_off() {
    let store = MemoryUserStore::with_hasher(fast_hasher()).upgrade_on_login(false);
    store.import_django(&cheap_dump()).await.expect("import");
    let ann = store
        .authenticate("ann", "secret")
        .await
        .expect("ok")
        .expect("ann");
    assert!(ann.password_hash.starts_with("pbkdf2_sha256$"));

    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let store = FileUserStore::open_with_hasher(&path, fast_hasher())
        .expect("open")
        .upgrade_on_login(false);
    store.import_django(&cheap_dump()).await.expect("import");
    assert!(
        store
            .authenticate("ann", "secret")
            .await
            .expect("ok")
            .is_some()
    );
    assert!(
        read_json(&path)["users"]
            .to_string()
            .contains("pbkdf2_sha256$1000$")
    );
}

/// The real `manage.py dumpdata auth.user` output (tests/fixtures/make_django_dump.py), with
/// Django 5.2's 1 000 000-iteration hashes, into a file store with the OWASP hasher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_django_dump_moves_over_and_upgrades_to_owasp_argon2id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let store = FileUserStore::open(&path).expect("open");
    let imported = store
        .import_django(&fixture_str("django_auth_user_dump.json"))
        .await
        .expect("import");
    let summary: Vec<(&str, &str, bool)> = imported
        .iter()
        .map(|u| (u.id.as_str(), u.username.as_str(), u.is_active))
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "alice", true),
            ("2", "bob", false),
            ("3", "carol", true),
            ("5", "eve", true)
        ]
    );
    // The file holds Django's hashes unchanged.
    let on_disk = read_json(&path);
    assert_eq!(on_disk["next_id"], 6);
    assert!(
        on_disk["users"][0]["password_hash"]
            .as_str()
            .expect("hash")
            .starts_with("pbkdf2_sha256$1000000$")
    );
    let alice = store
        .authenticate("alice", "alice-password-1")
        .await
        .expect("ok")
        .expect("alice");
    assert!(
        alice
            .password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    // Upgraded on disk, and a fresh store (a restart) logs alice in with it.
    let reopened = FileUserStore::open(&path).expect("reopen");
    let again = reopened
        .authenticate("alice", "alice-password-1")
        .await
        .expect("ok")
        .expect("alice");
    assert_eq!(again.password_hash, alice.password_hash);
    assert_eq!(
        reopened
            .authenticate("alice", "alice-password-2")
            .await
            .expect("ok"),
        None
    );
    assert_eq!(
        reopened
            .add_user("frank", "pw", true)
            .await
            .expect("add")
            .id
            .as_str(),
        "6"
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("read")).expect("the file parses")
}

fn ids_of(path: &Path) -> Vec<u64> {
    read_json(path)["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            u["id"]
                .as_str()
                .expect("string id")
                .parse()
                .expect("numeric id")
        })
        .collect()
}

#[tokio::test]
async fn the_file_has_the_documented_shape_and_mode_0600() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let store = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    assert_eq!(
        read_json(&path),
        json!({"version": 1, "next_id": 1, "users": []})
    );
    store.add_user("alice", "pw", true).await.expect("add");
    let v = read_json(&path);
    assert_eq!(v["version"], 1);
    assert_eq!(v["next_id"], 2);
    assert_eq!(v["users"][0]["id"], "1");
    assert_eq!(v["users"][0]["username"], "alice");
    assert_eq!(v["users"][0]["is_active"], true);
    assert!(
        v["users"][0]["password_hash"]
            .as_str()
            .expect("hash")
            .starts_with(FAST_PREFIX)
    );
    assert!(
        !std::fs::read_to_string(&path)
            .expect("read")
            .contains("\"pw\"")
    );
    assert_owner_only([path.clone(), dir.path().join("users.json.lock")]);
}

#[tokio::test]
async fn corrupt_unknown_version_and_invalid_files_refuse_to_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let good_hash = fast_hasher().hash("pw").await.expect("hash");
    let user = |id: &str, name: &str| json!({"id": id, "username": name, "is_active": true, "password_hash": good_hash});
    let cases: Vec<(&str, String)> = vec![
        ("empty", String::new()),
        ("truncated", r#"{"version":1,"next_id":2,"users":[{"id":"1","#.into()),
        ("not json", "users: alice".into()),
        ("unknown version", json!({"version": 2, "next_id": 1, "users": []}).to_string()),
        ("missing version", json!({"next_id": 1, "users": []}).to_string()),
        ("unknown field", json!({"version": 1, "next_id": 1, "users": [], "x": 1}).to_string()),
        ("duplicate username", json!({"version": 1, "next_id": 3, "users": [user("1", "a"), user("2", "a")]}).to_string()),
        ("duplicate id", json!({"version": 1, "next_id": 3, "users": [user("1", "a"), user("1", "b")]}).to_string()),
        ("id not below next_id", json!({"version": 1, "next_id": 1, "users": [user("1", "a")]}).to_string()),
        ("plaintext password", json!({"version": 1, "next_id": 2, "users": [{"id": "1", "username": "a", "is_active": true, "password_hash": "hunter2"}]}).to_string()),
    ];
    for (what, contents) in cases {
        std::fs::write(&path, &contents).expect("write");
        match FileUserStore::open_with_hasher(&path, fast_hasher()) {
            Err(StoreError::Corrupt(msg)) => {
                assert!(
                    !msg.contains("hunter2"),
                    "{what}: no secrets in errors: {msg}"
                )
            }
            other => panic!("{what}: expected Corrupt, got {other:?}"),
        }
        // Never "repaired" into an empty store.
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            contents,
            "{what}"
        );
    }
    // A file over the 64 MiB cap.
    let f = std::fs::File::create(&path).expect("create");
    f.set_len(64 * 1024 * 1024 + 1).expect("set_len");
    assert!(matches!(
        FileUserStore::open_with_hasher(&path, fast_hasher()),
        Err(StoreError::Corrupt(_))
    ));
    // A store whose file was corrupted after it opened fails its lookups, closed.
    std::fs::remove_file(&path).expect("rm");
    let store = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    store.add_user("alice", "pw", true).await.expect("add");
    std::fs::write(&path, "{").expect("corrupt it");
    assert!(matches!(
        store.authenticate("alice", "pw").await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.add_user("bob", "pw", true).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[cfg(unix)]
#[tokio::test]
async fn a_world_writable_file_refuses_to_open() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    FileUserStore::open_with_hasher(&path, fast_hasher()).expect("create");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    match FileUserStore::open_with_hasher(&path, fast_hasher()) {
        Err(e @ StoreError::Other(_)) => assert!(e.to_string().contains("world-writable")),
        other => panic!("expected a refusal, got {other:?}"),
    }
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    FileUserStore::open_with_hasher(&path, fast_hasher()).expect("0640 is fine");
}

#[tokio::test]
async fn stale_temp_files_are_ignored_and_cleaned_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let store = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    store.add_user("alice", "pw", true).await.expect("add");
    let stale = dir.path().join(".users.json.AbC123.tmp");
    std::fs::write(&stale, r#"{"version":1,"next_id":1,"users":[]}"#).expect("write");
    let other = dir.path().join("unrelated.tmp");
    std::fs::write(&other, "keep me").expect("write");
    let reopened = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    assert_eq!(reopened.list().await.expect("list").len(), 1);
    assert!(!stale.exists(), "stale temp file removed");
    assert!(other.exists(), "other files untouched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_writers_lose_no_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let store = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    let mut tasks = Vec::new();
    for t in 0..16 {
        let (store, barrier) = (store.clone(), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut ids = Vec::new();
            for i in 0..4 {
                let u = store
                    .add_user(&format!("t{t}-u{i}"), "pw", true)
                    .await
                    .expect("add");
                ids.push(u.id.as_str().parse::<u64>().expect("numeric"));
            }
            // Interleave other writes too.
            store
                .set_active(&UserId::from(ids[0].to_string()), false)
                .await
                .expect("set");
            ids
        }));
    }
    let mut returned = BTreeSet::new();
    for t in tasks {
        for id in t.await.expect("join") {
            assert!(returned.insert(id), "id {id} handed out twice");
        }
    }
    assert_eq!(returned, (1..=64).collect::<BTreeSet<u64>>());
    assert_eq!(ids_of(&path), (1..=64).collect::<Vec<u64>>());
    assert_eq!(read_json(&path)["next_id"], 65);
    let inactive = read_json(&path)["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["is_active"] == false)
        .count();
    assert_eq!(inactive, 16);
    assert_eq!(
        FileUserStore::open_with_hasher(&path, fast_hasher())
            .expect("reopen")
            .list()
            .await
            .expect("list")
            .len(),
        64
    );
}

/// Two stores on one path: separate in-process mutexes, so only the file lock keeps them from
/// losing each other's updates, as two processes would.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_file_lose_no_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let a = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    let b = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let store = if t % 2 == 0 { a.clone() } else { b.clone() };
        let barrier = Arc::clone(&barrier);
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            for i in 0..5 {
                store
                    .add_user(&format!("s{t}-{i}"), "pw", true)
                    .await
                    .expect("add");
            }
        }));
    }
    for t in tasks {
        t.await.expect("join");
    }
    assert_eq!(ids_of(&path), (1..=40).collect::<Vec<u64>>());
    // Each store sees the other's writes.
    assert!(a.get_by_username("s1-4").await.expect("get").is_some());
    assert!(b.get_by_username("s0-4").await.expect("get").is_some());
    assert!(a.authenticate("s1-0", "pw").await.expect("ok").is_some());
    // A username taken through the other store conflicts.
    assert!(matches!(
        a.add_user("s1-0", "pw", true).await,
        Err(StoreError::Conflict(_))
    ));
    b.set_active(&UserId::from("1"), false).await.expect("set");
    assert!(
        !a.get(&UserId::from("1"))
            .await
            .expect("get")
            .expect("user 1")
            .is_active
    );
}

// ---- kill -9 in a write loop -------------------------------------------------------------------

const CHILD_ENV: &str = "TOWER_JWT_AUTH_TEST_STORE_PATH";

/// The child of `kill_9_during_writes_leaves_a_whole_file`: writes in a loop until killed.
#[test]
#[ignore = "child process of kill_9_during_writes_leaves_a_whole_file"]
fn kill_child_writer_loop() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let store =
            FileUserStore::open_with_hasher(PathBuf::from(path), fast_hasher()).expect("open");
        let start = store.list().await.expect("list").len();
        for i in start.. {
            let u = store
                .add_user(&format!("k{i}"), "pw", true)
                .await
                .expect("add");
            store.set_active(&u.id, i % 2 == 0).await.expect("set");
        }
    });
}

#[cfg(unix)]
fn file_ino(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| m.ino()).unwrap_or(0)
}

#[cfg(unix)]
#[test]
fn kill_9_during_writes_leaves_a_whole_file() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    // A big first user so that every rewrite takes a while and kills land mid-write.
    rt.block_on(async {
        let store = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
        let big = store.add_user("big", "pw", true).await.expect("add");
        let mut claims = serde_json::Map::new();
        claims.insert("blob".into(), json!("b".repeat(512 * 1024)));
        store.set_extra_claims(&big.id, claims).await.expect("set");
    });
    let exe = std::env::current_exe().expect("test binary");
    let mut last = 1usize;
    let mut grew = 0;
    for round in 0..20u64 {
        let mut child = std::process::Command::new(&exe)
            .args([
                &test_name(module_path!(), "kill_child_writer_loop"),
                "--exact",
                "--ignored",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the child");
        // Wait for the child's first write (the file is replaced: new inode), then a little
        // longer, so every kill lands somewhere in a stream of writes.
        let ino = file_ino(&path);
        let t0 = std::time::Instant::now();
        while file_ino(&path) == ino && t0.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(std::time::Duration::from_millis((round * 37) % 90));
        child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
        child.wait().expect("reap");
        // The file is whole: it parses, validates, and holds every user acknowledged before.
        let users = rt.block_on(async {
            FileUserStore::open_with_hasher(&path, fast_hasher())
                .unwrap_or_else(|e| panic!("round {round}: the file must open: {e}"))
                .list()
                .await
                .expect("list")
        });
        assert!(
            users.len() >= last,
            "round {round}: {} < {last}",
            users.len()
        );
        grew += usize::from(users.len() > last);
        last = users.len();
        let ids: Vec<u64> = users
            .iter()
            .map(|u| u.id.as_str().parse().expect("id"))
            .collect();
        assert_eq!(
            ids,
            (1..=ids.len() as u64).collect::<Vec<_>>(),
            "round {round}"
        );
        assert_eq!(
            users[0].extra_claims["blob"].as_str().map(str::len),
            Some(512 * 1024)
        );
    }
    assert_eq!(grew, 20, "every child wrote before it was killed");
    // open() removed the temp files the kills left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

// ---- a write that fails ------------------------------------------------------------------------

const RO_ENV: &str = "TOWER_JWT_AUTH_TEST_RO_STORE";

/// With the directory read-only: every write fails cleanly, nothing changes in memory or on disk.
async fn read_only_scenario(path: &Path) {
    let before = std::fs::read(path).expect("read");
    let store =
        FileUserStore::open_with_hasher(path, fast_hasher()).expect("open (reading is allowed)");
    assert_eq!(store.list().await.expect("list").len(), 1);
    match store.add_user("second", "pw", true).await {
        Err(StoreError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::PermissionDenied),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert_eq!(store.get_by_username("second").await.expect("get"), None);
    assert!(store.set_active(&UserId::from("1"), false).await.is_err());
    assert!(
        store
            .get(&UserId::from("1"))
            .await
            .expect("get")
            .expect("first")
            .is_active
    );
    assert!(store.set_password(&UserId::from("1"), "new").await.is_err());
    assert!(
        store
            .authenticate("first", "pw")
            .await
            .expect("ok")
            .is_some()
    );
    assert_eq!(store.authenticate("first", "new").await.expect("ok"), None);
    assert_eq!(store.list().await.expect("list").len(), 1);
    assert_eq!(
        std::fs::read(path).expect("read"),
        before,
        "the file is unchanged"
    );
}

#[test]
#[ignore = "child process of a_write_into_a_read_only_directory_fails_cleanly"]
fn read_only_child() {
    let Some(path) = std::env::var_os(RO_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(read_only_scenario(Path::new(&path)));
}

#[cfg(unix)]
#[test]
fn a_write_into_a_read_only_directory_fails_cleanly() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::os::unix::process::CommandExt;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join("store");
    std::fs::create_dir(&store_dir).expect("mkdir");
    let path = store_dir.join("users.json");
    rt.block_on(async {
        let store = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
        store.add_user("first", "pw", true).await.expect("add");
    });
    let root = std::fs::metadata(&path).expect("meta").uid() == 0;
    let chmod = |p: &Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    if !root {
        chmod(&store_dir, 0o555);
        rt.block_on(read_only_scenario(&path));
        chmod(&store_dir, 0o755);
        return;
    }
    // Root ignores permissions: run the scenario in a child as `nobody`, which owns the files
    // but not the (read-only) directory. The test binary is copied where `nobody` can run it.
    const NOBODY: u32 = 65534;
    for p in [path.clone(), store_dir.join("users.json.lock")] {
        std::os::unix::fs::chown(&p, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
    chmod(dir.path(), 0o755);
    chmod(&store_dir, 0o555);
    let exe = dir.path().join("test-binary");
    std::fs::copy(std::env::current_exe().expect("exe"), &exe).expect("copy");
    chmod(&exe, 0o755);
    let out = std::process::Command::new(&exe)
        .args([
            &test_name(module_path!(), "read_only_child"),
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(RO_ENV, &path)
        .current_dir(dir.path())
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
        .expect("spawn the child as nobody");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{log}");
    assert!(
        log.contains("1 passed"),
        "the child ran the scenario:\n{log}"
    );
    chmod(&store_dir, 0o755);
}

#[test]
fn write_file_atomic_replaces_whole_files() {
    use tower_jwt_auth::store::write_file_atomic;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("schedules.json");
    write_file_atomic(&path, b"first").expect("write");
    write_file_atomic(&path, b"second, longer").expect("write");
    assert_eq!(std::fs::read(&path).expect("read"), b"second, longer");
    write_file_atomic(&path, b"").expect("write");
    assert_eq!(std::fs::read(&path).expect("read"), b"");
    assert_owner_only([&path]);
    // Errors leave nothing behind: a missing directory, a path that is a directory.
    assert!(write_file_atomic(dir.path().join("missing/x.json"), b"x").is_err());
    std::fs::create_dir(dir.path().join("adir")).expect("mkdir");
    assert!(write_file_atomic(dir.path().join("adir"), b"x").is_err());
    assert!(write_file_atomic("/", b"x").is_err());
    let names: BTreeSet<String> = std::fs::read_dir(dir.path())
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["schedules.json".to_string(), "adir".to_string()])
    );
}

// ---- real processes ----------------------------------------------------------------------------

const ADDER_ENV: &str = "TOWER_JWT_AUTH_TEST_ADDER";

/// The child of `three_processes_adding_users_lose_no_update`: adds 15 users named after it.
#[test]
#[ignore = "child process of three_processes_adding_users_lose_no_update"]
fn adder_child() {
    let (Some(path), Ok(name)) = (std::env::var_os(CHILD_ENV), std::env::var(ADDER_ENV)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let store =
            FileUserStore::open_with_hasher(PathBuf::from(path), fast_hasher()).expect("open");
        for i in 0..15 {
            store
                .add_user(&format!("{name}-{i}"), "pw", true)
                .await
                .expect("add");
        }
    });
}

#[test]
fn three_processes_adding_users_lose_no_update() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = ["p1", "p2", "p3"]
        .iter()
        .map(|name| {
            std::process::Command::new(&exe)
                .args([
                    &test_name(module_path!(), "adder_child"),
                    "--exact",
                    "--ignored",
                    "--test-threads=1",
                ])
                .env(CHILD_ENV, &path)
                .env(ADDER_ENV, name)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        let log = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && log.contains("1 passed"),
            "{log}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(ids_of(&path), (1..=45).collect::<Vec<u64>>());
    let names: BTreeSet<String> = read_json(&path)["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("name").to_owned())
        .collect();
    let want: BTreeSet<String> = ["p1", "p2", "p3"]
        .iter()
        .flat_map(|p| (0..15).map(move |i| format!("{p}-{i}")))
        .collect();
    assert_eq!(names, want);
}

/// "secret" under PBKDF2-SHA256 at 2 500 000 iterations, over the default ceiling of 2 000 000
/// (made with Python's `hashlib.pbkdf2_hmac('sha256', b'secret', b'costlysalt', 2500000)`).
const COSTLY: &str =
    "pbkdf2_sha256$2500000$costlysalt$AtsIxYoS/7ty/LbL8hTLdzh8xKMIcnSHJhUyu/vTgCE=";

/// A stored hash over the cost ceiling is refused at import with a message naming the user and
/// the cost (not the hash). Written by a store with a higher ceiling, the file still opens with
/// the default one, and the login is refused as a wrong password, with a warning in the log.
#[tokio::test(flavor = "current_thread")]
async fn hashes_over_the_cost_ceiling_are_refused_at_import_and_at_login() {
    let dump = json!([{"model": "auth.user", "pk": 7,
        "fields": {"username": "eve", "password": COSTLY, "is_active": true}}])
    .to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("users.json");

    let strict = FileUserStore::open_with_hasher(&path, fast_hasher()).expect("open");
    let err = strict
        .import_django(&dump)
        .await
        .expect_err("over the ceiling");
    assert_eq!(
        err.to_string(),
        "invalid input: user 7: password hash over the cost ceiling: pbkdf2_sha256 with 2500000 \
         iterations (the ceiling is 2000000)"
    );
    assert!(strict.list().await.expect("list").is_empty());
    drop(strict);

    let permissive = fast_hasher()
        .with_cost_limits(HashCostLimits {
            pbkdf2_iterations: 3_000_000,
            ..HashCostLimits::default()
        })
        .expect("limits");
    let store = FileUserStore::open_with_hasher(&path, permissive)
        .expect("open")
        .upgrade_on_login(false);
    store
        .import_django(&dump)
        .await
        .expect("within the higher ceiling");
    assert!(
        store
            .authenticate("eve", "secret")
            .await
            .expect("ok")
            .is_some()
    );
    drop(store);

    let reopened = FileUserStore::open_with_hasher(&path, fast_hasher())
        .expect("a costly stored hash does not make the file unloadable");
    let logs = LogCapture::start();
    assert!(
        reopened
            .authenticate("eve", "secret")
            .await
            .expect("ok")
            .is_none()
    );
    let logs = logs.text();
    assert!(
        logs.contains("WARN")
            && logs.contains(
                "a stored password hash is over the cost ceiling (pbkdf2_sha256 with 2500000 \
                 iterations (the ceiling is 2000000))"
            ),
        "{logs}"
    );
    assert!(
        !logs.contains("AtsIxYoS") && !logs.contains("costlysalt"),
        "{logs}"
    );
    // A hasher accepts a ceiling only above its own costs.
    assert!(
        PasswordHasher::new()
            .with_cost_limits(HashCostLimits {
                argon2_memory_kib: 1024,
                ..HashCostLimits::default()
            })
            .is_err()
    );
}
