//! The verifier on its own: keys and their validation, forged and hostile tokens, the named
//! policies (with PyJWT tokens; one through an axum app), the JSON fast paths, review findings,
//! and properties. Only the public API, so it runs on either crypto backend.

#[path = "../support/mod.rs"]
mod support;

mod forged_tokens;
mod hardening;
mod json_fast_path;
mod key_validation;
mod keys;
mod policies;
mod properties;
