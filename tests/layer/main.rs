//! The layer in front of services: the wire answers for every header and token case, the bearer
//! transport, and the integrations (an axum `Router` and a real tonic server and client).

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "axum")]
mod axum_router;
mod claims;
mod tonic_server;
mod transport;
mod wire;
