//! Command line: `serve` (the default) and `users add|list|import-django`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use tower_jwt_auth::store::{
    FileRevocationStore, FileUserStore, MemoryRevocationStore, MemoryUserStore, RevocationStore,
    StoreError, UserStore,
};
use tower_jwt_auth::token::{
    ClientAddrSource, Issuer, LoginThrottle, TokenEndpoints, TokenSettings,
};
use tower_jwt_auth::{Algorithm, Key, Keys, Verifier};

use crate::replicas::{self, UserAdmin};
use crate::routes::{AppState, DEFAULT_BODY_LIMIT, DEFAULT_REQUEST_TIMEOUT, app};
use crate::storage::{self, ScheduleStore, SecretSource};

/// The weekly-schedule server (simplejwt-compatible token endpoints + a protected schedule API).
#[derive(Debug, Parser)]
#[command(
    name = "schedule_server",
    version,
    args_conflicts_with_subcommands = true
)]
pub(crate) struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Manage the users of a data directory.
    #[command(subcommand)]
    Users(UsersCommand),
}

/// `serve` flags; simplejwt's settings keep simplejwt's defaults.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:8000")]
    pub(crate) addr: SocketAddr,
    /// Keep users, schedules, revoked tokens and the signing secret in this directory (JSON
    /// files). Without it (and without --database-url) everything is in memory and a demo user is
    /// created. With --database-url only the schedules and the signing secret are kept here.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Keep users in this database: `postgres://USER:PASS@HOST/DB` or `sqlite://FILE`
    /// (Django's `auth_user` table, created if missing), and, without --redis-url, revoked
    /// refresh tokens too (simplejwt's blacklist tables). With --redis-url every revocation
    /// (logouts, rotations, sessions) is kept in Redis only. Shared by every replica. Also read
    /// from SCHEDULE_DATABASE_URL (keeps a password out of `ps`). Needs the `sqlx` feature.
    #[arg(
        long,
        value_name = "URL",
        env = "SCHEDULE_DATABASE_URL",
        hide_env_values = true
    )]
    pub(crate) database_url: Option<String>,
    /// Keep revocations and the login throttle in Redis (`redis://[:PASS@]HOST:PORT/DB`), and
    /// check every request's session against a local copy of the revocations kept current by
    /// pub/sub: a logout on one replica is refused by all within milliseconds. Fails closed:
    /// while Redis is unreachable, token endpoints answer 503 and protected routes 401. Needs
    /// the `redis` feature (and usually --database-url, for the users). Also read from
    /// SCHEDULE_REDIS_URL (keeps a password out of `ps`).
    #[arg(
        long,
        value_name = "URL",
        env = "SCHEDULE_REDIS_URL",
        hide_env_values = true
    )]
    pub(crate) redis_url: Option<String>,
    /// Access token lifetime in seconds (simplejwt's ACCESS_TOKEN_LIFETIME).
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=315_360_000))]
    pub(crate) access_lifetime: u64,
    /// Refresh token lifetime in seconds (simplejwt's REFRESH_TOKEN_LIFETIME).
    #[arg(long, value_name = "SECONDS", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=315_360_000))]
    pub(crate) refresh_lifetime: u64,
    /// A refresh returns a new refresh token too (ROTATE_REFRESH_TOKENS).
    #[arg(long)]
    pub(crate) rotate_refresh_tokens: bool,
    /// Revoke the old refresh token when rotating (BLACKLIST_AFTER_ROTATION).
    #[arg(long)]
    pub(crate) blacklist_after_rotation: bool,
    /// With rotation and blacklisting, a reused (already rotated) refresh token normally revokes
    /// every token descended from the same login (RFC 9700 §4.14). This flag keeps simplejwt's
    /// behaviour instead: only the reused token is refused. Not recommended.
    #[arg(long)]
    pub(crate) no_revoke_family_on_reuse: bool,
    /// Sign with an asymmetric key instead of the HS256 secret, and publish its public key at
    /// `/.well-known/jwks.json` with a discovery document, so other services verify the tokens.
    #[arg(long, value_name = "ALG", value_parser = ["RS256", "ES256", "EdDSA"], requires = "signing_key")]
    pub(crate) algorithm: Option<String>,
    /// The private key (PEM) that signs with `--algorithm`; its RFC 7638 thumbprint is its kid.
    #[arg(long, value_name = "FILE", requires = "algorithm")]
    pub(crate) signing_key: Option<PathBuf>,
    /// A previous key (PEM, public or private) of `--algorithm`, kept for verification and
    /// published until its tokens expire (key rotation). Repeatable.
    #[arg(long, value_name = "FILE", requires = "algorithm")]
    pub(crate) verify_key: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a user; the password is read from stdin (prompted for on a terminal).
    Add {
        /// The username.
        name: String,
        /// Create the user inactive (it cannot log in).
        #[arg(long)]
        inactive: bool,
        #[command(flatten)]
        target: UsersTarget,
    },
    /// List users: id, username, active.
    List {
        #[command(flatten)]
        target: UsersTarget,
    },
    /// Import users from Django's `manage.py dumpdata auth.user` JSON, keeping their ids,
    /// active flags and password hashes.
    ImportDjango {
        /// The dumpdata file.
        file: PathBuf,
        #[command(flatten)]
        target: UsersTarget,
    },
}

