//! Error types: [`AuthError`] for a rejected request or token, [`ConfigError`] for a bad
//! configuration (a short secret, an unusable key, a leeway over the cap).

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

use crate::verify::claims::TokenType;

/// Why a request or a token was rejected.
///
/// This is an opaque struct rather than an enum so that it can carry more context later
/// without a breaking change; match on [`AuthError::kind`] instead. The rejection response
/// built by [`JwtAuth`](crate::JwtAuth) carries it in its extensions, so outer layers
/// (logging, metrics) can read it:
///
/// ```
/// # use tower_jwt_auth::{AuthError, AuthErrorKind};
/// # let response = http::Response::new(());
/// if let Some(err) = response.extensions().get::<AuthError>() {
///     tracing::info!(reason = err.kind().reason(), "request rejected");
/// }
/// ```
///
/// It never contains the token, a secret or a password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthError {
    kind: AuthErrorKind,
    /// The token types the verifier would have accepted, for simplejwt's `messages` envelope.
    accepted: Option<Arc<[TokenType]>>,
    /// The `jti` of a token whose signature verified, for logs.
    jti: Option<Box<str>>,
}

/// The reason a request or token was rejected. See [`AuthError::kind`].
///
/// This enum may grow additional variants, so it is `#[non_exhaustive]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// No credentials: no `Authorization` header, an empty one, or an unrecognised scheme.
    Missing,
    /// The `Authorization` header has the right scheme but not exactly one token after it.
    BadAuthorizationHeader,
    /// More than one `Authorization` header, or a token both in the header and in the cookie.
    MultipleCredentials,
    /// The token is longer than the configured maximum.
    TooLong,
    /// Not three base64url segments, bad base64, or a header or payload that is not a JSON object.
    Malformed,
    /// The header's `alg` is not one the server allows for the selected key (this includes `none`).
    AlgorithmNotAllowed,
    /// The header's `kid` names no configured key.
    UnknownKey,
    /// The header carries something this verifier never honours: `jwk`, `jku`, `x5u`, `x5c`,
    /// `crit`, `zip`, `b64` or a nested `cty: JWT`.
    ForbiddenHeader,
    /// The signature does not verify.
    BadSignature,
    /// A registered claim has the wrong JSON type or an out-of-range value.
    InvalidClaim,
    /// The token is expired (`exp` is not in the future).
    Expired,
    /// `nbf` is in the future.
    NotYetValid,
    /// `iat` is in the future.
    IssuedInFuture,
    /// `aud` is missing, does not match, or is present while no audience is configured.
    InvalidAudience,
    /// `iss` is missing or does not match.
    InvalidIssuer,
    /// There is no `exp` claim.
    MissingExp,
    /// There is no `jti` claim.
    MissingJti,
    /// There is no token type claim.
    MissingTokenType,
    /// The token type claim is not one the verifier accepts (a refresh token sent as a bearer).
    WrongTokenType,
    /// The user id claim is missing or not a non-empty string or integer.
    MissingUserId,
    /// A sliding token has no `refresh_exp` claim.
    MissingRefreshExp,
    /// A sliding token's `refresh_exp` has passed.
    RefreshExpired,
    /// The token was revoked (blacklisted).
    Revoked,
    /// The user named by the token does not exist.
    UserNotFound,
    /// The user named by the token is inactive.
    UserInactive,
    /// The user's password changed after the token was issued.
    PasswordChanged,
    /// A backend the check depends on (a user store, a revocation store) failed.
    Internal,
}

