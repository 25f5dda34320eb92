//! Keys: each [`Key`] is pinned to exactly one algorithm by the server; a [`Keys`] ring selects a
//! key by the token's `kid` when its keys have kids (rotation, a JWKS), and by the token's `alg`
//! among the ring's keys when none has (see [`Keys`] for the rule); the token's `alg` must always
//! be the selected key's own.
//!
//! ```
//! use tower_jwt_auth::{Algorithm, Key, Keys};
//!
//! // simplejwt's default: one HS256 secret (Django's SECRET_KEY), no kid.
//! let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
//!
//! // Rotation: tokens name their key with `kid`; new tokens are signed with "2025-b".
//! let ring = Keys::from_keys([
//!     Key::hmac(Algorithm::HS256, b"the-old-secret-still-32-bytes-long!!")?.with_kid("2025-a"),
//!     Key::hmac(Algorithm::HS256, b"the-new-secret-also-32-bytes-long!!!")?.with_kid("2025-b"),
//! ])?
//! .signing_kid("2025-b")?;
//! # let _ = (keys, ring);
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{DecodingKey, DecodingKeyKind, EncodingKey};

pub use jsonwebtoken::Algorithm;

use crate::error::{AuthErrorKind, ConfigError};

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "tower-jwt-auth needs a crypto backend: enable the `aws-lc-rs` (default) or `rust-crypto` feature"
);

/// The crypto provider for asymmetric algorithms and signing, chosen by our features. We never
/// rely on jsonwebtoken's process default, which panics when both of its backends are enabled.
pub(crate) fn provider() -> &'static CryptoProvider {
    #[cfg(feature = "aws-lc-rs")]
    {
        &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
    }
    #[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
    {
        &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER
    }
}

/// A pre-keyed HMAC: the key schedule is computed once, each verification clones the state.
#[derive(Clone)]
pub(crate) enum HmacKey {
    S256(Hmac<sha2::Sha256>),
    S384(Hmac<sha2::Sha384>),
    S512(Hmac<sha2::Sha512>),
}

impl HmacKey {
    /// Constant-time verification of `sig` over `msg` (the received bytes, never re-serialised).
    ///
    /// The comparison is `constant_time_eq`'s: whole SIMD words behind an optimisation barrier,
    /// where `subtle` (behind `Mac::verify_slice`) puts a barrier on every byte and cost ~20 ns
    /// more per verification. A tag of the wrong length is refused before any comparison (the
    /// length is public: it is the algorithm's).
    #[inline]
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        fn check<D: Mac + Clone>(m: &D, msg: &[u8], sig: &[u8]) -> bool {
            let mut m = m.clone();
            m.update(msg);
            let tag = m.finalize().into_bytes();
            tag.len() == sig.len() && constant_time_eq::constant_time_eq(&tag, sig)
        }
        match self {
            Self::S256(m) => check(m, msg, sig),
            Self::S384(m) => check(m, msg, sig),
            Self::S512(m) => check(m, msg, sig),
        }
    }

    /// The tag length in bytes: a signature of any other length is refused before decoding.
    #[inline]
    pub(crate) const fn tag_len(&self) -> usize {
        match self {
            Self::S256(_) => 32,
            Self::S384(_) => 48,
            Self::S512(_) => 64,
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::S256(m) => {
                let mut m = m.clone();
                m.update(msg);
                m.finalize().into_bytes().to_vec()
            }
            Self::S384(m) => {
                let mut m = m.clone();
                m.update(msg);
                m.finalize().into_bytes().to_vec()
            }
            Self::S512(m) => {
                let mut m = m.clone();
                m.update(msg);
                m.finalize().into_bytes().to_vec()
            }
        }
    }
}

// The HMAC state is kept inline (not boxed): it is read on every verification.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Material {
    Hmac(HmacKey),
    Asymmetric {
        decoding: DecodingKey,
        encoding: Option<EncodingKey>,
        /// The public key parsed once for AWS-LC, when its bytes parse for the algorithm; `None`
        /// falls back to jsonwebtoken's provider (which parses on every verification).
        #[cfg(feature = "aws-lc-rs")]
        parsed: Option<aws_lc_rs::signature::ParsedPublicKey>,
    },
}

/// AWS-LC's verification algorithm for `alg`, the same jsonwebtoken's aws_lc provider uses.
#[cfg(feature = "aws-lc-rs")]
fn aws_lc_algorithm(
    alg: Algorithm,
) -> Option<&'static dyn aws_lc_rs::signature::VerificationAlgorithm> {
    use aws_lc_rs::signature as s;
    Some(match alg {
        Algorithm::RS256 => &s::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &s::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &s::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &s::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &s::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &s::RSA_PSS_2048_8192_SHA512,
        Algorithm::ES256 => &s::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &s::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &s::ED25519,
        _ => return None,
    })
}