/// Where the `users` subcommands find the users: one of the two, else SCHEDULE_DATABASE_URL.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
struct UsersTarget {
    /// The data directory.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The database (`postgres://…` or `sqlite://FILE`; needs the `sqlx` feature). Without
    /// this flag and --data-dir, SCHEDULE_DATABASE_URL is used (keeps a password out of `ps`).
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,
}

impl UsersTarget {
    /// `--database-url`, else SCHEDULE_DATABASE_URL when `--data-dir` is not given either.
    fn database_url(&self) -> Option<String> {
        if self.data_dir.is_some() {
            return None;
        }
        self.database_url.clone().or_else(|| {
            std::env::var("SCHEDULE_DATABASE_URL")
                .ok()
                .filter(|u| !u.is_empty())
        })
    }
}

/// Parses the command line and runs it.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(args)) => serve(args),
        Some(Command::Users(cmd)) => users(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Logs to stderr, `RUST_LOG` (default `info`). The HTTP stack's own crates are capped at `info`
/// whatever `RUST_LOG` says: their debug and trace output describes connections and frames, which
/// is noise here, and a log that may never carry a token is easier to keep that way if only this
/// crate and this example describe requests.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for capped in [
        "hyper=info",
        "hyper_util=info",
        "h2=info",
        "axum=info",
        "tower_http=info",
    ] {
        if let Ok(directive) = capped.parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn serve(args: ServeArgs) -> Result<(), BoxError> {
    replicas::check_features(args.database_url.as_deref(), args.redis_url.as_deref())?;
    runtime()?.block_on(async move {
        #[cfg(feature = "sqlx")]
        if let Some(url) = args.database_url.clone() {
            return serve_database(args, &url).await;
        }
        match args.data_dir.clone() {
            Some(dir) => {
                // Open (and validate) everything before creating anything: a corrupt file stops
                // the server instead of being replaced.
                ensure_dir(&dir)?;
                let schedules = ScheduleStore::open(&storage::schedules_path(&dir))?;
                let users = open_users(&dir)?;
                let keys = match asymmetric_keys(&args)? {
                    Some(keys) => keys,
                    None => signing_keys(Some(&dir))?,
                };
                let count = users.list().await?.len();
                let mut intro = format!("data directory: {} ({count} users)\n", dir.display());
                if count == 0 {
                    intro += &format!(
                        "add one with: schedule_server users add NAME --data-dir {}\n",
                        dir.display()
                    );
                }
                let revocations = || open_revocations(&dir);
                let intro = Intro::Text(intro);
                with_revocations(args, keys, users, revocations, schedules, intro).await
            }
            None => {
                let keys = match asymmetric_keys(&args)? {
                    Some(keys) => keys,
                    None => signing_keys(None)?,
                };
                let (users, demo) = demo_users().await?;
                let schedules = ScheduleStore::memory();
                let intro = Intro::Demo(demo);
                let revocations = || Ok(MemoryRevocationStore::new());
                with_revocations(args, keys, users, revocations, schedules, intro).await
            }
        }
    })
}

/// `serve --database-url URL`: users in the database, and revocations too without
/// `--redis-url` (with it, in Redis only: `with_revocations`); schedules and the signing
/// secret in `--data-dir` if given, else in memory (and `JWT_SECRET`).
#[cfg(feature = "sqlx")]
async fn serve_database(args: ServeArgs, url: &str) -> Result<(), BoxError> {
    let schedules = match &args.data_dir {
        Some(dir) => {
            ensure_dir(dir)?;
            ScheduleStore::open(&storage::schedules_path(dir))?
        }
        None => ScheduleStore::memory(),
    };
    let db = replicas::open_database(url).await?;
    let users = db.users();
    let keys = match asymmetric_keys(&args)? {
        Some(keys) => keys,
        None => signing_keys(args.data_dir.as_deref())?,
    };
    let count = users.list().await?.len();
    let shown = replicas::mask_url(url);
    let mut intro = format!("database: {shown} ({count} users)\n");
    if count == 0 {
        intro += &format!("add one with: schedule_server users add NAME --database-url {shown}\n");
    }
    let revocations = || Ok(db.revocations());
    with_revocations(
        args,
        keys,
        users,
        revocations,
        schedules,
        Intro::Text(intro),
    )
    .await
}

/// Serves with Redis's revocations, throttle and session check if `--redis-url` was given, else
/// with the revocation store `fallback` makes.
async fn with_revocations<U: UserStore, R: RevocationStore>(
    args: ServeArgs,
    keys: Keys,
    users: U,
    fallback: impl FnOnce() -> Result<R, BoxError>,
    schedules: ScheduleStore,
    intro: Intro,
) -> Result<(), BoxError> {
    #[cfg(feature = "redis")]
    if let Some(url) = args.redis_url.clone() {
        let redis =
            replicas::open_redis(&url, tower_jwt_auth::token::ThrottleSettings::default()).await?;
        let shared = Shared {
            throttle: Some(redis.throttle),
            sessions: Some(std::sync::Arc::new(redis.set)),
            note: format!(
                "redis: {} (revocations, login throttle, sessions)\n",
                replicas::mask_url(&url)
            ),
        };
        return run(
            args,
            keys,
            users,
            redis.revocations,
            schedules,
            intro,
            shared,
        )
        .await;
    }
    run(
        args,
        keys,
        users,
        fallback()?,
        schedules,
        intro,
        Shared::none(),
    )
    .await
}

/// The stores shared with other replicas beyond users and revocations (`--redis-url`).
struct Shared<T> {
    /// The login throttle, instead of the in-memory one.
    throttle: Option<T>,
    /// The session check of the protected route; logouts end sessions.
    sessions: Option<std::sync::Arc<dyn tower_jwt_auth::RevocationCheck>>,
    /// A line for the banner.
    note: String,
}

impl Shared<tower_jwt_auth::token::MemoryLoginThrottle> {
    fn none() -> Self {
        Self {
            throttle: None,
            sessions: None,
            note: String::new(),
        }
    }
}

/// `--algorithm` with `--signing-key` (and `--verify-key`s): the signing key first, each with
/// its RFC 7638 thumbprint as kid; `None` without `--algorithm`.
fn asymmetric_keys(args: &ServeArgs) -> Result<Option<Keys>, BoxError> {
    let (Some(alg), Some(signing)) = (&args.algorithm, &args.signing_key) else {
        return Ok(None);
    };
    let alg: Algorithm = alg
        .parse()
        .map_err(|_| format!("unknown algorithm {alg}"))?;
    let load = |path: &Path, private: bool| -> Result<Key, BoxError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let key = if private || pem.contains("PRIVATE KEY") {
            Key::from_private_pem(alg, &pem)
        } else {
            match alg {
                Algorithm::EdDSA => Key::ed_pem(&pem),
                Algorithm::ES256 => Key::ec_pem(alg, &pem),
                _ => Key::rsa_pem(alg, &pem),
            }
        }
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let kid = key.thumbprint().ok_or("not an asymmetric key")?;
        Ok(key.with_kid(kid))
    };
    let mut keys = vec![load(signing, true)?];
    for path in &args.verify_key {
        keys.push(load(path, false)?);
    }
    tracing::info!(
        algorithm = ?alg,
        kid = keys[0].kid(),
        verify_only = keys.len() - 1,
        "signing key: asymmetric, published at /.well-known/jwks.json"
    );
    Ok(Some(Keys::from_keys(keys)?))
}

