//! The token endpoints' settings ([`TokenSettings`], [`VerifyBlacklist`]), named after
//! simplejwt's; kept apart from the endpoints so the services can read them without importing
//! the module that builds them.

use super::throttle::{ClientAddrSource, ThrottleSettings};

/// Whether the verify endpoint consults the revocation store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyBlacklist {
    /// simplejwt's behaviour: only when `blacklist_after_rotation` is on (with the default
    /// settings the verify endpoint does not consult the blacklist).
    #[default]
    SimpleJwt,
    /// Always: a revoked token gets 400 `{"non_field_errors":["Token is blacklisted"]}`.
    Always,
    /// Never.
    Never,
}

/// Settings of the token endpoints, named after simplejwt's (see the [module docs](super) for
/// the mapping). Lifetimes, audience and issuer live on the [`Issuer`](super::Issuer).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenSettings {
    /// `ROTATE_REFRESH_TOKENS`: refresh also returns a new refresh token.
    pub rotate_refresh_tokens: bool,
    /// `BLACKLIST_AFTER_ROTATION`: the rotated-out refresh token is revoked.
    pub blacklist_after_rotation: bool,
    /// With rotation and blacklisting: a reused (already rotated) refresh token revokes its whole
    /// family. Default `true`.
    pub revoke_family_on_reuse: bool,
    /// Whether verify checks the revocation store. Default: simplejwt's behaviour.
    pub verify_blacklist: VerifyBlacklist,
    /// `LEEWAY` in seconds (at most 300).
    pub leeway: u64,
    /// `WWW_AUTHENTICATE_REALM`.
    pub realm: String,
    /// The login field's name (the user model's `USERNAME_FIELD`). Default `username`.
    pub username_field: String,
    /// The largest request body accepted; larger ones get 413. Default 16 KiB.
    pub max_body_bytes: usize,
    /// Login throttling (in memory), `None` to disable. A shared throttle replaces it with
    /// [`TokenEndpoints::with_login_throttle`](super::TokenEndpoints::with_login_throttle).
    pub throttle: Option<ThrottleSettings>,
    /// Where the throttle takes client addresses from. Default [`ClientAddrSource::Unspecified`]
    /// (the request extensions, with a warning at start-up).
    pub client_addr: ClientAddrSource,
    /// The most logins checking a password at once or waiting to (the password-hashing queue);
    /// past it, a login gets 503 `{"detail":"Too many logins in progress; try again
    /// shortly.","code":"login_busy"}` with `Retry-After: 1` at once. Default 64.
    pub max_pending_logins: usize,
}

impl Default for TokenSettings {
    fn default() -> Self {
        Self {
            rotate_refresh_tokens: false,
            blacklist_after_rotation: false,
            revoke_family_on_reuse: true,
            verify_blacklist: VerifyBlacklist::SimpleJwt,
            leeway: 0,
            realm: "api".into(),
            username_field: "username".into(),
            max_body_bytes: 16 * 1024,
            throttle: Some(ThrottleSettings::default()),
            client_addr: ClientAddrSource::Unspecified,
            max_pending_logins: 64,
        }
    }
}

impl TokenSettings {
    /// simplejwt with `ROTATE_REFRESH_TOKENS = True` and `BLACKLIST_AFTER_ROTATION = True`.
    pub fn rotating() -> Self {
        Self {
            rotate_refresh_tokens: true,
            blacklist_after_rotation: true,
            ..Self::default()
        }
    }
}
