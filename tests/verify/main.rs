//! The pure verifier: keys in every form and their validation, the named policies (with PyJWT
//! tokens), the verifier's hardening against odd tokens, and the JSON payload fast paths
//! checked against serde_json.

#[path = "../support/mod.rs"]
mod support;

mod hardening;
mod json_fast_path;
mod key_validation;
mod keys;
mod policies;