/// Parses the public key once, as jsonwebtoken's aws_lc provider would on every verification
/// (`UnparsedPublicKey::new(alg, der).verify(..)`), when it holds DER/raw bytes.
#[cfg(feature = "aws-lc-rs")]
fn parse_for_aws_lc(
    alg: Algorithm,
    decoding: &DecodingKey,
) -> Option<aws_lc_rs::signature::ParsedPublicKey> {
    let jsonwebtoken::DecodingKeyKind::SecretOrDer(bytes) = decoding.kind() else {
        return None;
    };
    let expected = match family(alg) {
        Family::Rsa => jsonwebtoken::AlgorithmFamily::Rsa,
        Family::Ec => jsonwebtoken::AlgorithmFamily::Ec,
        Family::Ed => jsonwebtoken::AlgorithmFamily::Ed,
        Family::Hmac | Family::Other => return None,
    };
    // jsonwebtoken's verifiers refuse a key of another family; so does the fallback path.
    if decoding.family() != expected {
        return None;
    }
    aws_lc_rs::signature::UnparsedPublicKey::new(aws_lc_algorithm(alg)?, bytes.as_slice())
        .parse()
        .ok()
}

/// One key, pinned to one algorithm, with an optional `kid`.
///
/// Built from a secret, PEM, DER or a JWK. `Debug` never shows key material.
#[derive(Clone)]
pub struct Key {
    pub(crate) kid: Option<Arc<str>>,
    pub(crate) alg: Algorithm,
    pub(crate) material: Material,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("material", &"[redacted]")
            .field("can_sign", &self.can_sign())
            .finish()
    }
}

const fn family(alg: Algorithm) -> Family {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Family::Hmac,
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => Family::Rsa,
        Algorithm::ES256 | Algorithm::ES384 => Family::Ec,
        Algorithm::EdDSA => Family::Ed,
        _ => Family::Other,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    Hmac,
    Rsa,
    Ec,
    Ed,
    Other,
}

fn invalid(e: impl fmt::Display) -> ConfigError {
    ConfigError::InvalidKey(e.to_string())
}

fn want(alg: Algorithm, fam: Family) -> Result<(), ConfigError> {
    if family(alg) == fam {
        Ok(())
    } else {
        Err(ConfigError::UnsupportedAlgorithm(format!(
            "{alg:?} cannot be used with a {fam:?} key"
        )))
    }
}

impl Key {
    /// An HMAC key (`HS256`, `HS384` or `HS512`) from a secret.
    ///
    /// # Errors
    /// [`ConfigError::WeakSecret`] if the secret is shorter than the hash output (32, 48 or 64
    /// bytes; RFC 7518 §3.2), and [`ConfigError::UnsupportedAlgorithm`] for a non-HMAC algorithm.
    pub fn hmac(alg: Algorithm, secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        want(alg, Family::Hmac)?;
        let secret = secret.as_ref();
        let min = match alg {
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => 32,
        };
        if secret.len() < min {
            return Err(ConfigError::WeakSecret {
                min_bytes: min,
                got_bytes: secret.len(),
            });
        }
        Ok(Self::hmac_unchecked(alg, secret))
    }

