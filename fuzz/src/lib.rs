//! What the fuzz targets share: an independent reference reader of the registered claims (built
//! on `serde_json::Value`, written from the rules in the crate's docs, not from its code), and
//! HS256 signing of arbitrary header and payload bytes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use tower_jwt_auth::__fuzz::{Names, RegisteredClaims};
use tower_jwt_auth::AuthErrorKind;

/// The HS256 secret of the test suite's reference server (tests/support/mod.rs), so the
/// recorded tokens in tests/fixtures verify.
pub const SECRET: &str = "reference-only-test-secret-key-for-simplejwt-wire-format-probe-0123456789abcdef0123456789abcdef";

/// The fixed clock of the signed-token targets (between the recorded tokens' iat and exp is not
/// needed: fuzzed payloads carry their own times).
pub const NOW: i64 = 1_795_655_500;

/// `base64url(header).base64url(payload).base64url(HS256 tag)`.
pub fn sign_hs256(secret: &[u8], header: &[u8], payload: &[u8]) -> String {
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    mac.update(token.as_bytes());
    let tag = mac.finalize().into_bytes();
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(tag));
    token
}

/// The top-level members of a JSON object in order, duplicates kept; values of keys `keep`
/// does not want are skipped (as the crate's reader skips them: without a depth limit).
struct Members<'k> {
    keep: &'k dyn Fn(&str) -> bool,
}

impl<'de> Visitor<'de> for Members<'_> {
    type Value = Vec<(String, Value)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            if (self.keep)(&k) {
                let v: Value = map.next_value()?;
                out.push((k, v));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Claim {
    Exp,
    Nbf,
    Iat,
    RefreshExp,
    Iss,
    Aud,
    Jti,
    TokenType,
    UserId { sub: bool },
    Sub,
}

fn claim_of(key: &str, names: &Names) -> Option<Claim> {
    // The enforced claims always mean themselves; then the configured names; `sub` last.
    Some(match key {
        "exp" => Claim::Exp,
        "nbf" => Claim::Nbf,
        "iat" => Claim::Iat,
        "refresh_exp" => Claim::RefreshExp,
        "iss" => Claim::Iss,
        "aud" => Claim::Aud,
        k if k == names.jti => Claim::Jti,
        k if k == names.token_type => Claim::TokenType,
        k if k == names.user_id => Claim::UserId { sub: k == "sub" },
        "sub" => Claim::Sub,
        _ => return None,
    })
}

/// RFC 7519 §2 NumericDate: a JSON number within i64, non-integers rounded (`up` for `nbf`).
fn numeric_date(v: &Value, up: bool) -> Option<i64> {
    let n = v.as_number()?;
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return None; // above i64::MAX
    }
    let f = n.as_f64()?;
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if !(f.is_finite() && (-LIMIT..LIMIT).contains(&f)) {
        return None;
    }
    let floor = f.floor() as i64;
    Some(if up && f.fract() != 0.0 {
        floor.saturating_add(1)
    } else {
        floor
    })
}

