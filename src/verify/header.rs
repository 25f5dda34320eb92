//! The JOSE header: decoded and parsed only when it is not byte-for-byte one of the keys' usual
//! headers; the parameters this crate never honours are refused; the key is selected by `kid` and
//! the token's `alg` must be exactly that key's algorithm.

use std::borrow::Cow;

use serde::Deserialize;

use super::keys::{Algorithm, Key, Keys};
use super::registered::is_json_object;
use super::segments::Scratch;
use crate::error::AuthErrorKind;

#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    cty: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "present")]
    jwk: bool,
    #[serde(default, deserialize_with = "present")]
    jku: bool,
    #[serde(default, deserialize_with = "present")]
    x5u: bool,
    #[serde(default, deserialize_with = "present")]
    x5c: bool,
    #[serde(default, deserialize_with = "present")]
    crit: bool,
    #[serde(default, deserialize_with = "present")]
    zip: bool,
    #[serde(default, deserialize_with = "present")]
    b64: bool,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

/// Whether a `cty` names a nested JWT: `JWT`, or `application/jwt` (RFC 7515 §4.1.10: a `cty`
/// without `/` means `application/` plus it; media types are case-insensitive).
fn is_nested_jwt(cty: &str) -> bool {
    let bare = match cty.split_at_checked(12) {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => cty,
    };
    bare.eq_ignore_ascii_case("JWT")
}

fn alg_from_str(s: &str) -> Option<Algorithm> {
    Some(match s {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Steps 2–4 for a header that is not one of the fast ones: decode, parse, refuse the parameters
/// we never honour, select the key by `kid`, pin the algorithm.
pub(crate) fn select_key<'k>(keys: &'k Keys, h64: &[u8]) -> Result<&'k Key, AuthErrorKind> {
    let mut hbuf = Scratch::<384>::new();
    let header_json = hbuf.decode(h64).map_err(|()| AuthErrorKind::Malformed)?;
    // RFC 7515 §4: a JSON object. serde's derived struct would also accept an array.
    if !is_json_object(header_json) {
        return Err(AuthErrorKind::Malformed);
    }
    let header: Header<'_> = {
        let mut de = serde_json::Deserializer::from_slice(header_json);
        let h = Header::deserialize(&mut de).map_err(|_| AuthErrorKind::Malformed)?;
        de.end().map_err(|_| AuthErrorKind::Malformed)?;
        h
    };

    // 3. Parameters we never honour.
    if header.jwk
        || header.jku
        || header.x5u
        || header.x5c
        || header.crit
        || header.zip
        || header.b64
        || header.cty.as_deref().is_some_and(is_nested_jwt)
    {
        return Err(AuthErrorKind::ForbiddenHeader);
    }

    // 4. Key by kid; alg must be the key's own.
    let key = keys
        .select(header.kid.as_deref())
        .ok_or(AuthErrorKind::UnknownKey)?;
    if alg_from_str(&header.alg) != Some(key.alg) {
        return Err(AuthErrorKind::AlgorithmNotAllowed);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every header the fast path accepts selects, through the full header path, the very key
    /// the fast path returns.
    #[test]
    fn fast_headers_agree_with_the_full_header_path() {
        let plain = Key::hmac(Algorithm::HS256, [1u8; 32]).expect("key");
        let with_kid = Key::hmac(Algorithm::HS512, [2u8; 64])
            .expect("key")
            .with_kid("k\"1");
        let other = Key::hmac(Algorithm::HS384, [3u8; 48])
            .expect("key")
            .with_kid("k2");
        for keys in [
            Keys::new(plain),
            Keys::from_keys([with_kid.clone(), other.clone()]).expect("ring"),
            Keys::from_keys([other, with_kid])
                .expect("ring")
                .signing_kid("k\"1")
                .expect("kid"),
        ] {
            let headers: Vec<&[u8]> = keys.fast_header_list().collect();
            assert!(headers.len() >= 2);
            for h in headers {
                let fast = keys.fast_header(h).expect("fast");
                let full = select_key(&keys, h).expect("full path accepts it");
                assert_eq!(
                    (fast.kid(), fast.algorithm()),
                    (full.kid(), full.algorithm())
                );
            }
            // Anything else takes the full path.
            assert!(keys.fast_header(b"eyJhbGciOiJub25lIn0").is_none());
        }
    }
}
