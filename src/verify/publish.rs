//! Publishing keys: a ring's public keys as a JWKS (RFC 7517), for `/.well-known/jwks.json`.
//! Symmetric (HMAC) keys and private parts are never written.
//!
//! ```
//! use tower_jwt_auth::{Algorithm, Key, Keys};
//!
//! # let public = include_str!("../../benches/fixtures/ec256_public.pem");
//! let keys = Keys::new(Key::ec_pem(Algorithm::ES256, public)?.with_kid("2026-a"));
//! let jwks = keys.public_jwks();
//! assert_eq!(jwks["keys"][0]["kid"], "2026-a");
//! assert_eq!(jwks["keys"][0]["crv"], "P-256");
//! // What it publishes is what `Keys::from_jwks_json` (or a remote key source) reads back.
//! let again = Keys::from_jwks_json(&jwks.to_string())?;
//! assert_eq!(again.keys()[0].kid(), Some("2026-a"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKeyKind;
use serde_json::{Map, Value, json};

use super::keys::{Algorithm, Key, Keys, Material};
use crate::error::ConfigError;

/// One DER element: `(tag, contents, rest)`.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&len0, rest) = rest.split_first()?;
    let (len, rest) = if len0 < 0x80 {
        (usize::from(len0), rest)
    } else {
        let n = usize::from(len0 & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// `n` and `e` of a PKCS#1 `RSAPublicKey` (`SEQUENCE { INTEGER n, INTEGER e }`), without the
/// sign octet.
fn rsa_components(pkcs1: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let (0x30, seq, _) = der(pkcs1)? else {
        return None;
    };
    let (0x02, n, rest) = der(seq)? else {
        return None;
    };
    let (0x02, e, _) = der(rest)? else {
        return None;
    };
    let strip = |v: &[u8]| {
        let i = v.iter().position(|b| *b != 0).unwrap_or(v.len());
        v[i..].to_vec()
    };
    Some((strip(n), strip(e)))
}

/// The DER bytes of a one-block PEM.
#[cfg(feature = "aws-lc-rs")]
fn pem_der(pem: &str) -> Option<(String, Vec<u8>)> {
    let mut label = None;
    let mut body = String::new();
    for line in pem.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            label = Some(rest.trim_end_matches('-').to_owned());
        } else if line.starts_with("-----END ") {
            break;
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    Some((label?, der))
}

impl Key {
    /// A signing key from its private key alone (PEM: PKCS#8 `PRIVATE KEY` for every type, or
    /// PKCS#1 `RSA PRIVATE KEY`); the public key is derived from it. For `RS*`/`PS*`, `ES256`,
    /// `ES384` and `EdDSA`. Needs the `aws-lc-rs` backend.
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, Key};
    ///
    /// # let pem = include_str!("../../benches/fixtures/ed25519_private.pem");
    /// let key = Key::from_private_pem(Algorithm::EdDSA, pem)?;
    /// assert!(key.can_sign());
    /// # Ok::<(), tower_jwt_auth::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the PEM is not a private key of the algorithm's type (or
    /// its RSA modulus is under 2048 bits); [`ConfigError::UnsupportedAlgorithm`] for HMAC or
    /// without the `aws-lc-rs` backend.
    pub fn from_private_pem(alg: Algorithm, pem: impl AsRef<str>) -> Result<Self, ConfigError> {
        #[cfg(feature = "aws-lc-rs")]
        {
            use aws_lc_rs::signature::{self as sig, KeyPair as _};
            let pem = pem.as_ref();
            let bad = || ConfigError::InvalidKey("not a private key of this algorithm".into());
            let (label, der) = pem_der(pem).ok_or_else(bad)?;
            let key = match alg {
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512 => {
                    let pair = if label == "RSA PRIVATE KEY" {
                        sig::RsaKeyPair::from_der(&der)
                    } else {
                        sig::RsaKeyPair::from_pkcs8(&der)
                    }
                    .map_err(|_| bad())?;
                    Self::rsa_der(alg, pair.public_key().as_ref())?
                }
                Algorithm::ES256 | Algorithm::ES384 => {
                    let curve = if alg == Algorithm::ES256 {
                        &sig::ECDSA_P256_SHA256_FIXED_SIGNING
                    } else {
                        &sig::ECDSA_P384_SHA384_FIXED_SIGNING
                    };
                    let pair = sig::EcdsaKeyPair::from_private_key_der(curve, &der)
                        .or_else(|_| sig::EcdsaKeyPair::from_pkcs8(curve, &der))
                        .map_err(|_| bad())?;
                    Self::ec_der(alg, pair.public_key().as_ref())?
                }
                Algorithm::EdDSA => {
                    let pair =
                        sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).map_err(|_| bad())?;
                    Self::ed_der(pair.public_key().as_ref())?
                }
                other => {
                    return Err(ConfigError::UnsupportedAlgorithm(format!(
                        "{other:?} has no private key PEM (use Key::hmac)"
                    )));
                }
            };
            key.with_private_pem(pem)
        }
        #[cfg(not(feature = "aws-lc-rs"))]
        {
            let _ = (alg, pem);
            Err(ConfigError::UnsupportedAlgorithm(
                "Key::from_private_pem needs the aws-lc-rs backend; use a public key constructor and with_private_pem".into(),
            ))
        }
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key: a stable `kid`.
    /// `None` for an HMAC key.
    pub fn thumbprint(&self) -> Option<String> {
        use sha2::Digest as _;
        let jwk = self.public_jwk()?;
        let members: &[&str] = match jwk["kty"].as_str()? {
            "RSA" => &["e", "kty", "n"],
            "EC" => &["crv", "kty", "x", "y"],
            _ => &["crv", "kty", "x"],
        };
        let canonical: Map<String, Value> = members
            .iter()
            .map(|m| ((*m).to_owned(), jwk[*m].clone()))
            .collect();
        let bytes = serde_json::to_vec(&canonical).ok()?;
        Some(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&bytes)))
    }

    /// The public JWK of this key (`kty`, `alg`, `use: sig`, its `kid` if any, and the public
    /// parameters), or `None` for an HMAC key: a symmetric secret is never published.
    pub fn public_jwk(&self) -> Option<Value> {
        let Material::Asymmetric { decoding, .. } = &self.material else {
            return None;
        };
        let b64 = |b: &[u8]| Value::String(URL_SAFE_NO_PAD.encode(b));
        let mut jwk = Map::new();
        match (self.alg, decoding.kind()) {
            (
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512,
                kind,
            ) => {
                let (n, e) = match kind {
                    DecodingKeyKind::RsaModulusExponent { n, e } => (n.clone(), e.clone()),
                    DecodingKeyKind::SecretOrDer(der) => rsa_components(der)?,
                };
                jwk.insert("kty".into(), "RSA".into());
                jwk.insert("n".into(), b64(&n));
                jwk.insert("e".into(), b64(&e));
            }
            (Algorithm::ES256 | Algorithm::ES384, DecodingKeyKind::SecretOrDer(point)) => {
                let (crv, size) = if self.alg == Algorithm::ES256 {
                    ("P-256", 32)
                } else {
                    ("P-384", 48)
                };
                // The SEC1 uncompressed point: 0x04 || X || Y.
                if point.len() != 1 + 2 * size || point[0] != 4 {
                    return None;
                }
                jwk.insert("kty".into(), "EC".into());
                jwk.insert("crv".into(), crv.into());
                jwk.insert("x".into(), b64(&point[1..=size]));
                jwk.insert("y".into(), b64(&point[1 + size..]));
            }
            (Algorithm::EdDSA, DecodingKeyKind::SecretOrDer(raw)) if raw.len() == 32 => {
                jwk.insert("kty".into(), "OKP".into());
                jwk.insert("crv".into(), "Ed25519".into());
                jwk.insert("x".into(), b64(raw));
            }
            _ => return None,
        }
        jwk.insert("alg".into(), format!("{:?}", self.alg).into());
        jwk.insert("use".into(), "sig".into());
        if let Some(kid) = &self.kid {
            jwk.insert("kid".into(), Value::String(kid.to_string()));
        }
        Some(Value::Object(jwk))
    }
}

impl Keys {
    /// The ring's public keys as a JWKS document (`{"keys":[…]}`), in ring order. HMAC keys are
    /// left out (never published), and so are private parts: only `kty`, `alg`, `use`, `kid` and
    /// the public parameters are written.
    pub fn public_jwks(&self) -> Value {
        let keys: Vec<Value> = self.keys().iter().filter_map(Key::public_jwk).collect();
        json!({ "keys": keys })
    }
}
