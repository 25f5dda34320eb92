//! The token endpoints (obtain, refresh, verify, blacklist): claims and minting, HTTP
//! behaviour, interoperability with PyJWT, refresh rotation, login throttling, and simplejwt's
//! recorded exchanges replayed.

#[path = "../support/mod.rs"]
mod support;

mod claims;
mod endpoints;
mod pyjwt;
mod rotation;
mod throttle;
mod transcript;