    fn hmac_unchecked(alg: Algorithm, secret: &[u8]) -> Self {
        // `new_from_slice` accepts keys of any length for HMAC.
        let mac = match alg {
            Algorithm::HS384 => Hmac::new_from_slice(secret).map(HmacKey::S384),
            Algorithm::HS512 => Hmac::new_from_slice(secret).map(HmacKey::S512),
            _ => Hmac::new_from_slice(secret).map(HmacKey::S256),
        };
        let mac = match mac {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        Self {
            kid: None,
            alg,
            material: Material::Hmac(mac),
        }
    }

    /// An RSA public key (PEM, `RS*` or `PS*`), for verification only.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the PEM does not hold an RSA public key, or its modulus is
    /// shorter than 2048 bits (RFC 7518 §3.3).
    pub fn rsa_pem(alg: Algorithm, public_pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        want(alg, Family::Rsa)?;
        let decoding = DecodingKey::from_rsa_pem(public_pem.as_ref()).map_err(invalid)?;
        Self::checked(alg, decoding)
    }

    /// An RSA public key (PKCS#1 DER), for verification only.
    ///
    /// # Errors
    /// [`ConfigError::UnsupportedAlgorithm`] for a non-RSA algorithm, [`ConfigError::InvalidKey`]
    /// if the bytes are not a PKCS#1 `RSAPublicKey`, its modulus is shorter than 2048 bits
    /// (RFC 7518 §3.3), or the crypto backend rejects the key (the `rust-crypto` backend parses it here; AWS-LC
    /// only when it verifies, so garbage then fails every signature instead).
    pub fn rsa_der(alg: Algorithm, public_der: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        want(alg, Family::Rsa)?;
        Self::checked(alg, DecodingKey::from_rsa_der(public_der.as_ref()))
    }

    /// An EC public key (PEM, `ES256` on P-256 or `ES384` on P-384), for verification only.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the PEM does not hold an EC public key.
    pub fn ec_pem(alg: Algorithm, public_pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        want(alg, Family::Ec)?;
        let decoding = DecodingKey::from_ec_pem(public_pem.as_ref()).map_err(invalid)?;
        Self::checked(alg, decoding)
    }

    /// An EC public key (the SEC1 uncompressed point as DER bytes), for verification only.
    ///
    /// # Errors
    /// [`ConfigError::UnsupportedAlgorithm`] for a non-EC algorithm, [`ConfigError::InvalidKey`]
    /// if the bytes are not a SEC1 point of the algorithm's curve (P-256 for `ES256`, P-384 for
    /// `ES384`).
    pub fn ec_der(alg: Algorithm, public_der: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        want(alg, Family::Ec)?;
        Self::checked(alg, DecodingKey::from_ec_der(public_der.as_ref()))
    }

    /// An Ed25519 public key (PEM), for `EdDSA`, for verification only.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the PEM does not hold an Ed25519 public key, or holds a
    /// small-order or non-canonical point (such a key would accept forged signatures).
    pub fn ed_pem(public_pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let decoding = DecodingKey::from_ed_pem(public_pem.as_ref()).map_err(invalid)?;
        Self::checked(Algorithm::EdDSA, decoding)
    }

    /// An Ed25519 public key (the raw 32 bytes), for `EdDSA`, for verification only.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] unless the input is exactly 32 bytes encoding a point that is
    /// neither small-order nor non-canonical (the all-zero key, for one, accepts a forged
    /// all-zero signature).
    pub fn ed_der(public_der: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::checked(
            Algorithm::EdDSA,
            DecodingKey::from_ed_der(public_der.as_ref()),
        )
    }

    /// [`Key::asym`] after [`check_public`].
    fn checked(alg: Algorithm, decoding: DecodingKey) -> Result<Self, ConfigError> {
        check_public(alg, &decoding)?;
        Ok(Self::asym(alg, decoding))
    }

    fn asym(alg: Algorithm, decoding: DecodingKey) -> Self {
        Self {
            kid: None,
            alg,
            material: Material::Asymmetric {
                #[cfg(feature = "aws-lc-rs")]
                parsed: parse_for_aws_lc(alg, &decoding),
                decoding,
                encoding: None,
            },
        }
    }

    /// A key from a JWK (RFC 7517). The JWK must name its algorithm (`alg`); its `kid`, if any,
    /// becomes the key's `kid`. Private members of the JWK are ignored: JWKs give verification keys.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the JWK cannot be parsed, has no `alg`, is for encryption
    /// (`use: enc`), or its `alg` does not fit its key type.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, ConfigError> {
        if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
            return Err(invalid("JWK is for encryption (use: enc)"));
        }
        let alg = match jwk.common.key_algorithm {
            Some(ka) => key_algorithm(ka)?,
            None => return Err(invalid("JWK has no `alg`; the server must pin one")),
        };
        let mut key = match &jwk.algorithm {
            AlgorithmParameters::OctetKey(p) => {
                let secret = URL_SAFE_NO_PAD
                    .decode(p.value.trim_end_matches('='))
                    .map_err(|_| invalid("JWK `k` is not base64url"))?;
                Self::hmac(alg, secret)?
            }
            AlgorithmParameters::RSA(_) => {
                want(alg, Family::Rsa)?;
                Self::checked(alg, DecodingKey::from_jwk(jwk).map_err(invalid)?)?
            }
            AlgorithmParameters::EllipticCurve(p) => {
                want(alg, Family::Ec)?;
                let crv = match alg {
                    Algorithm::ES384 => EllipticCurve::P384,
                    _ => EllipticCurve::P256,
                };
                if p.curve != crv {
                    return Err(invalid(format!("JWK `crv` does not fit {alg:?}")));
                }
                Self::checked(alg, DecodingKey::from_jwk(jwk).map_err(invalid)?)?
            }
            AlgorithmParameters::OctetKeyPair(p) => {
                want(alg, Family::Ed)?;
                if p.curve != EllipticCurve::Ed25519 {
                    return Err(invalid("JWK `crv` is not Ed25519"));
                }
                Self::checked(alg, DecodingKey::from_jwk(jwk).map_err(invalid)?)?
            }
            _ => return Err(invalid("unsupported JWK key type")),
        };
        if let Some(kid) = &jwk.common.key_id {
            key = key.with_kid(kid.as_str());
        }
        Ok(key)
    }

    /// A key from the JSON text of one JWK. See [`Key::from_jwk`].
    ///
    /// # Errors
    /// As [`Key::from_jwk`], and [`ConfigError::InvalidKey`] for JSON that is not a JWK.
    pub fn from_jwk_json(json: &str) -> Result<Self, ConfigError> {
        let jwk: Jwk = serde_json::from_str(json).map_err(|_| invalid("not a JWK"))?;
        Self::from_jwk(&jwk)
    }

    /// Sets the key id that tokens name in their `kid` header.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<Arc<str>>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Adds a private key in PEM form so this key can also sign (RSA, EC or Ed25519, matching the
    /// algorithm). HMAC keys always sign.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the PEM does not parse as a private key of the right type.
    pub fn with_private_pem(mut self, private_pem: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        let pem = private_pem.as_ref();
        let enc = match family(self.alg) {
            Family::Hmac => return Ok(self),
            Family::Rsa => EncodingKey::from_rsa_pem(pem),
            Family::Ec => EncodingKey::from_ec_pem(pem),
            Family::Ed => EncodingKey::from_ed_pem(pem),
            Family::Other => {
                return Err(ConfigError::UnsupportedAlgorithm(format!("{:?}", self.alg)));
            }
        }
        .map_err(invalid)?;
        // Prove the pair works before accepting it.
        let probe = (provider().signer_factory)(&self.alg, &enc)
            .and_then(|s| s.try_sign(b"probe").map_err(Into::into))
            .map_err(|_| invalid("private key does not fit the algorithm"))?;
        if let Material::Asymmetric {
            decoding, encoding, ..
        } = &mut self.material
        {
            let ok = (provider().verifier_factory)(&self.alg, decoding)
                .map(|v| v.verify(b"probe", &probe).is_ok())
                .unwrap_or(false);
            if !ok {
                return Err(invalid("private key does not match the public key"));
            }
            *encoding = Some(enc);
        }
        Ok(self)
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm this key is used with.
    pub const fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// Whether this key can sign tokens.
    pub const fn can_sign(&self) -> bool {
        match &self.material {
            Material::Hmac(_) => true,
            Material::Asymmetric { encoding, .. } => encoding.is_some(),
        }
    }

    /// The HMAC tag length in bytes; `None` for an asymmetric key.
    #[inline]
    pub(crate) fn hmac_tag_len(&self) -> Option<usize> {
        match &self.material {
            Material::Hmac(m) => Some(m.tag_len()),
            Material::Asymmetric { .. } => None,
        }
    }

    /// Verifies `sig` (raw bytes) over `msg` with this key and its pinned algorithm.
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.material {
            Material::Hmac(m) => m.verify(msg, sig),
            #[cfg(feature = "aws-lc-rs")]
            Material::Asymmetric {
                parsed: Some(key), ..
            } => key.verify_sig(msg, sig).is_ok(),
            Material::Asymmetric { decoding, .. } => {
                match (provider().verifier_factory)(&self.alg, decoding) {
                    Ok(v) => v.verify(msg, &sig.to_vec()).is_ok(),
                    Err(_) => false,
                }
            }
        }
    }

    /// Signs `msg`, returning the raw signature, or `None` if this key cannot sign.
    pub(crate) fn sign(&self, msg: &[u8]) -> Option<Vec<u8>> {
        match &self.material {
            Material::Hmac(m) => Some(m.sign(msg)),
            Material::Asymmetric {
                encoding: Some(enc),
                ..
            } => (provider().signer_factory)(&self.alg, enc)
                .ok()?
                .try_sign(msg)
                .ok(),
            Material::Asymmetric { encoding: None, .. } => None,
        }
    }
}

