//! SQL stores on sqlx (the `sqlx` feature), on PostgreSQL or SQLite: [`SqlUserStore`] over
//! Django's own `auth_user` table and [`SqlRevocationStore`] over simplejwt's blacklist tables.
//!
//! Point [`SqlDatabase::connect`] at a Django database and its users log in unchanged; the
//! pbkdf2 → argon2id upgrade at login writes Django's `argon2$argon2id$…` form, which Django's
//! `Argon2PasswordHasher` verifies. [`SqlDatabase::migrate`] creates the tables Django would
//! (`CREATE TABLE IF NOT EXISTS`, so it is a no-op on a Django database) plus two small tables of
//! this crate for rotation families.
//!
//! The example is on [`SqlDatabase`].

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::revocation::check_jti;
use super::users::check_username;
use super::{RevocationStore, Rotation, StoreError, User, UserStore};
use crate::password::PasswordHasher;
use crate::verify::{MAX_LEEWAY_SECS, UserId};

/// How long a query waits for a pooled connection before failing (the token endpoints then
/// answer 503 rather than hanging while the database is unreachable).
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection pool to PostgreSQL or SQLite, shared by the stores made from it. Cheap to clone.
///
/// ```
/// use tower_jwt_auth::store::{RevocationStore, SqlDatabase, UserStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let url = format!("sqlite://{}", dir.path().join("app.sqlite3").display());
/// let db = SqlDatabase::connect(&url).await?;
/// db.migrate().await?;
/// let users = db.users();
/// let ada = users.add_user("ada", "correct horse battery", true).await?;
/// assert_eq!(ada.id.as_str(), "1");
/// assert!(ada.password_hash.starts_with("argon2$argon2id$"), "Django's form");
/// assert!(users.authenticate("ada", "correct horse battery").await?.is_some());
///
/// let revoked = db.revocations();
/// assert!(revoked.revoke_if_absent("a1b2c3", 4_102_444_800).await?);
/// assert!(!revoked.revoke_if_absent("a1b2c3", 4_102_444_800).await?);
/// assert!(revoked.is_revoked("a1b2c3").await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqlDatabase {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

impl fmt::Debug for SqlDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the URL: it may carry a password.
        let driver = match self.pool {
            Pool::Postgres(_) => "postgres",
            Pool::Sqlite(_) => "sqlite",
        };
        f.debug_struct("SqlDatabase")
            .field("driver", &driver)
            .finish_non_exhaustive()
    }
}

/// Maps a sqlx error to a [`StoreError`] without bound values (which may be password hashes).
fn db_error(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict("a unique value already exists".into())
        }
        sqlx::Error::Io(io) => StoreError::Io(io),
        sqlx::Error::PoolTimedOut => StoreError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "database unreachable (no connection within the acquire timeout)",
        )),
        sqlx::Error::PoolClosed => StoreError::Other("database pool closed".into()),
        sqlx::Error::Database(d) => StoreError::Other(format!("database error: {}", d.message())),
        other => StoreError::Other(format!("database error: {other}")),
    }
}

fn is_sqlite_url(url: &str) -> bool {
    url.starts_with("sqlite:")
}

fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl SqlDatabase {
    /// Connects to `url`: `postgres://user:pass@host:port/db` (or `postgresql://`) or
    /// `sqlite://path` (the file is created if missing; WAL journal, 5 s busy timeout).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for another scheme or a malformed URL; [`StoreError::Io`] or
    /// [`StoreError::Other`] if the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let db = Self::connect_lazy(url)?;
        // One round trip, so a wrong URL fails here rather than at the first login.
        db.ping().await?;
        Ok(db)
    }

    /// As [`connect`](Self::connect), but connects at the first query: a service can start
    /// while its database is down (its token endpoints answer 503 until it is up).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for another scheme or a malformed URL.
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        let invalid = |e: sqlx::Error| StoreError::Invalid(format!("database URL: {e}"));
        if is_postgres_url(url) {
            let opts = PgConnectOptions::from_str(url).map_err(invalid)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(opts);
            Ok(Self::from_postgres(pool))
        } else if is_sqlite_url(url) {
            let opts = SqliteConnectOptions::from_str(url)
                .map_err(invalid)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(5));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_lazy_with(opts);
            Ok(Self::from_sqlite(pool))
        } else {
            Err(StoreError::Invalid(
                "database URL must start with postgres://, postgresql:// or sqlite://".into(),
            ))
        }
    }

    /// Uses an existing PostgreSQL pool.
    pub fn from_postgres(pool: PgPool) -> Self {
        Self {
            pool: Pool::Postgres(pool),
        }
    }

    /// Uses an existing SQLite pool. For SQLite revocation transactions the crate issues
    /// `BEGIN IMMEDIATE`, so concurrent rotations wait on the busy timeout instead of failing.
    pub fn from_sqlite(pool: SqlitePool) -> Self {
        Self {
            pool: Pool::Sqlite(pool),
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// One `SELECT 1`.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Postgres(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
            Pool::Sqlite(p) => sqlx::query("SELECT 1").execute(p).await.map(|_| ()),
        }
        .map_err(db_error)
    }

    /// Creates the tables the stores use if they do not exist: Django's `auth_user`, simplejwt's
    /// `token_blacklist_outstandingtoken` and `token_blacklist_blacklistedtoken` (the layout of
    /// Django 5.2 and simplejwt 5.5), and this crate's `tower_jwt_auth_token_family` and
    /// `tower_jwt_auth_revoked_family`. Safe to run on every start and on a Django database.
    ///
    /// # Errors
    /// The database cannot be reached or refuses the DDL.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db_error)?;
                // Two replicas migrating at once would race on the catalog: serialise them.
                sqlx::query("SELECT pg_advisory_xact_lock(7262896)")
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                for stmt in PG_SCHEMA {
                    sqlx::query(stmt)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }
            Pool::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
                for stmt in SQLITE_SCHEMA {
                    sqlx::query(stmt)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_error)?;
                }
                tx.commit().await.map_err(db_error)
            }
        }
    }

    /// A user store over `auth_user` with the default [`PasswordHasher`].
    pub fn users(&self) -> SqlUserStore {
        SqlUserStore::new(self.clone())
    }

    /// A revocation store over simplejwt's blacklist tables.
    pub fn revocations(&self) -> SqlRevocationStore {
        SqlRevocationStore::new(self.clone())
    }
}

const PG_SCHEMA: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "auth_user" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "password" varchar(128) NOT NULL, "last_login" timestamp with time zone NULL, "is_superuser" boolean NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" boolean NOT NULL, "is_active" boolean NOT NULL, "date_joined" timestamp with time zone NOT NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "token_blacklist_outstandingtoken" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "token" text NOT NULL, "created_at" timestamp with time zone NULL, "expires_at" timestamp with time zone NOT NULL, "user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "jti" varchar(255) NOT NULL UNIQUE)"#,
    r#"CREATE INDEX IF NOT EXISTS "token_blacklist_outstandingtoken_user_id_83bc629a" ON "token_blacklist_outstandingtoken" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "token_blacklist_blacklistedtoken" ("id" bigint NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "blacklisted_at" timestamp with time zone NOT NULL, "token_id" bigint NOT NULL UNIQUE REFERENCES "token_blacklist_outstandingtoken" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    FAMILY_TABLE,
    FAMILY_INDEX,
    REVOKED_FAMILY_TABLE,
];

// The Django 5.2 / simplejwt 5.5 SQLite DDL, as `manage.py migrate` leaves it.
const SQLITE_SCHEMA: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "token_blacklist_outstandingtoken" ("token" text NOT NULL, "created_at" datetime NULL, "expires_at" datetime NOT NULL, "user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "jti" varchar(255) NOT NULL UNIQUE, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)"#,
    r#"CREATE INDEX IF NOT EXISTS "token_blacklist_outstandingtoken_user_id_83bc629a" ON "token_blacklist_outstandingtoken" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "token_blacklist_blacklistedtoken" ("blacklisted_at" datetime NOT NULL, "token_id" bigint NOT NULL UNIQUE REFERENCES "token_blacklist_outstandingtoken" ("id") DEFERRABLE INITIALLY DEFERRED, "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT)"#,
    FAMILY_TABLE,
    FAMILY_INDEX,
    REVOKED_FAMILY_TABLE,
];

