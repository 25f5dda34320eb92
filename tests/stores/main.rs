//! The stores behind the token services: password hashing (argon2id, Django's hashes), the user
//! stores (memory and file) and the revocation stores (memory and file). Needs the `token` feature
//! (a default one); the SQL stores need `sqlx`, and start their own PostgreSQL;
//! the Redis stores need `redis` (and `sqlx`, for the replica tests) and start their own Redis;
//! with both, several processes of the schedule_server example share them (`replicas.rs`).

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "token")]
mod password;
#[cfg(feature = "sqlx")]
mod pg_server;
#[cfg(all(feature = "redis", feature = "sqlx"))]
mod redis;
#[cfg(all(feature = "redis", feature = "sqlx"))]
mod redis_server;
#[cfg(all(feature = "redis", feature = "sqlx", unix))]
mod replicas;
#[cfg(feature = "token")]
mod revocation;
#[cfg(any(feature = "sqlx", feature = "redis"))]
mod servers;
#[cfg(feature = "sqlx")]
mod sql;
#[cfg(feature = "token")]
mod users;