/// Rejects public keys that cannot be right for `alg`, at construction rather than by failing
/// (or panicking in a backend) on every request: an RSA modulus must have at least 2048 bits; an
/// Ed25519 key must be 32 bytes and not a small-order or non-canonical point; an EC key must be
/// a SEC1 point of the algorithm's curve; and the crypto backend must accept the key.
fn check_public(alg: Algorithm, decoding: &DecodingKey) -> Result<(), ConfigError> {
    match family(alg) {
        Family::Ed => {
            let raw = decoding
                .try_get_as_bytes()
                .map_err(|_| invalid("not an Ed25519 public key"))?;
            let raw: &[u8; 32] = raw
                .try_into()
                .map_err(|_| invalid("an Ed25519 public key is exactly 32 bytes"))?;
            if ed25519_is_weak(raw) {
                return Err(invalid(
                    "the Ed25519 public key is a small-order or non-canonical point",
                ));
            }
        }
        Family::Rsa => match rsa_modulus_bits(decoding) {
            Some(bits) if bits >= MIN_RSA_BITS => {}
            Some(bits) => {
                return Err(invalid(format!(
                    "the RSA modulus is {bits} bits; at least {MIN_RSA_BITS} are required (RFC 7518 §3.3)"
                )));
            }
            None => return Err(invalid("not a PKCS#1 RSA public key")),
        },
        Family::Ec => {
            let point = decoding
                .try_get_as_bytes()
                .map_err(|_| invalid("not an EC public key"))?;
            let n = if alg == Algorithm::ES384 { 48 } else { 32 };
            let ok = match point.first() {
                Some(0x04) => point.len() == 1 + 2 * n,
                Some(0x02 | 0x03) => point.len() == 1 + n,
                _ => false,
            };
            if !ok {
                return Err(invalid(format!(
                    "not a SEC1 point on the curve of {alg:?} (P-256 for ES256, P-384 for ES384)"
                )));
            }
        }
        _ => {}
    }
    (provider().verifier_factory)(&alg, decoding)
        .map(drop)
        .map_err(|_| {
            invalid(format!(
                "the crypto backend rejects this {alg:?} public key"
            ))
        })
}

/// RFC 7518 §3.3: "A key of size 2048 bits or larger MUST be used with these algorithms."
const MIN_RSA_BITS: usize = 2048;

