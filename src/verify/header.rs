//! The JOSE header: decoded and parsed only when it is not byte-for-byte one of the keys' usual
//! headers; the parameters this crate never honours are refused; the key is selected by `kid` (by
//! `alg` in a ring without kids, see [`Keys`]) and the token's `alg` must be exactly that key's
//! algorithm.

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
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
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
/// we never honour, select the key (by `kid`, or by `alg` in a ring without kids), pin the
/// algorithm.
#[cfg(test)]
pub(crate) fn select_key<'k>(keys: &'k Keys, h64: &[u8]) -> Result<&'k Key, AuthErrorKind> {
    select_key_typed(keys, h64, false)
}

/// `at+jwt` or `application/at+jwt`, case-insensitively (RFC 9068 §4, RFC 7515 §4.1.9).
fn is_at_jwt(typ: &str) -> bool {
    let bare = match typ.split_at_checked(12) {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("application/") => rest,
        _ => typ,
    };
    bare.eq_ignore_ascii_case("at+jwt")
}

/// As `select_key`; with `at_jwt`, a `typ` other than `at+jwt` is a wrong token type.
pub(crate) fn select_key_typed<'k>(
    keys: &'k Keys,
    h64: &[u8],
    at_jwt: bool,
) -> Result<&'k Key, AuthErrorKind> {
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
    if at_jwt && !header.typ.as_deref().is_some_and(is_at_jwt) {
        return Err(AuthErrorKind::WrongTokenType);
    }

    // 4. Key by kid (or, in a ring without kids, by alg: see `Keys`); alg must be the key's own.
    let alg = alg_from_str(&header.alg);
    let key = keys.select(header.kid.as_deref(), alg)?;
    if alg != Some(key.alg) {
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
        let plain384 = Key::hmac(Algorithm::HS384, [4u8; 48]).expect("key");
        for keys in [
            Keys::new(plain.clone()),
            // No key has a kid: selection by alg, the default first.
            Keys::from_keys([plain.clone(), plain384.clone()]).expect("ring"),
            Keys::from_keys([plain384, plain]).expect("ring"),
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

    fn b64(json: &str) -> Vec<u8> {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json)
            .into_bytes()
    }

    fn picked(keys: &Keys, header: &str) -> Result<(Option<String>, Algorithm), AuthErrorKind> {
        let h = b64(header);
        let full = select_key(keys, &h).map(|k| (k.kid().map(str::to_owned), k.algorithm()));
        // Where the fast path answers, it answers the same.
        if let Some(fast) = keys.fast_header(&h) {
            assert_eq!(
                Ok((fast.kid().map(str::to_owned), fast.algorithm())),
                full,
                "{header}"
            );
        }
        full
    }

    /// In a ring without kids a token's `kid` is not used and its `alg` picks the key (the
    /// default first); with kids selection stays strict. The fast path agrees with both.
    #[test]
    fn kid_rule_by_ring() {
        let hs256 = Key::hmac(Algorithm::HS256, [1u8; 32]).expect("key");
        let hs384 = Key::hmac(Algorithm::HS384, [2u8; 48]).expect("key");
        let hs384b = Key::hmac(Algorithm::HS384, [3u8; 48]).expect("key");
        let hs512 = Key::hmac(Algorithm::HS512, [4u8; 64]).expect("key");

        let one = Keys::new(hs256.clone());
        for header in [
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"HS256","kid":"key-1","typ":"JWT"}"#,
            r#"{"alg":"HS256","kid":"","typ":"JWT"}"#,
            r#"{"kid":"../../etc/passwd","alg":"HS256"}"#,
        ] {
            assert_eq!(
                picked(&one, header),
                Ok((None, Algorithm::HS256)),
                "{header}"
            );
        }
        // Still pinned: another alg, `none`, or an unknown one is refused.
        for alg in ["HS384", "none", "RS256", "hs256"] {
            let header = format!(r#"{{"alg":"{alg}","kid":"key-1"}}"#);
            assert_eq!(
                picked(&one, &header),
                Err(AuthErrorKind::AlgorithmNotAllowed),
                "{header}"
            );
        }

        // Several kid-less keys: by alg, the default first.
        let ring = Keys::from_keys([hs256.clone(), hs384.clone(), hs512]).expect("ring");
        for (alg, want) in [
            ("HS256", Algorithm::HS256),
            ("HS384", Algorithm::HS384),
            ("HS512", Algorithm::HS512),
        ] {
            for header in [
                format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
                format!(r#"{{"alg":"{alg}","kid":"idp-2025","typ":"JWT"}}"#),
            ] {
                assert_eq!(picked(&ring, &header), Ok((None, want)), "{header}");
            }
        }
        // Two non-default keys of one algorithm: refused, not guessed.
        let ambiguous = Keys::from_keys([hs256.clone(), hs384.clone(), hs384b]).expect("ring");
        assert_eq!(
            picked(&ambiguous, r#"{"alg":"HS384","kid":"a"}"#),
            Err(AuthErrorKind::UnknownKey)
        );
        assert_eq!(
            picked(&ambiguous, r#"{"alg":"HS384"}"#),
            Err(AuthErrorKind::UnknownKey)
        );
        assert_eq!(
            picked(&ambiguous, r#"{"alg":"HS256","kid":"a"}"#),
            Ok((None, Algorithm::HS256))
        );
        // The default key shares its algorithm with another: the default is used.
        let twin = Keys::from_keys([hs384.clone(), hs256.clone(), hs384.clone()]).expect("ring");
        assert_eq!(
            picked(&twin, r#"{"alg":"HS384","kid":"a"}"#),
            Ok((None, Algorithm::HS384))
        );

        // A ring with a kid: strict.
        let strict = Keys::from_keys([hs256.with_kid("a"), hs384]).expect("ring");
        assert_eq!(
            picked(&strict, r#"{"alg":"HS256","kid":"a"}"#),
            Ok((Some("a".into()), Algorithm::HS256))
        );
        assert_eq!(
            picked(&strict, r#"{"alg":"HS384","kid":"b"}"#),
            Err(AuthErrorKind::UnknownKey)
        );
        // Kid-less tokens: the default key only, never another by alg.
        assert_eq!(
            picked(&strict, r#"{"alg":"HS256"}"#),
            Ok((Some("a".into()), Algorithm::HS256))
        );
        let h = b64(r#"{"alg":"HS384"}"#);
        assert_eq!(
            select_key(&strict, &h).err(),
            Some(AuthErrorKind::AlgorithmNotAllowed)
        );
    }
}
