//! The layer on the wire: every rejection and acceptance with its exact status, body and
//! challenge (simplejwt's recorded exchanges), the security properties, property tests over
//! mutated tokens, the axum extractor and a real tonic server.

#[path = "../support/mod.rs"]
mod support;

mod axum_extractor;
mod grpc;
mod properties;
mod security;
mod wire;