/// The registered claims of `payload` by the documented rules: a UTF-8 JSON object; registered
/// claims of the wrong JSON type, or twice, are `InvalidClaim`; anything else unparsable is
/// `Malformed`. `Err(None)` when the payload is unparsable but a data error could come first
/// (either kind is then right).
pub fn reference_registered(
    payload: &[u8],
    names: &Names,
) -> Result<RegisteredClaims, Option<AuthErrorKind>> {
    let Ok(text) = std::str::from_utf8(payload) else {
        return Err(Some(AuthErrorKind::Malformed));
    };
    if !text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{')
    {
        return Err(Some(AuthErrorKind::Malformed));
    }
    let keep = |k: &str| claim_of(k, names).is_some();
    let mut de = serde_json::Deserializer::from_str(text);
    let members = match de.deserialize_map(Members { keep: &keep }) {
        Ok(m) => m,
        Err(_) => return Err(None),
    };
    if de.end().is_err() {
        return Err(None);
    }
    let invalid = Err(Some(AuthErrorKind::InvalidClaim));
    let mut r = RegisteredClaims::default();
    let mut seen: Vec<Claim> = Vec::new();
    for (k, v) in &members {
        let Some(c) = claim_of(k, names) else {
            continue;
        };
        if c != Claim::Sub {
            let key = match c {
                Claim::UserId { .. } => Claim::UserId { sub: false },
                c => c,
            };
            if seen.contains(&key) {
                return invalid;
            }
            seen.push(key);
        }
        let string = || v.as_str().map(str::to_owned);
        match c {
            Claim::Exp => {
                r.exp = Some(numeric_date(v, false).ok_or(Some(AuthErrorKind::InvalidClaim))?)
            }
            Claim::Iat => {
                r.iat = Some(numeric_date(v, false).ok_or(Some(AuthErrorKind::InvalidClaim))?)
            }
            Claim::RefreshExp => {
                r.refresh_exp =
                    Some(numeric_date(v, false).ok_or(Some(AuthErrorKind::InvalidClaim))?)
            }
            Claim::Nbf => {
                r.nbf = Some(numeric_date(v, true).ok_or(Some(AuthErrorKind::InvalidClaim))?)
            }
            Claim::Iss => r.iss = Some(string().ok_or(Some(AuthErrorKind::InvalidClaim))?),
            Claim::Jti => r.jti = Some(string().ok_or(Some(AuthErrorKind::InvalidClaim))?),
            Claim::TokenType => {
                r.token_type = Some(string().ok_or(Some(AuthErrorKind::InvalidClaim))?)
            }
            Claim::Sub => {
                string().ok_or(Some(AuthErrorKind::InvalidClaim))?;
            }
            Claim::Aud => {
                r.aud = Some(match v {
                    Value::String(s) => Err(s.clone()),
                    Value::Array(a) if a.len() <= 64 => Ok(a
                        .iter()
                        .map(|e| e.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(Some(AuthErrorKind::InvalidClaim))?),
                    _ => return invalid,
                })
            }
            Claim::UserId { sub } => {
                let id = match v {
                    Value::String(s) => Some(s.clone()).filter(|s| !s.is_empty()),
                    _ if sub => return invalid,
                    Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                    _ => None,
                };
                r.user_id_ok = Some(id.is_some());
                r.user_id = id;
            }
        }
    }
    Ok(r)
}

/// Reads the fuzz input as a few configuration bytes and the rest.
pub fn names_from(byte: u8) -> Names {
    match byte % 4 {
        0 => Names::default(),
        1 => Names {
            user_id: "sub".into(),
            ..Names::default()
        },
        2 => Names {
            user_id: "uid".into(),
            token_type: "typ".into(),
            jti: "id".into(),
        },
        // Configured names that collide with the enforced ones (they must fail closed).
        _ => Names {
            user_id: "exp".into(),
            token_type: "aud".into(),
            jti: "sub".into(),
        },
    }
}

/// The documented policy checks on registered claims, in the documented order (see
/// `Verifier`'s docs): times, audience, issuer, `exp` present, `jti`, token type, user id.
#[derive(Clone, Debug, Default)]
pub struct PolicyModel {
    /// Seconds of leeway.
    pub leeway: i64,
    /// Accepted audiences (`None`: a token with `aud` is refused).
    pub audience: Option<Vec<String>>,
    /// Accepted issuers (`None`: `iss` ignored).
    pub issuer: Option<Vec<String>>,
    /// `jti` required.
    pub require_jti: bool,
    /// Accepted token types (`None`: any, none required).
    pub types: Option<Vec<String>>,
    /// A usable user id required.
    pub require_user_id: bool,
}

impl PolicyModel {
    /// The verdict for `r` at `now`.
    ///
    /// # Errors
    /// The kind the verifier must report.
    pub fn check(&self, r: &RegisteredClaims, now: i64) -> Result<(), AuthErrorKind> {
        if r.exp.is_some_and(|e| e <= now.saturating_sub(self.leeway)) {
            return Err(AuthErrorKind::Expired);
        }
        if r.nbf.is_some_and(|n| n > now.saturating_add(self.leeway)) {
            return Err(AuthErrorKind::NotYetValid);
        }
        if r.iat.is_some_and(|i| i > now.saturating_add(self.leeway)) {
            return Err(AuthErrorKind::IssuedInFuture);
        }
        let aud_ok = match (&self.audience, &r.aud) {
            (None, None) => true,
            (None, Some(_)) | (Some(_), None) => false,
            (Some(want), Some(Err(one))) => want.contains(one),
            (Some(want), Some(Ok(many))) => many.iter().any(|a| want.contains(a)),
        };
        if !aud_ok {
            return Err(AuthErrorKind::InvalidAudience);
        }
        if let Some(want) = &self.issuer
            && !r.iss.as_ref().is_some_and(|i| want.contains(i))
        {
            return Err(AuthErrorKind::InvalidIssuer);
        }
        if r.exp.is_none() {
            return Err(AuthErrorKind::MissingExp);
        }
        if self.require_jti && r.jti.is_none() {
            return Err(AuthErrorKind::MissingJti);
        }
        if let Some(types) = &self.types {
            match &r.token_type {
                None => return Err(AuthErrorKind::MissingTokenType),
                Some(t) if !types.contains(t) => return Err(AuthErrorKind::WrongTokenType),
                Some(_) => {}
            }
        }
        if self.require_user_id && r.user_id_ok != Some(true) {
            return Err(AuthErrorKind::MissingUserId);
        }
        Ok(())
    }
}
