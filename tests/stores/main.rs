//! The stores: password hashing (argon2id and Django's hashes), revocation stores and
//! user stores, in memory and in files.

#[path = "../support/mod.rs"]
mod support;

mod password;
mod revocation;
mod users;
