//! The validation policy a [`Verifier`](super::Verifier) holds, and the checks on the registered
//! claims once the signature has verified: times (`exp`, `nbf`, `iat`), audience, issuer, the
//! required claims, the token type, revocation.

use std::sync::Arc;

use super::clock::Clock;
use super::keys::Keys;
use super::registered::{Audience, ClaimNames, Registered};
use super::revocation::Revocation;
use super::source::KeySource;
use crate::error::AuthErrorKind;
use crate::verify::claims::TokenType;

/// The default cap on a token's length, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 8 * 1024;

/// Keys plus every setting of a [`Verifier`](super::Verifier).
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    pub(crate) keys: Keys,
    /// A remote source whose current ring is used instead of `keys`.
    #[cfg(feature = "remote-keys")]
    pub(crate) remote: Option<super::remote::RemoteKeys>,
    /// RFC 9068 §4: the header's `typ` must be `at+jwt` (or `application/at+jwt`).
    pub(crate) require_at_jwt: bool,
    /// Several issuers: the token's `iss` picks the verifier that verifies it.
    pub(crate) by_issuer: Option<super::issuers::ByIssuer>,
    /// `None`: any token type (or none) is accepted.
    pub(crate) types: Option<Arc<[TokenType]>>,
    pub(crate) names: ClaimNames,
    pub(crate) leeway: i64,
    pub(crate) audience: Option<Vec<String>>,
    pub(crate) issuer: Option<Vec<String>>,
    pub(crate) require_jti: bool,
    pub(crate) require_user_id: bool,
    pub(crate) max_len: usize,
    pub(crate) clock: Clock,
    pub(crate) revocation: Option<Revocation>,
}

impl Policy {
    /// simplejwt's policy (see [`Verifier::simplejwt`](super::Verifier::simplejwt)).
    pub(crate) fn simplejwt(source: KeySource) -> Self {
        Self {
            keys: source.keys,
            #[cfg(feature = "remote-keys")]
            remote: source.remote,
            require_at_jwt: false,
            by_issuer: None,
            types: Some(Arc::from([TokenType::ACCESS])),
            names: ClaimNames::default(),
            leeway: 0,
            audience: None,
            issuer: None,
            require_jti: true,
            require_user_id: true,
            max_len: DEFAULT_MAX_TOKEN_LEN,
            clock: Clock::system(),
            revocation: None,
        }
    }

    /// The generic RFC 7519 policy (see [`Verifier::jwt`](super::Verifier::jwt)): simplejwt's
    /// checks minus its layout (no token type, no `jti`, no user id required; `sub` read as the
    /// user id when present).
    pub(crate) fn jwt(keys: KeySource) -> Self {
        Self {
            types: None,
            names: ClaimNames {
                user_id: std::borrow::Cow::Borrowed("sub"),
                ..ClaimNames::default()
            },
            require_jti: false,
            require_user_id: false,
            ..Self::simplejwt(keys)
        }
    }

    /// The OAuth 2.0 access-token policy (see
    /// [`Verifier::access_token`](super::Verifier::access_token)): [`Policy::jwt`] with `iss`,
    /// `aud` and `sub` required.
    pub(crate) fn access_token(keys: KeySource, issuer: String, audience: String) -> Self {
        Self {
            issuer: Some(vec![issuer]),
            audience: Some(vec![audience]),
            require_user_id: true,
            ..Self::jwt(keys)
        }
    }

    /// `exp` (expired when `exp <= now - leeway`), `nbf` and `iat` (not after `now + leeway`).
    #[inline]
    pub(crate) fn check_times(
        &self,
        exp: Option<i64>,
        nbf: Option<i64>,
        iat: Option<i64>,
    ) -> Result<(), AuthErrorKind> {
        let now = self.clock.now();
        if exp.is_some_and(|exp| exp <= now.saturating_sub(self.leeway)) {
            return Err(AuthErrorKind::Expired);
        }
        if nbf.is_some_and(|nbf| nbf > now.saturating_add(self.leeway)) {
            return Err(AuthErrorKind::NotYetValid);
        }
        if iat.is_some_and(|iat| iat > now.saturating_add(self.leeway)) {
            return Err(AuthErrorKind::IssuedInFuture);
        }
        Ok(())
    }

    /// Steps 7 and 8 of the [order of checks](super): times, `aud`, `iss` (PyJWT's checks),
    /// then `exp`, `jti`, the token type and the user id present (simplejwt's), then revocation.
    pub(crate) fn check_claims(&self, reg: &Registered<'_>) -> Result<(), AuthErrorKind> {
        self.check_times(reg.exp, reg.nbf, reg.iat)?;
        match (&self.audience, &reg.aud) {
            (None, Audience::Absent) => {}
            (None, _) => return Err(AuthErrorKind::InvalidAudience),
            (Some(want), got) => {
                let ok = match got {
                    Audience::Absent => false,
                    Audience::One(a) => want.iter().any(|w| w == a),
                    Audience::Many(v) => v.iter().any(|a| want.iter().any(|w| w == a)),
                };
                if !ok {
                    return Err(AuthErrorKind::InvalidAudience);
                }
            }
        }
        if let Some(want) = &self.issuer
            && !reg
                .iss
                .as_deref()
                .is_some_and(|i| want.iter().any(|w| w == i))
        {
            return Err(AuthErrorKind::InvalidIssuer);
        }

        if reg.exp.is_none() {
            return Err(AuthErrorKind::MissingExp);
        }
        if self.require_jti && reg.jti.is_none() {
            return Err(AuthErrorKind::MissingJti);
        }
        if let Some(types) = &self.types {
            match reg.token_type.as_deref() {
                None => return Err(AuthErrorKind::MissingTokenType),
                Some(t) if !types.iter().any(|a| a.as_str() == t) => {
                    return Err(AuthErrorKind::WrongTokenType);
                }
                Some(_) => {}
            }
        }
        if self.require_user_id && reg.user_id_ok != Some(true) {
            return Err(AuthErrorKind::MissingUserId);
        }
        if let Some(jti) = reg.jti.as_deref()
            && self.is_revoked(jti)
        {
            return Err(AuthErrorKind::Revoked);
        }
        Ok(())
    }

    /// Whether the configured revocation check says `jti` is revoked (`false` without one).
    #[inline]
    pub(crate) fn is_revoked(&self, jti: &str) -> bool {
        // Several issuers: revoked if any of their checks says so (the cache's re-check does not
        // know which issuer a cached token came from).
        if let Some(by) = &self.by_issuer
            && by.0.iter().any(|(_, v)| v.is_revoked(jti))
        {
            return true;
        }
        self.revocation
            .as_ref()
            .is_some_and(|r| r.0.is_revoked(jti))
    }
}
