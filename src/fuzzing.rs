//! Thin entry points into the crate's internal parsers for the fuzz targets in `fuzz/` (feature
//! `fuzzing`).
//!
//! **Not part of the API**: hidden from the docs, outside semver, changed or removed in any
//! release. Nothing here is needed to use the crate; do not enable the feature in a build that
//! serves traffic.

use std::borrow::Cow;

use http::{HeaderMap, HeaderName};
use serde::de::DeserializeOwned;

use crate::error::AuthErrorKind;
use crate::layer::bearer::Extractor;
use crate::verify::payload::{self, Outcome};
use crate::verify::registered::{self, Audience, ClaimNames};

/// The registered claims a payload reader produced, owned and comparable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisteredClaims {
    /// `exp`, floored.
    pub exp: Option<i64>,
    /// `nbf`, rounded up.
    pub nbf: Option<i64>,
    /// `iat`, floored.
    pub iat: Option<i64>,
    /// `refresh_exp`, floored.
    pub refresh_exp: Option<i64>,
    /// The `jti` claim (under its configured name).
    pub jti: Option<String>,
    /// The token type claim (under its configured name).
    pub token_type: Option<String>,
    /// `Some(true)`: a usable user id; `Some(false)`: present but unusable; `None`: absent.
    pub user_id_ok: Option<bool>,
    /// The usable user id, as a string.
    pub user_id: Option<String>,
    /// `aud`: `None` absent, `Some(Err(s))` one string, `Some(Ok(list))` an array.
    pub aud: Option<Result<Vec<String>, String>>,
    /// `iss`.
    pub iss: Option<String>,
}

impl From<&registered::Registered<'_>> for RegisteredClaims {
    fn from(r: &registered::Registered<'_>) -> Self {
        let s = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::to_owned);
        Self {
            exp: r.exp,
            nbf: r.nbf,
            iat: r.iat,
            refresh_exp: r.refresh_exp,
            jti: s(&r.jti),
            token_type: s(&r.token_type),
            user_id_ok: r.user_id_ok,
            user_id: r.user_id_string(),
            aud: match &r.aud {
                Audience::Absent => None,
                Audience::One(a) => Some(Err(a.to_string())),
                Audience::Many(v) => Some(Ok(v.iter().map(|a| a.to_string()).collect())),
            },
            iss: s(&r.iss),
        }
    }
}

/// The configurable claim names (`user_id`, `token_type`, `jti` by default).
#[derive(Clone, Debug)]
pub struct Names {
    /// The user id claim.
    pub user_id: String,
    /// The token type claim.
    pub token_type: String,
    /// The token id claim.
    pub jti: String,
}

impl Default for Names {
    fn default() -> Self {
        Self {
            user_id: "user_id".into(),
            token_type: "token_type".into(),
            jti: "jti".into(),
        }
    }
}

impl Names {
    fn claim_names(&self) -> ClaimNames {
        ClaimNames {
            user_id: Cow::Owned(self.user_id.clone()),
            token_type: Cow::Owned(self.token_type.clone()),
            jti: Cow::Owned(self.jti.clone()),
        }
    }
}

/// What the verifier's fused payload pass produced.
#[derive(Debug)]
pub enum Fused<C> {
    /// `C` and the registered claims, in one pass.
    Both(C, RegisteredClaims),
    /// `C` only: the registered claims come from the two-pass reader.
    ClaimsOnly(C),
    /// The pass stepped aside: the two-pass reader decides.
    Failed,
}

/// The verifier's one-pass reader of `C` and the registered claims.
pub fn fused_pass<C: DeserializeOwned>(payload: &[u8], names: &Names) -> Fused<C> {
    let names = names.claim_names();
    let mut reg = registered::Registered::default();
    match payload::parse_into::<C>(payload, &names, &mut reg) {
        Outcome::Both(c) => Fused::Both(c, RegisteredClaims::from(&reg)),
        Outcome::ClaimsOnly(c) => Fused::ClaimsOnly(c),
        Outcome::Failed => Fused::Failed,
    }
}

/// The verifier's registered-claims reader (the two-pass path's first pass).
///
/// # Errors
/// The error kind the verifier reports for this payload.
pub fn registered_claims(payload: &[u8], names: &Names) -> Result<RegisteredClaims, AuthErrorKind> {
    registered::parse_registered(payload, &names.claim_names()).map(|r| RegisteredClaims::from(&r))
}

/// The layer's credential extractor, configured.
///
/// # Errors
/// The extractor's error kind (two headers, a malformed `Authorization` value, two cookies…).
pub fn extract_credentials<'r>(
    headers: &'r HeaderMap,
    header: HeaderName,
    schemes: &[&str],
    case_sensitive: bool,
    cookie: Option<&str>,
) -> Result<Option<&'r [u8]>, AuthErrorKind> {
    let ex = Extractor {
        header,
        schemes: schemes.iter().map(|s| Box::from(*s)).collect(),
        case_sensitive,
        cookie: cookie.map(Box::from),
    };
    ex.extract(headers).map_err(|e| e.kind())
}

#[cfg(feature = "token")]
pub use self::token::*;

#[cfg(feature = "token")]
mod token {
    use crate::password::{HashCostLimits, PasswordHasher, StoredHashError};
    use crate::store::{StoreError, User};
    use crate::token::parse::{self, ParseFailure};

