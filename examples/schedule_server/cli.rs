//! Command line: `serve` (the default) and `users add|list|import-django`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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
    /// Keep users, schedules, revoked tokens and the signing secret in this directory.
    /// Without it everything is in memory and a demo user is created.
    #[arg(long, value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
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
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// List users: id, username, active.
    List {
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
    /// Import users from Django's `manage.py dumpdata auth.user` JSON, keeping their ids,
    /// active flags and password hashes.
    ImportDjango {
        /// The dumpdata file.
        file: PathBuf,
        /// The data directory.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
    },
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

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn runtime() -> Result<tokio::runtime::Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn serve(_args: ServeArgs) -> Result<(), BoxError> {
    let _rt = runtime()?;
    Err("not wired yet".into())
}

fn users(_cmd: UsersCommand) -> Result<(), BoxError> {
    Err("not wired yet".into())
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