/// The bit length of an RSA public key's modulus: from the JWK's `n`, or from the PKCS#1
/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }` DER that PEM and DER
/// keys hold. `None` if that DER does not start that way.
fn rsa_modulus_bits(decoding: &DecodingKey) -> Option<usize> {
    /// One DER element with this tag: its contents and what follows it.
    fn tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
        let (&t, rest) = input.split_first()?;
        if t != tag {
            return None;
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let (bytes, rest) = rest.split_at_checked(n)?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, rest)
        };
        rest.split_at_checked(len)
    }
    let n: &[u8] = match decoding.kind() {
        DecodingKeyKind::RsaModulusExponent { n, .. } => n,
        DecodingKeyKind::SecretOrDer(der) => {
            let (seq, _) = tlv(der, 0x30)?;
            tlv(seq, 0x02)?.0
        }
    };
    let start = n.iter().position(|b| *b != 0)?;
    let significant = n.get(start..)?;
    let top = significant.first()?;
    Some(significant.len() * 8 - top.leading_zeros() as usize)
}

/// Whether a 32-byte Ed25519 public key encodes one of the eight small-order points (in any of
/// their encodings, either sign bit) or a non-canonical `y >= p`: with such a key, signatures can
/// be forged without the private key. The list is libsodium's `has_small_order` blocklist.
fn ed25519_is_weak(key: &[u8; 32]) -> bool {
    const fn last(lo: u8) -> [u8; 32] {
        let mut b = [0xff; 32];
        b[0] = lo;
        b[31] = 0x7f;
        b
    }
    const ONE: [u8; 32] = {
        let mut b = [0; 32];
        b[0] = 1;
        b
    };
    const BLOCKED: [[u8; 32]; 7] = [
        // 0 (order 4)
        [0; 32],
        // 1 (order 1)
        ONE,
        // order 8
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef,
            0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88,
            0x6d, 0x53, 0xfc, 0x05,
        ],
        // order 8
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ],
        // p - 1 (order 2)
        last(0xec),
        // p (= 0, order 4)
        last(0xed),
        // p + 1 (= 1, order 1)
        last(0xee),
    ];
    let mut y = *key;
    y[31] &= 0x7f;
    // y >= p = 2^255 - 19: bytes 1..31 all 0xff, top byte 0x7f, low byte >= 0xed.
    let non_canonical = y[31] == 0x7f && y[1..31].iter().all(|b| *b == 0xff) && y[0] >= 0xed;
    non_canonical || BLOCKED.contains(&y)
}

fn key_algorithm(ka: KeyAlgorithm) -> Result<Algorithm, ConfigError> {
    Ok(match ka {
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        other => {
            return Err(ConfigError::UnsupportedAlgorithm(format!("{other:?}")));
        }
    })
}

/// A key ring: the keys a verifier accepts, selected by `kid`, and the key that signs.
///
/// # Which key verifies a token
///
/// The rule depends on whether any key in the ring has a `kid`:
///
/// * **Some key has a `kid`** (a JWKS, a rotation ring): selection is strict. A token with a
///   `kid` is verified only with the key of that id; an unknown `kid` is rejected
///   (`unknown_key`). A token without a `kid` is verified with the ring's default key: the first
///   key added, or the one named by [`Keys::signing_kid`] (only that key: another key is never
///   tried).
/// * **No key has a `kid`** (a secret, a PEM or DER key, several of them): the token's `kid`,
///   whatever it says, is not used; this is what jsonwebtoken, PyJWT and jose do with the key they
///   were given, and what lets an identity provider's tokens (which always name a `kid`) verify
///   against its public key given as PEM. The key is chosen by the token's `alg`: the default key
///   if `alg` is its algorithm, otherwise the one key whose algorithm `alg` is. If no key has that
///   algorithm the token is rejected (`algorithm_not_allowed`); if two or more keys other than
///   the default have it, the choice would be a guess and the token is rejected (`unknown_key`):
///   give those keys a `kid` ([`Key::with_kid`]).
///
/// Either way the token's `alg` must equal the selected key's algorithm exactly: each key is
/// pinned to one algorithm by the server, so `none`, an HMAC token against an RSA key and
/// `PS256` against an `RS256` key are all rejected (`algorithm_not_allowed`), and nothing is
/// ever fetched because a token's header says so.
///
/// Cloning is cheap (the ring is shared). `Debug` never shows key material.
///
/// ```
/// use tower_jwt_auth::{Algorithm, Key, Keys};
///
/// // simplejwt's default: one HS256 secret (Django's SECRET_KEY), no kid.
/// let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
///
/// // Rotation: tokens name their key with `kid`; new tokens are signed with "2025-b".
/// let ring = Keys::from_keys([
///     Key::hmac(Algorithm::HS256, b"the-old-secret-still-32-bytes-long!!")?.with_kid("2025-a"),
///     Key::hmac(Algorithm::HS256, b"the-new-secret-also-32-bytes-long!!!")?.with_kid("2025-b"),
/// ])?
/// .signing_kid("2025-b")?;
/// # let _ = (keys, ring);
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
///
/// An identity provider's public key as PEM, without a `kid`: its tokens name one
/// (`"kid":"key-1"`), and verify all the same.
///
/// ```
/// use tower_jwt_auth::{Algorithm, Key, Keys, Verifier};
///
/// # let public_pem = include_str!("../../benches/fixtures/rsa_public.pem");
/// # let private_pem = include_str!("../../benches/fixtures/rsa_private.pem");
/// let keys = Keys::new(Key::rsa_pem(Algorithm::RS256, public_pem)?);
/// # let signer = Keys::new(Key::rsa_pem(Algorithm::RS256, public_pem)?
/// #     .with_private_pem(private_pem)?.with_kid("key-1"));
/// # let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
/// # let token = signer.encode(&serde_json::json!({"sub": "alice", "exp": now + 60}))?;
/// let verifier = Verifier::jwt(keys);
/// // `token`'s header: {"alg":"RS256","kid":"key-1","typ":"JWT"}
/// let verified = verifier.verify::<serde_json::Value>(&token).expect("verifies");
/// assert_eq!(verified.claims["sub"], "alice");
/// # Ok::<(), tower_jwt_auth::ConfigError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Keys {
    inner: Arc<Ring>,
}

