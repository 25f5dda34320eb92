//! The SQL stores (the `sqlx` feature) on real PostgreSQL and SQLite: Django's `auth_user` and
//! simplejwt's blacklist tables read and written as Django does (checked with real Django on a
//! database it migrated), atomic revocation and rotation across pools, and the token endpoints
//! on them, including a 503 when the database is unreachable.

use std::path::Path;
use std::process::Command;

use tower_jwt_auth::UserId;
use tower_jwt_auth::store::{
    RevocationStore, Rotation, SqlDatabase, SqlUserStore, StoreError, UserStore,
};
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};

use crate::pg_server::fresh_db;
use crate::support::*;

const EXP: i64 = 4_102_444_800;

async fn sqlite_db(dir: &Path) -> SqlDatabase {
    let url = format!("sqlite://{}", dir.join("db.sqlite3").display());
    let db = SqlDatabase::connect(&url).await.expect("connect sqlite");
    db.migrate().await.expect("migrate");
    db
}

async fn pg_db() -> SqlDatabase {
    let db = SqlDatabase::connect(&fresh_db().await)
        .await
        .expect("connect postgres");
    db.migrate().await.expect("migrate");
    db
}

fn id(s: &str) -> UserId {
    UserId::from(s)
}

macro_rules! sql_suite {
    ($modname:ident, $make:expr) => {
        mod $modname {
            use super::*;

            #[tokio::test]
            async fn migrate_is_idempotent_and_users_get_sequential_ids() {
                let (db, _dir) = $make;
                db.migrate().await.expect("second migrate");
                let users = SqlUserStore::with_hasher(db.clone(), fast_hasher());
                let a = users.add_user("ann", "pw-ann", true).await.expect("add");
                let b = users.add_user("bob", "pw-bob", false).await.expect("add");
                assert_eq!((a.id.as_str(), b.id.as_str()), ("1", "2"));
                assert!(
                    a.password_hash
                        .starts_with(&format!("argon2{FAST_PREFIX}")),
                    "{}",
                    a.password_hash
                );
                assert!(matches!(
                    users.add_user("ann", "x", true).await,
                    Err(StoreError::Conflict(_))
                ));
                assert!(matches!(
                    users.add_user("", "x", true).await,
                    Err(StoreError::Invalid(_))
                ));
                let got = users.authenticate("ann", "pw-ann").await.expect("ok");
                assert_eq!(got.map(|u| u.id), Some(id("1")));
                assert!(users.authenticate("ann", "wrong").await.expect("ok").is_none());
                assert!(users.authenticate("Ann", "pw-ann").await.expect("ok").is_none());
                assert!(users.authenticate("nobody", "pw").await.expect("ok").is_none());
                let inactive = users.authenticate("bob", "pw-bob").await.expect("ok");
                assert_eq!(inactive.map(|u| u.is_active), Some(false));
                assert_eq!(users.get(&id("2")).await.expect("ok").map(|u| u.username), Some("bob".into()));
                assert!(users.get(&id("99")).await.expect("ok").is_none());
                assert!(users.get(&id("not-a-number")).await.expect("ok").is_none());

                assert!(users.set_active(&id("2"), true).await.expect("ok"));
                assert!(users.set_password(&id("2"), "new-pw").await.expect("ok"));
                assert!(users.authenticate("bob", "pw-bob").await.expect("ok").is_none());
                let bob = users.authenticate("bob", "new-pw").await.expect("ok").expect("bob");
                assert!(bob.is_active);
                assert!(!users.set_active(&id("7"), true).await.expect("ok"));
                assert!(users.remove(&id("1")).await.expect("ok"));
                assert!(!users.remove(&id("1")).await.expect("ok"));
                let names: Vec<String> =
                    users.list().await.expect("ok").into_iter().map(|u| u.username).collect();
                assert_eq!(names, ["bob"]);
                // Django never reuses an id either.
                let c = users.add_user("cat", "pw", true).await.expect("add");
                assert_eq!(c.id.as_str(), "3");
            }

            #[tokio::test]
            async fn a_django_dump_imports_whole_upgrades_at_login_and_ids_continue() {
                let (db, _dir) = $make;
                let users = SqlUserStore::with_hasher(db.clone(), fast_hasher());
                let dump = fixture_str("django_auth_user_dump.json");
                let imported = users.import_django(&dump).await.expect("import");
                assert_eq!(imported.len(), 4);
                // Again: every pk conflicts, nothing changes.
                assert!(matches!(
                    users.import_django(&dump).await,
                    Err(StoreError::Conflict(_))
                ));
                assert_eq!(users.list().await.expect("ok").len(), 4);
                let bad = r#"[{"model":"auth.user","pk":40,"fields":{"username":"x","password":"bcrypt$2b$12$abc"}}]"#;
                assert!(matches!(users.import_django(bad).await, Err(StoreError::Invalid(_))));
                assert!(matches!(users.import_django("{").await, Err(StoreError::Invalid(_))));

                let before = users.get(&id("1")).await.expect("ok").expect("alice");
                assert!(before.password_hash.starts_with("pbkdf2_sha256$1000000$"));
                let alice = users
                    .authenticate("alice", "alice-password-1")
                    .await
                    .expect("ok")
                    .expect("alice logs in with her Django password");
                assert_eq!(alice.id.as_str(), "1");
                let after = users.get(&id("1")).await.expect("ok").expect("alice");
                assert!(
                    after.password_hash.starts_with(&format!("argon2{FAST_PREFIX}")),
                    "{}",
                    after.password_hash
                );
                assert_eq!(alice.password_hash, after.password_hash);
                // The upgraded hash keeps working and is not rewritten again.
                users.authenticate("alice", "alice-password-1").await.expect("ok").expect("alice");
                let again = users.get(&id("1")).await.expect("ok").expect("alice");
                assert_eq!(again.password_hash, after.password_hash);
                assert!(users.authenticate("carol", "").await.expect("ok").is_none());
                let eve = users.authenticate("eve", "eve-password-5").await.expect("ok");
                assert_eq!(eve.map(|u| u.id), Some(id("5")));
                let bob = users.authenticate("bob", "bob-password-2").await.expect("ok");
                assert_eq!(bob.map(|u| u.is_active), Some(false));
                let next = users.add_user("newcomer", "pw", true).await.expect("add");
                assert_eq!(next.id.as_str(), "6", "after the highest pk");
            }

            #[tokio::test]
            async fn revocation_is_atomic_with_families() {
                let (db, _dir) = $make;
                let store = db.revocations();
                assert!(!store.is_revoked("a").await.expect("ok"));
                assert!(store.revoke_if_absent("a", EXP).await.expect("ok"));
                assert!(!store.revoke_if_absent("a", EXP).await.expect("ok"));
                assert!(store.is_revoked("a").await.expect("ok"));

                assert_eq!(store.rotate("r1", EXP, "r2", EXP).await.expect("ok"), Rotation::Rotated);
                assert_eq!(store.rotate("r2", EXP, "r3", EXP + 5).await.expect("ok"), Rotation::Rotated);
                assert!(store.is_revoked("r1").await.expect("ok"));
                assert!(store.is_revoked("r2").await.expect("ok"));
                assert!(!store.is_revoked("r3").await.expect("ok"));
                assert_eq!(store.rotate("s1", EXP, "s2", EXP).await.expect("ok"), Rotation::Rotated);
                // r1 replayed: its whole family, the live r3 too, is revoked; s is untouched.
                assert_eq!(store.rotate("r1", EXP, "r4", EXP).await.expect("ok"), Rotation::Reused);
                assert!(store.is_revoked("r3").await.expect("ok"));
                assert!(!store.is_revoked("r4").await.expect("ok"), "never issued");
                assert!(!store.revoke_if_absent("r3", EXP).await.expect("ok"));
                assert_eq!(store.rotate("r3", EXP, "r5", EXP).await.expect("ok"), Rotation::Reused);
                assert!(!store.is_revoked("s2").await.expect("ok"));
                // A blacklisted (logged out) token presented for rotation is a reuse too.
                assert!(store.revoke_if_absent("s2", EXP).await.expect("ok"));
                assert_eq!(store.rotate("s2", EXP, "s3", EXP).await.expect("ok"), Rotation::Reused);
                // A new jti already known is refused, and the old token stays live.
                assert!(matches!(
                    store.rotate("t1", EXP, "a", EXP).await,
                    Err(StoreError::Conflict(_))
                ));
                assert!(!store.is_revoked("t1").await.expect("ok"));
                assert!(matches!(store.rotate("t1", EXP, "t1", EXP).await, Err(StoreError::Invalid(_))));
                assert!(matches!(store.revoke_if_absent("", EXP).await, Err(StoreError::Invalid(_))));
                let long = "x".repeat(256);
                assert!(matches!(store.is_revoked(&long).await, Err(StoreError::Invalid(_))));
            }

            #[tokio::test]
            async fn of_64_concurrent_rotations_over_two_pools_exactly_one_wins() {
                let (db, _dir) = $make;
                // Two pools on one database: two replicas.
                let stores = [db.revocations(), db.revocations()];
                let mut tasks = Vec::new();
                for i in 0..64 {
                    let s = stores[i % 2].clone();
                    tasks.push(tokio::spawn(async move {
                        s.rotate("root", EXP, &format!("child-{i}"), EXP).await
                    }));
                }
                let mut rotated = Vec::new();
                for (i, t) in tasks.into_iter().enumerate() {
                    if t.await.expect("join").expect("rotate") == Rotation::Rotated {
                        rotated.push(i);
                    }
                }
                assert_eq!(rotated.len(), 1, "{rotated:?}");
                // The losers were reuses: the family, the winner's child included, is revoked.
                let winner = format!("child-{}", rotated[0]);
                assert!(stores[1].is_revoked(&winner).await.expect("ok"));
                let mut tasks = Vec::new();
                for i in 0..32 {
                    let s = stores[i % 2].clone();
                    tasks.push(tokio::spawn(async move { s.revoke_if_absent("solo", EXP).await }));
                }
                let mut live = 0;
                for t in tasks {
                    live += usize::from(t.await.expect("join").expect("revoke"));
                }
                assert_eq!(live, 1);
            }

            #[tokio::test]
            async fn token_endpoints_log_in_rotate_and_refuse_reuse_on_it() {
                let (db, _dir) = $make;
                let users = SqlUserStore::with_hasher(db.clone(), fast_hasher());
                users.add_user("alice", "wonderland-42", true).await.expect("add");
                let settings = TokenSettings::rotating();
                let ep = TokenEndpoints::new(
                    Issuer::new(ref_keys()).expect("issuer"),
                    users,
                    db.revocations(),
                    settings,
                )
                .expect("endpoints");
                let res = send(ep.obtain(), json(ALICE_LOGIN)).await;
                assert_eq!(res.status, 200, "{res:?}");
                let refresh = res.json()["refresh"].as_str().expect("refresh").to_owned();
                let res = send(ep.refresh(), refresh_req(&refresh)).await;
                assert_eq!(res.status, 200, "{res:?}");
                let newer = res.json()["refresh"].as_str().expect("refresh").to_owned();
                let res = send(ep.refresh(), refresh_req(&refresh)).await;
                assert_eq!(res.status, 401, "{res:?}");
                assert_eq!(res.json()["code"], "token_not_valid");
                // Reuse revoked the family: the newer token is dead too.
                let res = send(ep.refresh(), refresh_req(&newer)).await;
                assert_eq!(res.status, 401, "{res:?}");
                let res = send(ep.blacklist(), refresh_req(&newer)).await;
                assert_eq!(res.status, 401, "{res:?}");
            }
        }
    };
}

