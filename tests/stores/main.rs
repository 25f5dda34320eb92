//! The stores behind the token services: password hashing (argon2id, Django's hashes), the user
//! stores (memory and file) and the revocation stores (memory and file). Needs the `token` feature
//! (a default one).

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "token")]
mod password;
#[cfg(feature = "token")]
mod revocation;
#[cfg(feature = "token")]
mod users;