impl AuthErrorKind {
    /// Every kind, in declaration order: for a metrics exporter that pre-registers one counter
    /// per [`reason`](Self::reason), or a table of them. Grows with the enum.
    pub const ALL: &'static [Self] = &[
        Self::Missing,
        Self::BadAuthorizationHeader,
        Self::MultipleCredentials,
        Self::TooLong,
        Self::Malformed,
        Self::AlgorithmNotAllowed,
        Self::UnknownKey,
        Self::ForbiddenHeader,
        Self::BadSignature,
        Self::InvalidClaim,
        Self::Expired,
        Self::NotYetValid,
        Self::IssuedInFuture,
        Self::InvalidAudience,
        Self::InvalidIssuer,
        Self::MissingExp,
        Self::MissingJti,
        Self::MissingTokenType,
        Self::WrongTokenType,
        Self::MissingUserId,
        Self::MissingRefreshExp,
        Self::RefreshExpired,
        Self::Revoked,
        Self::UserNotFound,
        Self::UserInactive,
        Self::PasswordChanged,
        Self::Internal,
    ];

    /// A short, stable, lowercase reason for logs and metrics (`missing`, `expired`,
    /// `bad_signature`, …). The strings never change between releases.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::BadAuthorizationHeader => "bad_authorization_header",
            Self::MultipleCredentials => "multiple_credentials",
            Self::TooLong => "too_long",
            Self::Malformed => "malformed",
            Self::AlgorithmNotAllowed => "algorithm_not_allowed",
            Self::UnknownKey => "unknown_key",
            Self::ForbiddenHeader => "forbidden_header",
            Self::BadSignature => "bad_signature",
            Self::InvalidClaim => "invalid_claim",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidIssuer => "invalid_issuer",
            Self::MissingExp => "missing_exp",
            Self::MissingJti => "missing_jti",
            Self::MissingTokenType => "missing_token_type",
            Self::WrongTokenType => "wrong_type",
            Self::MissingUserId => "missing_user_id",
            Self::MissingRefreshExp => "missing_refresh_exp",
            Self::RefreshExpired => "refresh_expired",
            Self::Revoked => "revoked",
            Self::UserNotFound => "user_not_found",
            Self::UserInactive => "user_inactive",
            Self::PasswordChanged => "password_changed",
            Self::Internal => "internal",
        }
    }

    /// simplejwt's message for a token that fails this check (the `TokenError` text), or `None`
    /// for kinds that are not token-validation failures.
    pub const fn token_message(self) -> Option<&'static str> {
        Some(match self {
            Self::TooLong
            | Self::Malformed
            | Self::AlgorithmNotAllowed
            | Self::UnknownKey
            | Self::ForbiddenHeader
            | Self::BadSignature
            | Self::InvalidClaim
            | Self::NotYetValid
            | Self::IssuedInFuture
            | Self::InvalidAudience
            | Self::InvalidIssuer => "Token is invalid",
            Self::Expired => "Token is expired",
            Self::MissingExp => "Token has no 'exp' claim",
            Self::MissingJti => "Token has no id",
            Self::MissingTokenType => "Token has no type",
            Self::WrongTokenType => "Token has wrong type",
            Self::MissingRefreshExp => "Token has no 'refresh_exp' claim",
            Self::RefreshExpired => "Token 'refresh_exp' claim has expired",
            Self::Revoked => "Token is blacklisted",
            _ => return None,
        })
    }

    /// The HTTP status a resource server answers with (RFC 6750 §3.1).
    pub const fn status(self) -> StatusCode {
        match self {
            Self::MultipleCredentials => StatusCode::BAD_REQUEST,
            Self::Internal => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 `error` attribute for the `WWW-Authenticate` challenge, if any.
    ///
    /// `None` when no credentials were sent (RFC 6750 §3.1: no error information then).
    pub const fn rfc6750_error(self) -> Option<&'static str> {
        match self {
            Self::Missing | Self::Internal => None,
            Self::BadAuthorizationHeader | Self::MultipleCredentials => Some("invalid_request"),
            _ => Some("invalid_token"),
        }
    }
}

impl AuthError {
    /// An error of this kind.
    pub const fn new(kind: AuthErrorKind) -> Self {
        Self {
            kind,
            accepted: None,
            jti: None,
        }
    }

    pub(crate) fn with_jti(mut self, jti: Option<&str>) -> Self {
        self.jti = jti.map(Box::from);
        self
    }

    /// The `jti` of the rejected token, when its signature verified (so the value is the
    /// issuer's, not an attacker's). Safe to log; never the token itself.
    pub fn jti(&self) -> Option<&str> {
        self.jti.as_deref()
    }

    pub(crate) fn with_accepted(mut self, accepted: &Arc<[TokenType]>) -> Self {
        if self.kind.token_message().is_some() {
            self.accepted = Some(Arc::clone(accepted));
        }
        self
    }

    /// What went wrong.
    pub const fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// The token types the verifier accepted when it rejected this token (empty when the error
    /// is not about a token's validity). The default response lists one `messages` entry per type.
    pub fn accepted_token_types(&self) -> &[TokenType] {
        self.accepted.as_deref().unwrap_or(&[])
    }

    /// The HTTP status for this error. See [`AuthErrorKind::status`].
    pub const fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The human-readable detail, as simplejwt words it.
    pub const fn detail(&self) -> &'static str {
        match self.kind {
            AuthErrorKind::Missing => "Authentication credentials were not provided.",
            AuthErrorKind::BadAuthorizationHeader => {
                "Authorization header must contain two space-delimited values"
            }
            AuthErrorKind::MultipleCredentials => {
                "More than one set of credentials was sent; send exactly one Authorization header"
            }
            AuthErrorKind::MissingUserId => "Token contained no recognizable user identification",
            AuthErrorKind::UserNotFound => "User not found",
            AuthErrorKind::UserInactive => "User is inactive",
            AuthErrorKind::PasswordChanged => "The user's password has been changed.",
            AuthErrorKind::Internal => "Authentication is temporarily unavailable.",
            kind => match kind.token_message() {
                Some(m) => m,
                None => "Authentication failed.",
            },
        }
    }

    /// simplejwt's `code` for this error, if its body has one.
    pub const fn code(&self) -> Option<&'static str> {
        match self.kind {
            AuthErrorKind::Missing => None,
            AuthErrorKind::BadAuthorizationHeader => Some("bad_authorization_header"),
            AuthErrorKind::MultipleCredentials => Some("invalid_request"),
            AuthErrorKind::UserNotFound => Some("user_not_found"),
            AuthErrorKind::UserInactive => Some("user_inactive"),
            AuthErrorKind::PasswordChanged => Some("password_changed"),
            AuthErrorKind::Internal => Some("service_unavailable"),
            _ => Some("token_not_valid"),
        }
    }
}