// Rotation families (not in simplejwt): which family each rotated token belongs to, and which
// families are revoked. `exp` in Unix seconds.
const FAMILY_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "tower_jwt_auth_token_family" ("jti" varchar(255) NOT NULL PRIMARY KEY, "family" varchar(255) NOT NULL, "exp" bigint NOT NULL)"#;
const FAMILY_INDEX: &str = r#"CREATE INDEX IF NOT EXISTS "tower_jwt_auth_token_family_family" ON "tower_jwt_auth_token_family" ("family")"#;
const REVOKED_FAMILY_TABLE: &str = r#"CREATE TABLE IF NOT EXISTS "tower_jwt_auth_revoked_family" ("family" varchar(255) NOT NULL PRIMARY KEY, "exp" bigint NOT NULL)"#;

/// Runs the same statement text on whichever pool or transaction: `$q` is built by `$make`
/// from `sqlx::query`/`query_as`/`query_scalar` and run with `$run`.
macro_rules! on {
    ($pool:expr, |$p:ident| $body:expr) => {
        match $pool {
            Pool::Postgres($p) => $body,
            Pool::Sqlite($p) => $body,
        }
    };
}

/// `(id, username, password, is_active)`.
type Row = (i64, String, String, bool);

const SELECT_USER: &str =
    r#"SELECT CAST("id" AS BIGINT), "username", "password", "is_active" FROM "auth_user""#;

fn to_user((id, username, password_hash, is_active): Row) -> User {
    User {
        id: UserId::from(id.to_string()),
        username,
        is_active,
        password_hash,
        extra_claims: serde_json::Map::new(),
    }
}

/// A Django-stored hash as the hasher reads it for [`PasswordHasher::needs_upgrade`]: Django's
/// `argon2$argon2id$…` is PHC with a prefix.
fn as_phc(hash: &str) -> &str {
    match hash.strip_prefix("argon2") {
        Some(rest) if rest.starts_with("$argon2") => rest,
        _ => hash,
    }
}

/// A fresh PHC argon2id hash in Django's form (`argon2` + PHC), which Django verifies.
fn to_django(phc: String) -> String {
    if phc.starts_with("$argon2") {
        format!("argon2{phc}")
    } else {
        phc
    }
}

fn parse_id(id: &UserId) -> Option<i64> {
    let s = id.as_str();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Users in Django's `auth_user` table (PostgreSQL or SQLite), safe for any number of processes.
///
/// Reads `id`, `username`, `password` (Django's hash format: `pbkdf2_sha256$…`, `argon2$…`, or
/// an unusable `!…`) and `is_active`; new users get Django's defaults for the other columns
/// (not staff, not superuser, empty names and email, `date_joined` now). New hashes are written
/// in Django's `argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash` form; a successful login replaces a
/// hash that [needs an upgrade](PasswordHasher::needs_upgrade), only if it is still the one read
/// (a password changed meanwhile wins). Usernames are case-sensitive, as in Django.
///
/// See the [`SqlDatabase`] docs for an example.
#[derive(Clone)]
pub struct SqlUserStore {
    db: SqlDatabase,
    hasher: PasswordHasher,
    upgrade: bool,
}

impl fmt::Debug for SqlUserStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlUserStore")
            .field("db", &self.db)
            .field("hasher", &self.hasher)
            .field("upgrade_on_login", &self.upgrade)
            .finish()
    }
}

/// One entry of `manage.py dumpdata auth.user`.
#[derive(Deserialize)]
struct DumpEntry {
    pk: i64,
    fields: DumpFields,
}