#[derive(Debug)]
struct Ring {
    keys: Vec<Key>,
    by_kid: HashMap<Arc<str>, usize>,
    /// Index of the key for kid-less tokens.
    default: usize,
    /// Index of the key that signs new tokens.
    signing: usize,
    /// Only for a ring in which no key has a `kid`: for each algorithm other than the default
    /// key's, the one key of that algorithm (`None`: several, so a token of it is refused).
    by_alg: Box<[(Algorithm, Option<usize>)]>,
    /// The base64url headers that select the default key with its own algorithm and nothing
    /// else, as PyJWT and jsonwebtoken write them: a token whose header segment is one of these
    /// bytes exactly skips the header decode and parse (same outcome, fewer cycles).
    fast_headers: Box<[Box<[u8]>]>,
}

impl Ring {
    fn new(
        keys: Vec<Key>,
        by_kid: HashMap<Arc<str>, usize>,
        default: usize,
        signing: usize,
    ) -> Self {
        let fast_headers = keys
            .get(default)
            .map(fast_headers)
            .unwrap_or_default()
            .into_boxed_slice();
        let mut by_alg: Vec<(Algorithm, Option<usize>)> = Vec::new();
        if by_kid.is_empty() {
            let default_alg = keys.get(default).map(|k| k.alg);
            for (i, key) in keys.iter().enumerate() {
                if Some(key.alg) == default_alg {
                    continue;
                }
                match by_alg.iter_mut().find(|(alg, _)| *alg == key.alg) {
                    Some(entry) => entry.1 = None,
                    None => by_alg.push((key.alg, Some(i))),
                }
            }
        }
        Self {
            keys,
            by_kid,
            default,
            signing,
            by_alg: by_alg.into_boxed_slice(),
            fast_headers,
        }
    }
}

