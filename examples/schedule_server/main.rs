//! Run with
//!
//! ```not_rust
//! cargo run --example schedule_server
//! ```
//!
//! The weekly-schedule server: a Django `schedule_app` + simplejwt backend, rebuilt on
//! `tower-jwt-auth`. With no flags it serves 127.0.0.1:8000 from memory with a demo user and
//! prints three curl lines to try; see the README's "The example server" section for the rest:
//!
//! ```not_rust
//! cargo run --example schedule_server -- users add alice --data-dir ./data
//! cargo run --example schedule_server -- serve --data-dir ./data
//! ```
//!
//! Several replicas share users in a database and revocations in Redis (features `sqlx`,
//! `redis`; see `replicas.rs`). The URLs may also be flags (`--database-url`, `--redis-url`),
//! but flags show in `ps`:
//!
//! ```not_rust
//! export SCHEDULE_DATABASE_URL=postgres://app:PASS@db/app SCHEDULE_REDIS_URL=redis://redis:6379/
//! cargo run --example schedule_server --features sqlx,redis -- users add alice
//! JWT_SECRET=… cargo run --example schedule_server --features sqlx,redis -- serve
//! ```
//!
//! Files: `routes.rs` (`app(state) -> Router`: the tower-http stack, `JwtAuthLayer`, handlers
//! taking `Claims<SimpleJwtClaims>`), `compat.rs` (what only Django REST framework
//! compatibility needs), `domain.rs` (schedule types and validation), `storage.rs` (files, the
//! signing secret), `replicas.rs` (the database and Redis), `cli.rs` (flags, subcommands, startup).

mod cli;
mod compat;
mod domain;
mod replicas;
mod routes;
mod storage;

fn main() -> std::process::ExitCode {
    cli::main()
}