#[derive(Deserialize)]
struct DumpFields {
    username: String,
    password: String,
    #[serde(default = "yes")]
    is_active: bool,
    #[serde(default)]
    is_staff: bool,
    #[serde(default)]
    is_superuser: bool,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
}

fn yes() -> bool {
    true
}

impl SqlUserStore {
    /// A store on `db` with the default [`PasswordHasher`].
    pub fn new(db: SqlDatabase) -> Self {
        Self::with_hasher(db, PasswordHasher::new())
    }

    /// A store on `db` hashing with `hasher`.
    pub fn with_hasher(db: SqlDatabase, hasher: PasswordHasher) -> Self {
        Self {
            db,
            hasher,
            upgrade: true,
        }
    }

    /// Whether a successful login re-hashes a password whose hash needs an upgrade (on by
    /// default, as in Django).
    #[must_use]
    pub fn upgrade_on_login(mut self, upgrade: bool) -> Self {
        self.upgrade = upgrade;
        self
    }

    /// The store's password hasher.
    pub fn hasher(&self) -> &PasswordHasher {
        &self.hasher
    }

    /// Looks a user up by username (case-sensitive).
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn get_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!(r#"{SELECT_USER} WHERE "username" = $1"#);
        let row: Option<Row> = on!(&self.db.pool, |p| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(p)
            .await)
        .map_err(db_error)?;
        Ok(row.map(to_user))
    }

