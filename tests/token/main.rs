//! The token services (obtain, refresh, verify, blacklist, sliding): the recorded simplejwt
//! exchanges replayed, the claims of issued tokens, HTTP framing, rotation, login throttling, and
//! interop with PyJWT. Needs the `token` feature (a default one).

#[path = "../support/mod.rs"]
mod support;

#[cfg(feature = "token")]
mod claims;
#[cfg(feature = "token")]
mod framing;
#[cfg(feature = "token")]
mod pyjwt;
#[cfg(feature = "token")]
mod replay;
#[cfg(feature = "token")]
mod rotation;
#[cfg(feature = "token")]
mod throttle;