/// The usual encodings of a header naming `key` (by its `kid`, or no `kid` at all) and its alg.
fn fast_headers(key: &Key) -> Vec<Box<[u8]>> {
    let alg = format!("{:?}", key.alg);
    let mut json = vec![
        format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
        format!(r#"{{"typ":"JWT","alg":"{alg}"}}"#),
    ];
    if let Some(kid) = &key.kid
        && let Ok(kid) = serde_json::to_string(&**kid)
    {
        json.push(format!(r#"{{"alg":"{alg}","kid":{kid},"typ":"JWT"}}"#));
        json.push(format!(r#"{{"typ":"JWT","alg":"{alg}","kid":{kid}}}"#));
    }
    json.into_iter()
        .map(|j| URL_SAFE_NO_PAD.encode(j).into_bytes().into_boxed_slice())
        .collect()
}

impl Keys {
    /// A ring of one HS256 key (simplejwt's default algorithm).
    ///
    /// # Errors
    /// [`ConfigError::WeakSecret`] if the secret is shorter than 32 bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, ConfigError> {
        Self::from_keys([Key::hmac(Algorithm::HS256, secret)?])
    }

    /// A ring of one key.
    pub fn new(key: Key) -> Self {
        let mut by_kid = HashMap::new();
        if let Some(kid) = &key.kid {
            by_kid.insert(Arc::clone(kid), 0);
        }
        Self {
            inner: Arc::new(Ring::new(vec![key], by_kid, 0, 0)),
        }
    }

    /// A ring of several keys. The first is the default (for kid-less tokens) and signs.
    ///
    /// # Errors
    /// [`ConfigError::NoKeys`] for an empty list, [`ConfigError::DuplicateKid`] if two keys share
    /// a `kid`.
    pub fn from_keys(keys: impl IntoIterator<Item = Key>) -> Result<Self, ConfigError> {
        let keys: Vec<Key> = keys.into_iter().collect();
        if keys.is_empty() {
            return Err(ConfigError::NoKeys);
        }
        let mut by_kid = HashMap::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            if let Some(kid) = &k.kid
                && by_kid.insert(Arc::clone(kid), i).is_some()
            {
                return Err(ConfigError::DuplicateKid(kid.to_string()));
            }
        }
        Ok(Self {
            inner: Arc::new(Ring::new(keys, by_kid, 0, 0)),
        })
    }

    /// A ring from a JWKS document (`{"keys":[…]}`). Nothing is ever fetched.
    ///
    /// Keys this crate cannot pin to a signature algorithm are skipped: keys for encryption
    /// (`use: enc`), keys without `alg`, keys whose `alg` is not a supported signature algorithm
    /// (`RSA-OAEP`, `ES512`, …) and key types other than `oct`, `RSA`, `EC` and `OKP`. Every
    /// other key must load as [`Key::from_jwk`] would load it: a short `oct` secret, an `alg` of
    /// another family than the key type (an `oct` key claiming `RS256`), a wrong curve or broken
    /// key material fails the whole document rather than silently dropping that key.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] for JSON that is not a JWKS, any error of [`Key::from_jwk`] for
    /// a key that is not skipped, [`ConfigError::NoKeys`] if no usable key remains,
    /// [`ConfigError::DuplicateKid`] for a repeated `kid`.
    pub fn from_jwks_json(json: &str) -> Result<Self, ConfigError> {
        let set: JwkSet = serde_json::from_str(json).map_err(|_| invalid("not a JWKS document"))?;
        Self::from_jwks(&set)
    }

    /// A ring from a parsed JWKS. See [`Keys::from_jwks_json`].
    ///
    /// # Errors
    /// As [`Keys::from_jwks_json`].
    pub fn from_jwks(set: &JwkSet) -> Result<Self, ConfigError> {
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let skip = matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption))
                || jwk
                    .common
                    .key_algorithm
                    .is_none_or(|ka| key_algorithm(ka).is_err())
                || !matches!(
                    jwk.algorithm,
                    AlgorithmParameters::OctetKey(_)
                        | AlgorithmParameters::RSA(_)
                        | AlgorithmParameters::EllipticCurve(_)
                        | AlgorithmParameters::OctetKeyPair(_)
                );
            if !skip {
                keys.push(Key::from_jwk(jwk)?);
            }
        }
        Self::from_keys(keys)
    }

    /// Makes the key with this `kid` the one that signs new tokens and verifies kid-less ones.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if no key has this id.
    pub fn signing_kid(self, kid: &str) -> Result<Self, ConfigError> {
        let idx = *self
            .inner
            .by_kid
            .get(kid)
            .ok_or_else(|| invalid(format!("no key with kid {kid:?}")))?;
        let ring = Ring::new(self.inner.keys.clone(), self.inner.by_kid.clone(), idx, idx);
        Ok(Self {
            inner: Arc::new(ring),
        })
    }

    /// The keys, in the order they were added.
    pub fn keys(&self) -> &[Key] {
        &self.inner.keys
    }

    /// The key that signs new tokens.
    pub fn signing_key(&self) -> &Key {
        &self.inner.keys[self.inner.signing]
    }

    /// The default key, if `header_b64` is one of its usual headers byte for byte (see
    /// [`Ring::fast_headers`]); `None` means "decode and parse the header".
    #[inline]
    pub(crate) fn fast_header(&self, header_b64: &[u8]) -> Option<&Key> {
        if self.inner.fast_headers.iter().any(|h| **h == *header_b64) {
            self.inner.keys.get(self.inner.default)
        } else {
            None
        }
    }

    /// The fast headers, for tests.
    #[cfg(test)]
    pub(crate) fn fast_header_list(&self) -> impl Iterator<Item = &[u8]> {
        self.inner.fast_headers.iter().map(|h| &**h)
    }

    /// Selects the key for a token whose header names `kid` (if any) and `alg` (`None`: not an
    /// algorithm this crate knows), by the rule in the [type docs](Keys). The caller still checks
    /// that `alg` is the selected key's algorithm.
    ///
    /// # Errors
    /// [`AuthErrorKind::UnknownKey`] for a `kid` no key has (in a ring with kids), or for an
    /// algorithm several kid-less keys share (in a ring without).
    #[inline]
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Option<Algorithm>,
    ) -> Result<&Key, AuthErrorKind> {
        let ring = &*self.inner;
        let default = ring.keys.get(ring.default).ok_or(AuthErrorKind::UnknownKey);
        if ring.by_kid.is_empty() {
            // No key has a kid: the token's is not used; its algorithm picks the key.
            let Some(alg) = alg else { return default };
            if default.is_ok_and(|k| k.alg == alg) {
                return default;
            }
            return match ring.by_alg.iter().find(|(a, _)| *a == alg) {
                Some((_, Some(i))) => ring.keys.get(*i).ok_or(AuthErrorKind::UnknownKey),
                Some((_, None)) => Err(AuthErrorKind::UnknownKey),
                // No key of that algorithm: the caller's alg check refuses it.
                None => default,
            };
        }
        match kid {
            Some(kid) => ring
                .by_kid
                .get(kid)
                .and_then(|&i| ring.keys.get(i))
                .ok_or(AuthErrorKind::UnknownKey),
            None => default,
        }
    }
}

impl From<Key> for Keys {
    fn from(key: Key) -> Self {
        Self::new(key)
    }
}