sql_suite!(sqlite, {
    let dir = tempfile::tempdir().expect("dir");
    let db = sqlite_db(dir.path()).await;
    (db, Some(dir))
});

sql_suite!(postgres, { (pg_db().await, None::<tempfile::TempDir>) });

#[tokio::test]
async fn an_unreachable_database_makes_the_token_endpoints_answer_503() {
    // A port nobody listens on; the pool connects lazily, at the first query.
    let port = crate::servers::free_port();
    let db = SqlDatabase::connect_lazy(&format!("postgres://postgres@127.0.0.1:{port}/none"))
        .expect("a valid URL");
    assert!(matches!(
        SqlDatabase::connect(&format!("postgres://postgres@127.0.0.1:{port}/none")).await,
        Err(StoreError::Io(_) | StoreError::Other(_))
    ));
    assert!(matches!(
        SqlDatabase::connect_lazy("mysql://x"),
        Err(StoreError::Invalid(_))
    ));
    let users = SqlUserStore::with_hasher(db.clone(), fast_hasher());
    let ep = TokenEndpoints::new(
        Issuer::new(ref_keys()).expect("issuer"),
        users,
        db.revocations(),
        TokenSettings::default(),
    )
    .expect("endpoints");
    let started = std::time::Instant::now();
    let res = send(ep.obtain(), json(ALICE_LOGIN)).await;
    assert_eq!(res.status, 503, "{res:?}");
    assert_eq!(res.header_opt("content-type"), Some("application/json"));
    assert!(res.json()["detail"].is_string(), "{res:?}");
    assert!(!res.body.contains("postgres://"), "{res:?}");
    let refresh = mint_raw(&format!(
        r#"{{"token_type":"refresh","exp":{EXP},"iat":{T_IAT},"jti":"0123456789abcdef0123456789abcdef","user_id":"1"}}"#
    ));
    let res = send(ep.refresh(), refresh_req(&refresh)).await;
    assert_eq!(res.status, 503, "{res:?}");
    let res = send(ep.blacklist(), refresh_req(&refresh)).await;
    assert_eq!(res.status, 503, "{res:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

/// The scenario a Django team meets: a database Django itself migrated and wrote users and
/// blacklist rows into. Our stores read it, write it, and Django reads what we wrote.
#[tokio::test]
async fn real_django_and_the_sql_stores_share_one_sqlite_database() {
    let dir = tempfile::tempdir().expect("dir");
    let db_path = dir.path().join("django.sqlite3");
    std::fs::write(
        dir.path().join("settings.py"),
        format!(
            "SECRET_KEY = 'test-only'\nUSE_TZ = True\n\
             INSTALLED_APPS = ['django.contrib.contenttypes', 'django.contrib.auth', \
             'rest_framework_simplejwt.token_blacklist']\n\
             DATABASES = {{'default': {{'ENGINE': 'django.db.backends.sqlite3', 'NAME': {:?}}}}}\n\
             PASSWORD_HASHERS = ['django.contrib.auth.hashers.PBKDF2PasswordHasher', \
             'django.contrib.auth.hashers.Argon2PasswordHasher']\n",
            db_path.display().to_string()
        ),
    )
    .expect("settings");
    let django = |code: &str| -> String {
        let out = Command::new("python3")
            .args(["-c", &format!("import django; django.setup()\n{code}")])
            .env("DJANGO_SETTINGS_MODULE", "settings")
            .env("PYTHONPATH", dir.path())
            .output()
            .expect("python3 (run .ci/install-deps)");
        assert!(
            out.status.success(),
            "django: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    django("from django.core.management import call_command; call_command('migrate', verbosity=0)");
    django(
        "from django.contrib.auth.models import User\n\
         User.objects.create_user('grace', password='hopper-1906')\n\
         from rest_framework_simplejwt.token_blacklist.models import OutstandingToken, BlacklistedToken\n\
         from django.utils import timezone; import datetime\n\
         t = OutstandingToken.objects.create(jti='django-revoked', token='x', expires_at=timezone.now() + datetime.timedelta(days=1))\n\
         BlacklistedToken.objects.create(token=t)",
    );

    let url = format!("sqlite://{}", db_path.display());
    let db = SqlDatabase::connect(&url).await.expect("connect");
    db.migrate()
        .await
        .expect("migrate: a no-op on Django's tables");
    let users = SqlUserStore::with_hasher(db.clone(), fast_hasher());
    let grace = users
        .authenticate("grace", "hopper-1906")
        .await
        .expect("ok")
        .expect("grace logs in with the password Django hashed");
    assert_eq!(grace.id.as_str(), "1");
    assert!(grace.password_hash.starts_with("argon2$argon2id$v=19$"));
    let bob = users
        .add_user("bob", "builder-99", true)
        .await
        .expect("add");

    let revocations = db.revocations();
    assert!(revocations.is_revoked("django-revoked").await.expect("ok"));
    assert!(
        !revocations
            .revoke_if_absent("django-revoked", EXP)
            .await
            .expect("ok")
    );
    assert!(
        revocations
            .revoke_if_absent("ours-revoked", EXP)
            .await
            .expect("ok")
    );
    assert_eq!(
        revocations
            .rotate("fam-1", EXP, "fam-2", EXP)
            .await
            .expect("ok"),
        Rotation::Rotated
    );

    let answer = django(&format!(
        "from django.contrib.auth.models import User\n\
         from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken\n\
         g = User.objects.get(username='grace'); b = User.objects.get(pk={})\n\
         print(g.password.startswith('argon2$argon2id$'), g.check_password('hopper-1906'), \
         g.check_password('wrong'), b.username, b.check_password('builder-99'), b.is_staff, \
         b.date_joined is not None, \
         sorted(BlacklistedToken.objects.values_list('token__jti', flat=True)))",
        bob.id
    ));
    assert_eq!(
        answer,
        "True True False bob True False True ['django-revoked', 'fam-1', 'ours-revoked']"
    );
}