/// The HS256 keys: `JWT_SECRET`, else `DIR/jwt_secret` (created once), else random (with a
/// warning). The secret itself is never logged.
fn signing_keys(data_dir: Option<&Path>) -> Result<Keys, BoxError> {
    let (secret, source) = storage::signing_secret(std::env::var_os("JWT_SECRET"), data_dir)?;
    match source {
        SecretSource::Env => tracing::info!("signing secret: from JWT_SECRET"),
        SecretSource::File => tracing::info!("signing secret: read from the data directory"),
        SecretSource::Created => {
            tracing::info!("signing secret: generated into the data directory (mode 0600)");
        }
        SecretSource::Ephemeral => tracing::warn!(
            "signing secret: generated at random for this run; tokens will not survive a \
             restart (use --data-dir DIR or JWT_SECRET to keep them valid)"
        ),
    }
    Keys::hs256(&secret.0)
        .map_err(|e| format!("unusable signing secret (HS256 needs at least 32 bytes): {e}").into())
}

/// What the banner says after the address.
enum Intro {
    /// The demo credentials and curl lines of an in-memory run.
    Demo(Demo),
    /// Free text (the data directory).
    Text(String),
}

/// The demo account of an in-memory run.
struct Demo {
    username: &'static str,
    password: String,
}

