//! Several issuers in one verifier ([`Verifier::issuers`](super::Verifier::issuers)): the
//! token's `iss`, read from the payload before anything is verified and used only to choose,
//! selects that issuer's verifier (its keys and its policy), which then verifies the whole token.

use std::borrow::Cow;

use serde::Deserialize;

use super::Verifier;
use super::segments::{Scratch, split};
use crate::error::AuthErrorKind;

/// The verifiers by issuer, in the order given.
#[derive(Clone, Debug)]
pub(crate) struct ByIssuer(pub(crate) Box<[(Box<str>, Verifier)]>);

#[derive(Deserialize)]
struct Iss<'a> {
    #[serde(borrow, default)]
    iss: Option<Cow<'a, str>>,
}

impl ByIssuer {
    /// The verifier for the token's `iss`: `Malformed` for a token that does not split or whose
    /// payload is not a JSON object, `InvalidIssuer` for no `iss` or an unknown one.
    pub(crate) fn pick(&self, token: &[u8]) -> Result<&Verifier, AuthErrorKind> {
        let seg = split(token).ok_or(AuthErrorKind::Malformed)?;
        let mut buf = Scratch::<1024>::new();
        let payload = buf
            .decode(seg.payload)
            .map_err(|()| AuthErrorKind::Malformed)?;
        if !super::registered::is_json_object(payload) {
            return Err(AuthErrorKind::Malformed);
        }
        let iss: Iss<'_> = serde_json::from_slice(payload).map_err(|_| AuthErrorKind::Malformed)?;
        let iss = iss.iss.ok_or(AuthErrorKind::InvalidIssuer)?;
        self.0
            .iter()
            .find(|(i, _)| **i == *iss)
            .map(|(_, v)| v)
            .ok_or(AuthErrorKind::InvalidIssuer)
    }
}
