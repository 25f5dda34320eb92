//! Where a [`Verifier`](super::Verifier)'s keys come from: a fixed [`Keys`] ring, or (the
//! `remote-keys` feature) a [`RemoteKeys`](super::RemoteKeys) source refreshed in the background.
//!
//! ```
//! use tower_jwt_auth::{KeySource, Keys, Verifier};
//!
//! let keys = Keys::hs256(b"a-long-random-secret-of-at-least-32-bytes!")?;
//! // Every policy constructor takes a `KeySource`: bare `Keys` convert into one.
//! let source: KeySource = keys.clone().into();
//! let verifier = Verifier::jwt(source);
//! assert_eq!(verifier.keys().keys().len(), keys.keys().len());
//! # Ok::<(), tower_jwt_auth::ConfigError>(())
//! ```

use super::keys::{Key, Keys};

/// The keys a verifier uses: a fixed ring ([`Keys`], [`Key`]) or a remote source
/// ([`RemoteKeys`](super::RemoteKeys), with the `remote-keys` feature). Every policy constructor
/// of [`Verifier`](super::Verifier) takes `impl Into<KeySource>`.
#[derive(Clone, Debug)]
pub struct KeySource {
    /// The fixed ring, or a remote source's ring when the verifier was built.
    pub(crate) keys: Keys,
    /// The remote source, read on every verification.
    #[cfg(feature = "remote-keys")]
    pub(crate) remote: Option<super::remote::RemoteKeys>,
}

impl From<Keys> for KeySource {
    fn from(keys: Keys) -> Self {
        Self {
            keys,
            #[cfg(feature = "remote-keys")]
            remote: None,
        }
    }
}

impl From<Key> for KeySource {
    fn from(key: Key) -> Self {
        Keys::new(key).into()
    }
}

#[cfg(feature = "remote-keys")]
impl From<super::remote::RemoteKeys> for KeySource {
    fn from(remote: super::remote::RemoteKeys) -> Self {
        Self {
            keys: (*remote.keys()).clone(),
            remote: Some(remote),
        }
    }
}

#[cfg(feature = "remote-keys")]
impl From<&super::remote::RemoteKeys> for KeySource {
    fn from(remote: &super::remote::RemoteKeys) -> Self {
        remote.clone().into()
    }
}
