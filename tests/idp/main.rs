//! Tokens from an identity provider: remote key sources (`RemoteKeys`) against a real OpenID
//! provider (panva's oidc-provider under node, tests/idp/provider/) and against in-process JWKS
//! clients that count and break fetches.
#![cfg(feature = "remote-keys")]

#[path = "../support/mod.rs"]
mod support;

mod example;
mod issuers;
mod provider;
mod publish;
mod remote;
#[cfg(feature = "axum")]
mod scope;