    /// All users, by id.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn list(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!(r#"{SELECT_USER} ORDER BY "id""#);
        let rows: Vec<Row> =
            on!(&self.db.pool, |p| sqlx::query_as(&sql).fetch_all(p).await).map_err(db_error)?;
        Ok(rows.into_iter().map(to_user).collect())
    }

    /// Adds a user (hashing `password` with argon2id, stored in Django's form); the database
    /// assigns the id.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the username exists; [`StoreError::Invalid`] for an empty
    /// username, one over 150 characters or with control characters, or a password over 4 KiB.
    pub async fn add_user(
        &self,
        username: &str,
        password: &str,
        is_active: bool,
    ) -> Result<User, StoreError> {
        check_username(username)?;
        if self.get_by_username(username).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "username {username:?} already exists"
            )));
        }
        let hash = to_django(self.hasher.hash(password).await?);
        let sql = r#"INSERT INTO "auth_user" ("password", "last_login", "is_superuser", "username", "first_name", "last_name", "email", "is_staff", "is_active", "date_joined") VALUES ($1, NULL, FALSE, $2, '', '', '', FALSE, $3, CURRENT_TIMESTAMP) RETURNING CAST("id" AS BIGINT)"#;
        let id: i64 = on!(&self.db.pool, |p| sqlx::query_scalar(sql)
            .bind(&hash)
            .bind(username)
            .bind(is_active)
            .fetch_one(p)
            .await)
        .map_err(|e| match db_error(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict(format!("username {username:?} already exists"))
            }
            other => other,
        })?;
        Ok(User {
            id: UserId::from(id.to_string()),
            username: username.to_owned(),
            is_active,
            password_hash: hash,
            extra_claims: serde_json::Map::new(),
        })
    }

    async fn update(&self, sql: &str, value: Value<'_>, id: i64) -> Result<bool, StoreError> {
        let done = on!(&self.db.pool, |p| {
            let q = sqlx::query(sql);
            let q = match value {
                Value::Text(t) => q.bind(t),
                Value::Bool(b) => q.bind(b),
            };
            q.bind(id).execute(p).await.map(|r| r.rows_affected())
        })
        .map_err(db_error)?;
        Ok(done > 0)
    }

    /// Sets a user's password (argon2id, Django's form). `Ok(false)` if there is no such user.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a password over 4 KiB; the database cannot be reached.
    pub async fn set_password(&self, id: &UserId, password: &str) -> Result<bool, StoreError> {
        let Some(id) = parse_id(id) else {
            return Ok(false);
        };
        let hash = to_django(self.hasher.hash(password).await?);
        let sql = r#"UPDATE "auth_user" SET "password" = $1 WHERE "id" = $2"#;
        self.update(sql, Value::Text(&hash), id).await
    }

    /// Activates or deactivates a user. `Ok(false)` if there is no such user.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn set_active(&self, id: &UserId, is_active: bool) -> Result<bool, StoreError> {
        let Some(id) = parse_id(id) else {
            return Ok(false);
        };
        let sql = r#"UPDATE "auth_user" SET "is_active" = $1 WHERE "id" = $2"#;
        self.update(sql, Value::Bool(is_active), id).await
    }

    /// Removes a user (its outstanding tokens keep their rows with no user, as Django's
    /// `SET_NULL`). `Ok(false)` if there was no such user.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn remove(&self, id: &UserId) -> Result<bool, StoreError> {
        let Some(id) = parse_id(id) else {
            return Ok(false);
        };
        let detach = r#"UPDATE "token_blacklist_outstandingtoken" SET "user_id" = NULL WHERE "user_id" = $1"#;
        let delete = r#"DELETE FROM "auth_user" WHERE "id" = $1"#;
        let n = on!(&self.db.pool, |p| {
            let mut tx = p.begin().await.map_err(db_error)?;
            sqlx::query(detach)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let n = sqlx::query(delete)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
            tx.commit().await.map_err(db_error)?;
            n
        });
        Ok(n > 0)
    }

    /// Imports the JSON printed by Django's `manage.py dumpdata auth.user` into `auth_user`,
    /// keeping each `pk`, the username, the hash, `is_active`, `is_staff`, `is_superuser`, names
    /// and email. All or nothing (one transaction); on PostgreSQL the id sequence is moved past
    /// the highest pk.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for JSON that is not a dump of users or an unsupported hasher;
    /// [`StoreError::Conflict`] if a pk or username already exists.
    pub async fn import_django(&self, json: &str) -> Result<Vec<User>, StoreError> {
        let entries: Vec<DumpEntry> = serde_json::from_str(json)
            .map_err(|e| StoreError::Invalid(format!("not a dumpdata user list: {e}")))?;
        let mut users = Vec::with_capacity(entries.len());
        for e in &entries {
            if e.pk < 1 {
                return Err(StoreError::Invalid(format!("pk {} is not positive", e.pk)));
            }
            check_username(&e.fields.username)
                .map_err(|err| StoreError::Invalid(format!("user {}: {err}", e.pk)))?;
            let hash = if e.fields.password.is_empty() {
                "!".to_owned()
            } else {
                e.fields.password.clone()
            };
            self.hasher
                .check_stored(&hash)
                .map_err(|err| StoreError::Invalid(format!("user {}: {err}", e.pk)))?;
            users.push(User {
                id: UserId::from(e.pk.to_string()),
                username: e.fields.username.clone(),
                is_active: e.fields.is_active,
                password_hash: hash,
                extra_claims: serde_json::Map::new(),
            });
        }
        let insert = r#"INSERT INTO "auth_user" ("id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email", "is_staff", "is_active", "date_joined") VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, CURRENT_TIMESTAMP)"#;
        let conflict = |e: sqlx::Error| match db_error(e) {
            StoreError::Conflict(_) => {
                StoreError::Conflict("a pk or username of the dump already exists".into())
            }
            other => other,
        };
        macro_rules! import_all {
            ($tx:expr) => {
                for (e, u) in entries.iter().zip(&users) {
                    let f = &e.fields;
                    let pk = i32::try_from(e.pk)
                        .map_err(|_| StoreError::Invalid(format!("pk {} too large", e.pk)))?;
                    sqlx::query(insert)
                        .bind(pk)
                        .bind(&u.password_hash)
                        .bind(f.is_superuser)
                        .bind(&f.username)
                        .bind(&f.first_name)
                        .bind(&f.last_name)
                        .bind(&f.email)
                        .bind(f.is_staff)
                        .bind(f.is_active)
                        .execute(&mut *$tx)
                        .await
                        .map_err(conflict)?;
                }
            };
        }
        match &self.db.pool {
            Pool::Postgres(p) => {
                let mut tx = p.begin().await.map_err(db_error)?;
                import_all!(tx);
                sqlx::query(
                    r#"SELECT setval(pg_get_serial_sequence('"auth_user"', 'id'), GREATEST((SELECT MAX("id") FROM "auth_user"), 1))"#,
                )
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
            }
            Pool::Sqlite(p) => {
                let mut tx = p.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?;
                import_all!(tx);
                tx.commit().await.map_err(db_error)?;
            }
        }
        Ok(users)
    }
}