impl From<AuthErrorKind> for AuthError {
    fn from(kind: AuthErrorKind) -> Self {
        Self::new(kind)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self.kind {
            AuthErrorKind::Missing => "no credentials were provided",
            AuthErrorKind::BadAuthorizationHeader => "malformed authorization header",
            AuthErrorKind::MultipleCredentials => "more than one set of credentials",
            AuthErrorKind::TooLong => "token is too long",
            AuthErrorKind::Malformed => "token is malformed",
            AuthErrorKind::AlgorithmNotAllowed => "token algorithm is not allowed",
            AuthErrorKind::UnknownKey => "token names an unknown key",
            AuthErrorKind::ForbiddenHeader => "token header has a forbidden parameter",
            AuthErrorKind::BadSignature => "token signature is invalid",
            AuthErrorKind::InvalidClaim => "token has a claim of the wrong type or range",
            AuthErrorKind::Expired => "token is expired",
            AuthErrorKind::NotYetValid => "token is not valid yet",
            AuthErrorKind::IssuedInFuture => "token was issued in the future",
            AuthErrorKind::InvalidAudience => "token audience is not accepted",
            AuthErrorKind::InvalidIssuer => "token issuer is not accepted",
            AuthErrorKind::MissingExp => "token has no exp claim",
            AuthErrorKind::MissingJti => "token has no jti claim",
            AuthErrorKind::MissingTokenType => "token has no type claim",
            AuthErrorKind::WrongTokenType => "token has the wrong type",
            AuthErrorKind::MissingUserId => "token has no usable user id",
            AuthErrorKind::MissingRefreshExp => "token has no refresh_exp claim",
            AuthErrorKind::RefreshExpired => "token refresh_exp has passed",
            AuthErrorKind::Revoked => "token is revoked",
            AuthErrorKind::UserNotFound => "user not found",
            AuthErrorKind::UserInactive => "user is inactive",
            AuthErrorKind::PasswordChanged => "user password changed",
            AuthErrorKind::Internal => "authentication backend failed",
        })
    }
}

impl std::error::Error for AuthError {}

/// A configuration error: returned by fallible constructors and builders, never per request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// An HMAC secret is shorter than the hash output (RFC 7518 §3.2).
    WeakSecret {
        /// The minimum length in bytes.
        min_bytes: usize,
        /// The length that was given.
        got_bytes: usize,
    },
    /// A key could not be parsed or does not fit the algorithm. The text never contains key bytes.
    InvalidKey(String),
    /// The algorithm cannot be used this way (for example `none`).
    UnsupportedAlgorithm(String),
    /// The same `kid` was given to two keys.
    DuplicateKid(String),
    /// The key set is empty.
    NoKeys,
    /// The leeway is above the cap.
    LeewayTooLarge {
        /// The cap in seconds.
        max_seconds: u64,
    },
    /// Any other invalid setting.
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WeakSecret {
                min_bytes,
                got_bytes,
            } => write!(
                f,
                "HMAC secret is {got_bytes} bytes; at least {min_bytes} random bytes are required"
            ),
            Self::InvalidKey(why) => write!(f, "invalid key: {why}"),
            Self::UnsupportedAlgorithm(alg) => write!(f, "unsupported algorithm: {alg}"),
            Self::DuplicateKid(kid) => write!(f, "duplicate key id: {kid:?}"),
            Self::NoKeys => f.pad("the key set is empty"),
            Self::LeewayTooLarge { max_seconds } => {
                write!(f, "leeway is above the cap of {max_seconds} seconds")
            }
            Self::Invalid(why) => f.pad(why),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_distinct() {
        use std::collections::HashSet;
        let all = AuthErrorKind::ALL;
        let set: HashSet<_> = all.iter().map(|k| k.reason()).collect();
        assert_eq!(set.len(), all.len());
    }

    #[test]
    fn missing_credentials_have_no_rfc6750_error() {
        assert_eq!(AuthErrorKind::Missing.rfc6750_error(), None);
        assert_eq!(
            AuthErrorKind::Expired.rfc6750_error(),
            Some("invalid_token")
        );
        assert_eq!(
            AuthErrorKind::MultipleCredentials.status(),
            StatusCode::BAD_REQUEST
        );
    }
}