/// Builds the app over the given stores and serves it until SIGINT/SIGTERM.
async fn run<U: UserStore, R: RevocationStore, T: LoginThrottle>(
    args: ServeArgs,
    keys: Keys,
    users: U,
    revocations: R,
    schedules: ScheduleStore,
    intro: Intro,
    shared: Shared<T>,
) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.addr))?;
    let addr = listener.local_addr()?;
    // An asymmetric key is published: tokens name this server as their issuer.
    let published = args.algorithm.is_some();
    let base = format!("http://{addr}");
    let mut issuer = Issuer::new(keys.clone())?
        .access_token_lifetime(Duration::from_secs(args.access_lifetime))?
        .refresh_token_lifetime(Duration::from_secs(args.refresh_lifetime))?;
    if published {
        issuer = issuer.issuer(base.clone());
    }
    if shared.sessions.is_some() {
        issuer = issuer.claims(replicas::session_claims);
    }
    let mut settings = TokenSettings::default();
    settings.rotate_refresh_tokens = args.rotate_refresh_tokens;
    settings.blacklist_after_rotation = args.blacklist_after_rotation;
    settings.revoke_family_on_reuse = !args.no_revoke_family_on_reuse;
    // The router puts each connection's peer address in the request (`routes::client_addr`).
    settings.client_addr = ClientAddrSource::Extensions;
    let session_settings = replicas::SessionSettings {
        access_lifetime: args.access_lifetime,
        refresh_lifetime: args.refresh_lifetime,
        realm: settings.realm.clone(),
        leeway: settings.leeway,
        body_limit: DEFAULT_BODY_LIMIT,
        timeout: DEFAULT_REQUEST_TIMEOUT,
    };
    let logout_store = revocations.clone();
    let mut tokens = TokenEndpoints::new(issuer, users.clone(), revocations, settings)?;
    if let Some(throttle) = shared.throttle {
        tokens = tokens.with_login_throttle(throttle)?;
    }
    // simplejwt's access-token policy, with the endpoints' leeway.
    let access = Verifier::new(keys.clone()).leeway(session_settings.leeway)?;
    let verifier = match &shared.sessions {
        Some(check) => replicas::session_verifier(access.clone(), std::sync::Arc::clone(check)),
        None => access.clone(),
    };
    let state = AppState {
        tokens,
        verifier,
        users,
        schedules,
        body_limit: DEFAULT_BODY_LIMIT,
        request_timeout: DEFAULT_REQUEST_TIMEOUT,
    };

    print_banner(addr, &intro, &shared.note);
    tracing::info!(%addr, "listening");

    let mut router = app(state);
    if published {
        router = router.merge(crate::routes::publish_routes(&keys, &base));
    }
    if shared.sessions.is_some() {
        router = replicas::end_sessions_on_logout(router, logout_store, access, &session_settings)?;
    }
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped");
    Ok(())
}

/// What a person starting the server needs: the address and, for the in-memory demo, the
/// credentials and three curl lines to paste (obtain a token, POST an example schedule, GET it).
/// This is the program's output (stdout), not a log line.
fn print_banner(addr: SocketAddr, intro: &Intro, note: &str) {
    let base = format!("http://{addr}");
    let mut out = format!("schedule_server listening on {base}\n");
    match intro {
        Intro::Demo(d) => {
            out += &format!(
                "demo user (in memory, gone when the server stops): username {:?}, password {:?}\n",
                d.username, d.password
            );
            out += "try it (bash/zsh):\n";
            for line in curl_lines(&base, d) {
                out += &format!("  {line}\n");
            }
        }
        Intro::Text(text) => out += text,
    }
    out += note;
    print!("{out}");
    let _ = std::io::stdout().flush();
}

/// The example schedule the printed curl lines post.
pub(crate) const EXAMPLE_SCHEDULE: &str =
    r#"{"schedule":{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}}"#;

/// The three copy-pasteable curl lines of the demo banner.
fn curl_lines(base: &str, demo: &Demo) -> [String; 3] {
    let q = |s: &str| serde_json::Value::from(s).to_string();
    let login = format!(
        r#"{{"username":{},"password":{}}}"#,
        q(demo.username),
        q(&demo.password)
    );
    [
        format!(
            "ACCESS=$(curl -s -X POST {base}/api/token/ -H 'Content-Type: application/json' \
             -d '{login}' | sed -E 's/.*\"access\":\"([^\"]+)\".*/\\1/')"
        ),
        format!(
            "curl -s -X POST {base}/api/weekly_schedule/ -H \"Authorization: Bearer $ACCESS\" \
             -H 'Content-Type: application/json' -d '{EXAMPLE_SCHEDULE}'"
        ),
        format!("curl -s {base}/api/weekly_schedule/ -H \"Authorization: Bearer $ACCESS\""),
    ]
}