enum Value<'a> {
    Text(&'a str),
    Bool(bool),
}

impl UserStore for SqlUserStore {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let user = self.get_by_username(username).await?;
        let ok = self
            .hasher
            .verify_or_dummy(password, user.as_ref().map(|u| u.password_hash.as_str()))
            .await?;
        let Some(mut user) = user.filter(|_| ok) else {
            return Ok(None);
        };
        if self.upgrade && self.hasher.needs_upgrade(as_phc(&user.password_hash)) {
            let Some(id) = parse_id(&user.id) else {
                return Ok(Some(user));
            };
            match self.hasher.hash(password).await {
                Ok(phc) => {
                    let new_hash = to_django(phc);
                    let sql = r#"UPDATE "auth_user" SET "password" = $1 WHERE "id" = $2 AND "password" = $3"#;
                    let done = on!(&self.db.pool, |p| sqlx::query(sql)
                        .bind(&new_hash)
                        .bind(id)
                        .bind(&user.password_hash)
                        .execute(p)
                        .await
                        .map(|r| r.rows_affected()));
                    match done {
                        Ok(n) if n > 0 => user.password_hash = new_hash,
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(user_id = %user.id, error = %db_error(e), "password hash upgrade failed")
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(user_id = %user.id, error = %e, "password hash upgrade failed")
                }
            }
        }
        Ok(Some(user))
    }

    async fn get(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let Some(id) = parse_id(id) else {
            return Ok(None);
        };
        let sql = format!(r#"{SELECT_USER} WHERE "id" = $1"#);
        let row: Option<Row> = on!(&self.db.pool, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)
        .map_err(db_error)?;
        Ok(row.map(to_user))
    }
}

/// Revoked tokens in simplejwt's tables (`token_blacklist_outstandingtoken` and
/// `token_blacklist_blacklistedtoken`), shared by every process on the database: the store for
/// several replicas without Redis, and one a Django service on the same database agrees with
/// (a token blacklisted by either is refused by both).
///
/// Each revocation is one transaction: the token's `outstandingtoken` row (inserted if new, with
/// an empty `token` text and no user), then its `blacklistedtoken` row, whose unique `token_id`
/// makes [`revoke_if_absent`](RevocationStore::revoke_if_absent) and
/// [`rotate`](RevocationStore::rotate) atomic across processes: of N concurrent calls exactly one
/// inserts it. Rotation families live in `tower_jwt_auth_token_family` and
/// `tower_jwt_auth_revoked_family`. Expired rows stay until
/// [`flush_expired`](Self::flush_expired) (simplejwt's `flushexpiredtokens`) removes them.
///
/// See the [`SqlDatabase`] docs for an example.
#[derive(Clone, Debug)]
pub struct SqlRevocationStore {
    db: SqlDatabase,
}

/// The SQL of one timestamp from Unix seconds (`$n`), per driver.
fn ts(pg: bool, n: u8) -> String {
    if pg {
        format!("to_timestamp(CAST(${n} AS double precision))")
    } else {
        format!("datetime(${n}, 'unixepoch')")
    }
}

const FAMILY_REVOKED: &str = r#"SELECT EXISTS (SELECT 1 FROM "tower_jwt_auth_token_family" f JOIN "tower_jwt_auth_revoked_family" r ON r."family" = f."family" WHERE f."jti" = $1)"#;
const BLACKLIST: &str = r#"INSERT INTO "token_blacklist_blacklistedtoken" ("blacklisted_at", "token_id") SELECT CURRENT_TIMESTAMP, "id" FROM "token_blacklist_outstandingtoken" WHERE "jti" = $1 ON CONFLICT ("token_id") DO NOTHING"#;

/// A revocation transaction's statements, the same for both drivers once built.
struct Stmts {
    outstanding: String,
}

impl Stmts {
    fn new(pg: bool) -> Self {
        Self {
            outstanding: format!(
                r#"INSERT INTO "token_blacklist_outstandingtoken" ("token", "created_at", "expires_at", "user_id", "jti") VALUES ('', CURRENT_TIMESTAMP, {}, NULL, $1) ON CONFLICT ("jti") DO NOTHING"#,
                ts(pg, 2)
            ),
        }
    }
}

impl SqlRevocationStore {
    /// A store on `db` (run [`SqlDatabase::migrate`] once first).
    pub fn new(db: SqlDatabase) -> Self {
        Self { db }
    }

