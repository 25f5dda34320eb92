//! The weekly-schedule server: the Django `schedule_app` + simplejwt seed, rebuilt on
//! `tower-jwt-auth`.
//!
//! ```sh
//! cargo run --example schedule_server                       # in memory, demo user, port 8000
//! cargo run --example schedule_server -- serve --data-dir ./data
//! cargo run --example schedule_server -- users add alice --data-dir ./data
//! ```
//!
//! Files: `domain.rs` (schedule types and validation), `routes.rs` (`app(state) -> Router`),
//! `storage.rs` (files, the signing secret), `cli.rs` (flags, subcommands, startup).

mod cli;
mod domain;
mod routes;
mod storage;

fn main() -> std::process::ExitCode {
    cli::main()
}