    /// Why a token endpoint refused a body.
    #[derive(Debug, PartialEq, Eq)]
    pub enum BodyError {
        /// 415, with this message.
        Unsupported(String),
        /// 400 `{"detail": …}`.
        Detail(String),
        /// 400 `{"non_field_errors": […]}`.
        NonField(String),
    }

    /// The token endpoints' body parser (JSON, form, multipart by `Content-Type`).
    ///
    /// # Errors
    /// The refusal the endpoint answers with.
    pub fn parse_body(
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<serde_json::Map<String, serde_json::Value>, BodyError> {
        parse::parse_body(content_type, body).map_err(|e| match e {
            ParseFailure::Unsupported(m) => BodyError::Unsupported(m),
            ParseFailure::Detail(m) => BodyError::Detail(m),
            ParseFailure::NonField(m) => BodyError::NonField(m),
        })
    }

    /// CPython's `json.loads` message for text serde_json refused.
    pub fn python_json_error(text: &str) -> String {
        parse::python_json_error(text)
    }

    /// DRF's `CharField` validation of one input value.
    ///
    /// # Errors
    /// DRF's message.
    pub fn char_field(v: Option<&serde_json::Value>) -> Result<String, &'static str> {
        parse::char_field(v)
    }

    /// Parses and verifies a stored hash synchronously, within `limits` (keep them small: the
    /// hash is computed).
    ///
    /// # Errors
    /// Why the hash cannot be verified.
    pub fn verify_stored(
        hash: &str,
        password: &[u8],
        limits: &HashCostLimits,
    ) -> Result<bool, StoredHashError> {
        crate::password::verify_stored_sync(hash, password, limits)
    }

    /// Whether a store loading its own file accepts `hash` (any cost).
    pub fn is_well_formed_hash(hash: &str) -> bool {
        PasswordHasher::is_well_formed(hash)
    }

    /// A user table as the file and memory user stores hold it.
    #[derive(Clone)]
    pub struct UserTable(crate::store::users::Users);

    impl std::fmt::Debug for UserTable {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("UserTable")
                .field("len", &self.0.len())
                .finish()
        }
    }

    impl Default for UserTable {
        fn default() -> Self {
            Self(crate::store::users::Users::new())
        }
    }

    impl UserTable {
        /// Reads a user file's bytes as [`FileUserStore`](crate::store::FileUserStore) does.
        ///
        /// # Errors
        /// What the store reports for this file.
        pub fn load(bytes: &[u8]) -> Result<Self, StoreError> {
            crate::store::file::parse_users(bytes, std::path::Path::new("users.json")).map(Self)
        }

        /// The bytes the file store would write for this table.
        ///
        /// # Errors
        /// A serialisation failure.
        pub fn to_file_bytes(&self) -> Result<Vec<u8>, StoreError> {
            crate::store::file::to_json(&self.0)
        }

        /// Imports `manage.py dumpdata auth.user` JSON (all or nothing).
        ///
        /// # Errors
        /// Why the dump was refused (the table is then unchanged).
        pub fn import_django(
            &mut self,
            json: &str,
            hasher: &PasswordHasher,
        ) -> Result<Vec<User>, StoreError> {
            self.0.import_django(json, hasher)
        }

        /// The users, sorted as the file lists them.
        pub fn list(&self) -> Vec<User> {
            self.0.list()
        }

        /// The user with this username.
        pub fn get_by_username(&self, username: &str) -> Option<User> {
            self.0.get_by_username(username).cloned()
        }

        /// The user with this id.
        pub fn get(&self, id: &str) -> Option<User> {
            self.0.get(&crate::UserId::from(id)).cloned()
        }

        /// Adds a user with the next sequential id (its id).
        ///
        /// # Errors
        /// A refused username, or a conflict.
        pub fn add(&mut self, username: &str, hash: &str) -> Result<String, StoreError> {
            self.0
                .add(username, hash.to_owned(), true)
                .map(|u| u.id.as_str().to_owned())
        }
    }

    /// A revocation state, as the file revocation store rebuilds it from its log.
    pub struct RevocationLog(crate::store::revocation::RevState);

    impl std::fmt::Debug for RevocationLog {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("RevocationLog")
                .field("len", &self.0.len())
                .finish()
        }
    }

    impl RevocationLog {
        /// Replays a log's bytes as [`FileRevocationStore`](crate::store::FileRevocationStore)
        /// does on open (before pruning).
        ///
        /// # Errors
        /// What the store reports for this log.
        pub fn replay(bytes: &[u8]) -> Result<Self, StoreError> {
            let mut state = crate::store::revocation::RevState::default();
            crate::store::file::replay(bytes, &mut state)?;
            Ok(Self(state))
        }

        /// Forgets what expired before `now` (less the grace), as the store does on open.
        pub fn prune(&mut self, now: i64) {
            self.0.prune(now);
        }

        /// Whether `jti` is revoked.
        pub fn is_revoked(&self, jti: &str) -> bool {
            self.0.is_revoked(jti)
        }

        /// How many tokens are tracked.
        pub fn len(&self) -> usize {
            self.0.len()
        }

        /// Whether no token is tracked.
        pub fn is_empty(&self) -> bool {
            self.0.len() == 0
        }

        /// The compacted log the store writes for this state.
        ///
        /// # Errors
        /// A serialisation failure.
        pub fn snapshot_bytes(&self) -> Result<Vec<u8>, StoreError> {
            crate::store::file::snapshot_bytes(&self.0).map(|(bytes, _)| bytes)
        }
    }
}