/// The new user's password: prompted for twice (not echoed) on a terminal, else the first line
/// of stdin.
fn read_password() -> Result<String, BoxError> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("password (again): ")?;
        if first != again {
            return Err("the passwords do not match".into());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let end = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(end);
        line
    };
    if password.is_empty() {
        return Err("empty password".into());
    }
    if password.trim() != password {
        // The login endpoint trims the password, as DRF's CharField does.
        return Err("a password with leading or trailing whitespace could never log in".into());
    }
    Ok(password)
}

/// `len` random letters and digits (shell-safe inside single quotes).
fn random_password(len: usize) -> Result<String, BoxError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        let mut buf = [0u8; 64];
        getrandom::getrandom(&mut buf).map_err(|e| format!("no randomness: {e}"))?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        for b in buf.iter().map(|&b| usize::from(b)).filter(|&b| b < limit) {
            if out.len() < len {
                out.push(char::from(ALPHABET[b % ALPHABET.len()]));
            }
        }
    }
    Ok(out)
}

/// The user store of `users …`: the data directory's `FileUserStore` or the database's
/// `SqlUserStore`.
async fn user_admin(target: &UsersTarget, must_exist: bool) -> Result<UserAdmin, BoxError> {
    let database_url = target.database_url();
    replicas::check_features(database_url.as_deref(), None)?;
    #[cfg(feature = "sqlx")]
    if let Some(url) = &database_url {
        return Ok(UserAdmin::Sql(replicas::open_database(url).await?.users()));
    }
    let dir = target
        .data_dir
        .as_deref()
        .ok_or("--data-dir DIR or --database-url URL (or SCHEDULE_DATABASE_URL) is required")?;
    if must_exist && !dir.is_dir() {
        return Err(format!("no data directory at {}", dir.display()).into());
    }
    Ok(UserAdmin::File(open_users(dir)?))
}

/// `users add|list|import-django`: straight onto the crate's `FileUserStore` or `SqlUserStore`.
fn users(cmd: UsersCommand) -> Result<(), BoxError> {
    runtime()?.block_on(async move {
        match cmd {
            UsersCommand::Add {
                name,
                inactive,
                target,
            } => {
                let store = user_admin(&target, false).await?;
                let password = read_password()?;
                let user = store.add_user(&name, &password, !inactive).await?;
                let note = if user.is_active { "" } else { " (inactive)" };
                println!("added user {:?} with id {}{note}", user.username, user.id);
            }
            UsersCommand::List { target } => {
                let store = user_admin(&target, true).await?;
                let mut out = String::from("id\tusername\tactive\n");
                for u in store.list().await? {
                    let active = if u.is_active { "yes" } else { "no" };
                    out += &format!("{}\t{}\t{active}\n", u.id, u.username);
                }
                print!("{out}");
            }
            UsersCommand::ImportDjango { file, target } => {
                let json = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                let store = user_admin(&target, false).await?;
                let imported = store.import_django(&json).await?;
                println!("imported {} users from Django", imported.len());
            }
        }
        Ok(())
    })
}

/// Creates the data directory (mode 0700) if needed.
fn ensure_dir(dir: &Path) -> Result<(), BoxError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(())
}

fn open_users(dir: &Path) -> Result<FileUserStore, BoxError> {
    ensure_dir(dir)?;
    let path = storage::users_path(dir);
    FileUserStore::open(&path).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn open_revocations(dir: &Path) -> Result<FileRevocationStore, BoxError> {
    ensure_dir(dir)?;
    let path = storage::revocations_path(dir);
    FileRevocationStore::open(&path).map_err(|e| match e {
        StoreError::Conflict(_) => format!(
            "{} is in use: another schedule_server is serving this data directory",
            path.display()
        )
        .into(),
        e => format!("{}: {e}", path.display()).into(),
    })
}

/// The in-memory user store of the default run, with one demo user.
async fn demo_users() -> Result<(MemoryUserStore, Demo), BoxError> {
    let users = MemoryUserStore::new();
    let demo = Demo {
        username: "demo",
        password: random_password(20)?,
    };
    users.add_user(demo.username, &demo.password, true).await?;
    Ok((users, demo))
}

/// Waits for SIGINT (Ctrl-C) or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