impl Keys {
    /// Signs `claims` with the signing key, as PyJWT does: the header is compact JSON with sorted
    /// keys, `{"alg":"HS256","typ":"JWT"}` (plus `"kid"` when the key has one), the payload is the
    /// compact JSON of `claims` in its own field order.
    ///
    /// # Errors
    /// [`ConfigError::InvalidKey`] if the signing key cannot sign (a public key without
    /// [`Key::with_private_pem`]) or the claims do not serialize.
    pub fn encode<T: serde::Serialize>(&self, claims: &T) -> Result<String, ConfigError> {
        let key = self.signing_key();
        let payload = serde_json::to_vec(claims).map_err(|e| invalid(format!("claims: {e}")))?;
        let alg = format!("{:?}", key.alg);
        let header = match &key.kid {
            Some(kid) => serde_json::to_vec(&serde_json::json!({
                "alg": alg, "kid": &**kid, "typ": "JWT"
            })),
            None => serde_json::to_vec(&serde_json::json!({ "alg": alg, "typ": "JWT" })),
        }
        .map_err(|e| invalid(format!("header: {e}")))?;
        let mut out = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 100);
        URL_SAFE_NO_PAD.encode_string(&header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        let sig = key
            .sign(out.as_bytes())
            .ok_or_else(|| invalid("the signing key has no private part"))?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            Key::hmac(Algorithm::HS256, b"short").err(),
            Some(ConfigError::WeakSecret {
                min_bytes: 32,
                got_bytes: 5
            })
        );
        assert!(Key::hmac(Algorithm::HS512, [7u8; 63]).is_err());
        assert!(Key::hmac(Algorithm::HS512, [7u8; 64]).is_ok());
    }

    #[test]
    fn algorithm_is_pinned_to_the_key_family() {
        assert!(Key::hmac(Algorithm::RS256, [1u8; 32]).is_err());
        assert!(matches!(
            Key::rsa_der(Algorithm::HS256, [0u8; 4]),
            Err(ConfigError::UnsupportedAlgorithm(_))
        ));
    }

    #[test]
    fn debug_redacts_material() {
        let k = Key::hmac(Algorithm::HS256, b"super-secret-value-that-is-32-bytes").expect("key");
        let s = format!("{:?}", Keys::new(k));
        assert!(!s.contains("super-secret"), "{s}");
        assert!(s.contains("redacted"));
    }

    #[test]
    fn duplicate_kids_are_refused() {
        let k = || {
            Key::hmac(Algorithm::HS256, [3u8; 32])
                .expect("key")
                .with_kid("a")
        };
        assert_eq!(
            Keys::from_keys([k(), k()]).err(),
            Some(ConfigError::DuplicateKid("a".into()))
        );
    }

    /// With AWS-LC the public key is parsed once, and verifies exactly as jsonwebtoken's
    /// provider (which parses on every call) does.
    #[cfg(feature = "aws-lc-rs")]
    #[test]
    fn parsed_aws_lc_keys_agree_with_the_provider() {
        let cases = [
            (
                Key::rsa_pem(
                    Algorithm::RS256,
                    include_bytes!("../../benches/fixtures/rsa_public.pem"),
                ),
                &include_bytes!("../../benches/fixtures/rsa_private.pem")[..],
            ),
            (
                Key::rsa_pem(
                    Algorithm::PS256,
                    include_bytes!("../../benches/fixtures/rsa_public.pem"),
                ),
                &include_bytes!("../../benches/fixtures/rsa_private.pem")[..],
            ),
            (
                Key::ec_pem(
                    Algorithm::ES256,
                    include_bytes!("../../benches/fixtures/ec256_public.pem"),
                ),
                &include_bytes!("../../benches/fixtures/ec256_private.pem")[..],
            ),
            (
                Key::ec_pem(
                    Algorithm::ES384,
                    include_bytes!("../../benches/fixtures/ec384_public.pem"),
                ),
                &include_bytes!("../../benches/fixtures/ec384_private.pem")[..],
            ),
            (
                Key::ed_pem(include_bytes!("../../benches/fixtures/ed25519_public.pem")),
                &include_bytes!("../../benches/fixtures/ed25519_private.pem")[..],
            ),
        ];
        for (key, private) in cases {
            let key = key
                .expect("public key")
                .with_private_pem(private)
                .expect("pair");
            let Material::Asymmetric {
                decoding, parsed, ..
            } = &key.material
            else {
                panic!("asymmetric")
            };
            assert!(parsed.is_some(), "{:?} parsed once", key.alg);
            let provider = |msg: &[u8], sig: &[u8]| {
                (provider().verifier_factory)(&key.alg, decoding)
                    .map(|v| v.verify(msg, &sig.to_vec()).is_ok())
                    .unwrap_or(false)
            };
            let sig = key.sign(b"message").expect("signs");
            let mut bad = sig.clone();
            bad[0] ^= 1;
            for (msg, sig) in [
                (&b"message"[..], &sig[..]),
                (b"massage", &sig),
                (b"message", &bad),
                (b"message", &sig[..sig.len() - 1]),
                (b"message", &[]),
            ] {
                assert_eq!(key.verify(msg, sig), provider(msg, sig), "{:?}", key.alg);
            }
            assert!(key.verify(b"message", &sig));
        }
        // A P-384 key pinned to ES256 is refused when built, before any parse of ours.
        assert!(
            Key::ec_pem(
                Algorithm::ES256,
                include_bytes!("../../benches/fixtures/ec384_public.pem"),
            )
            .is_err()
        );
    }
}
