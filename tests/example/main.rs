//! The examples: the schedule server's router in process (simplejwt's recorded Django
//! exchanges replayed), the schedule server binary over HTTP, its page in a real browser, its
//! OpenAPI contract checked by schemathesis, and the small examples.

#[path = "../support/mod.rs"]
mod support;

// The schedule server's modules, compiled into this binary so `app.rs` drives its router.
#[cfg(feature = "token")]
#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/schedule_server/compat.rs"]
mod compat;
#[cfg(feature = "token")]
#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/schedule_server/domain.rs"]
mod domain;
#[cfg(feature = "token")]
#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/schedule_server/routes.rs"]
mod routes;
#[cfg(feature = "token")]
#[allow(dead_code, unreachable_pub)]
#[path = "../../examples/schedule_server/storage.rs"]
mod storage;

mod app;
mod browser;
mod contract;
mod e2e;
mod examples;