    /// Deletes rows of tokens expired more than the verifier's largest leeway before `now`
    /// (Unix seconds): simplejwt's `flushexpiredtokens`. Returns how many outstanding tokens
    /// were removed. Run it now and then (daily, say); nothing else prunes.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn flush_expired(&self, now: i64) -> Result<u64, StoreError> {
        let cutoff = now.saturating_sub(MAX_LEEWAY_SECS as i64);
        let pg = self.db.is_postgres();
        let blacklisted = format!(
            r#"DELETE FROM "token_blacklist_blacklistedtoken" WHERE "token_id" IN (SELECT "id" FROM "token_blacklist_outstandingtoken" WHERE "expires_at" < {})"#,
            ts(pg, 1)
        );
        let outstanding = format!(
            r#"DELETE FROM "token_blacklist_outstandingtoken" WHERE "expires_at" < {}"#,
            ts(pg, 1)
        );
        let families = r#"DELETE FROM "tower_jwt_auth_token_family" WHERE "exp" < $1"#;
        let revoked = r#"DELETE FROM "tower_jwt_auth_revoked_family" WHERE "exp" < $1"#;
        let n = on!(&self.db.pool, |p| {
            let mut tx = p.begin().await.map_err(db_error)?;
            sqlx::query(&blacklisted)
                .bind(cutoff)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let n = sqlx::query(&outstanding)
                .bind(cutoff)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected();
            for sql in [families, revoked] {
                sqlx::query(sql)
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
            }
            tx.commit().await.map_err(db_error)?;
            n
        });
        Ok(n)
    }
}

/// Begins a revocation transaction: `BEGIN IMMEDIATE` on SQLite (take the write lock first, so
/// concurrent writers wait on the busy timeout instead of failing to upgrade a read lock).
macro_rules! begin {
    (Postgres, $p:expr) => {
        $p.begin().await.map_err(db_error)?
    };
    (Sqlite, $p:expr) => {
        $p.begin_with("BEGIN IMMEDIATE").await.map_err(db_error)?
    };
}

/// The body of `revoke_if_absent`, for either driver.
macro_rules! revoke_tx {
    ($driver:ident, $p:expr, $st:expr, $jti:expr, $exp:expr) => {{
        let mut tx = begin!($driver, $p);
        sqlx::query(&$st.outstanding)
            .bind($jti)
            .bind($exp)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let fam_revoked: bool = sqlx::query_scalar(FAMILY_REVOKED)
            .bind($jti)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let live = !fam_revoked
            && sqlx::query(BLACKLIST)
                .bind($jti)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected()
                == 1;
        tx.commit().await.map_err(db_error)?;
        live
    }};
}

/// The body of `rotate`, for either driver.
macro_rules! rotate_tx {
    ($driver:ident, $p:expr, $st:expr, $old:expr, $old_exp:expr, $new:expr, $new_exp:expr) => {{
        let mut tx = begin!($driver, $p);
        sqlx::query(&$st.outstanding)
            .bind($old)
            .bind($old_exp)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(r#"INSERT INTO "tower_jwt_auth_token_family" ("jti", "family", "exp") VALUES ($1, $1, $2) ON CONFLICT ("jti") DO NOTHING"#)
            .bind($old)
            .bind($old_exp)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let fam: String =
            sqlx::query_scalar(r#"SELECT "family" FROM "tower_jwt_auth_token_family" WHERE "jti" = $1"#)
                .bind($old)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
        let fam_revoked: bool = sqlx::query_scalar(
            r#"SELECT EXISTS (SELECT 1 FROM "tower_jwt_auth_revoked_family" WHERE "family" = $1)"#,
        )
        .bind(&fam)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let won = !fam_revoked
            && sqlx::query(BLACKLIST)
                .bind($old)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected()
                == 1;
        if won {
            let fresh = sqlx::query(&$st.outstanding)
                .bind($new)
                .bind($new_exp)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected()
                == 1;
            let joined = sqlx::query(r#"INSERT INTO "tower_jwt_auth_token_family" ("jti", "family", "exp") VALUES ($1, $2, $3) ON CONFLICT ("jti") DO NOTHING"#)
                .bind($new)
                .bind(&fam)
                .bind($new_exp)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?
                .rows_affected()
                == 1;
            if !(fresh && joined) {
                // Dropping the transaction rolls it back: the old token stays live.
                return Err(StoreError::Conflict("the new jti is already known".into()));
            }
            tx.commit().await.map_err(db_error)?;
            Rotation::Rotated
        } else {
            let latest: Option<i64> = sqlx::query_scalar(
                r#"SELECT MAX("exp") FROM "tower_jwt_auth_token_family" WHERE "family" = $1"#,
            )
            .bind(&fam)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
            let exp = latest.unwrap_or($old_exp).max($old_exp);
            sqlx::query(r#"INSERT INTO "tower_jwt_auth_revoked_family" ("family", "exp") VALUES ($1, $2) ON CONFLICT ("family") DO UPDATE SET "exp" = excluded."exp" WHERE "tower_jwt_auth_revoked_family"."exp" < excluded."exp""#)
                .bind(&fam)
                .bind(exp)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            tx.commit().await.map_err(db_error)?;
            Rotation::Reused
        }
    }};
}

impl RevocationStore for SqlRevocationStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        check_jti(jti)?;
        let sql = r#"SELECT EXISTS (SELECT 1 FROM "token_blacklist_blacklistedtoken" b JOIN "token_blacklist_outstandingtoken" o ON o."id" = b."token_id" WHERE o."jti" = $1) OR EXISTS (SELECT 1 FROM "tower_jwt_auth_token_family" f JOIN "tower_jwt_auth_revoked_family" r ON r."family" = f."family" WHERE f."jti" = $1)"#;
        on!(&self.db.pool, |p| sqlx::query_scalar(sql)
            .bind(jti)
            .fetch_one(p)
            .await)
        .map_err(db_error)
    }

    async fn revoke_if_absent(&self, jti: &str, exp: i64) -> Result<bool, StoreError> {
        check_jti(jti)?;
        let st = Stmts::new(self.db.is_postgres());
        Ok(match &self.db.pool {
            Pool::Postgres(p) => revoke_tx!(Postgres, p, st, jti, exp),
            Pool::Sqlite(p) => revoke_tx!(Sqlite, p, st, jti, exp),
        })
    }

    async fn rotate(
        &self,
        old_jti: &str,
        old_exp: i64,
        new_jti: &str,
        new_exp: i64,
    ) -> Result<Rotation, StoreError> {
        check_jti(old_jti)?;
        check_jti(new_jti)?;
        if old_jti == new_jti {
            return Err(StoreError::Invalid(
                "the new jti must differ from the old one".into(),
            ));
        }
        let st = Stmts::new(self.db.is_postgres());
        Ok(match &self.db.pool {
            Pool::Postgres(p) => rotate_tx!(Postgres, p, st, old_jti, old_exp, new_jti, new_exp),
            Pool::Sqlite(p) => rotate_tx!(Sqlite, p, st, old_jti, old_exp, new_jti, new_exp),
        })
    }
}
