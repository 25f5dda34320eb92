//! Stored-hash parsing (Django's `pbkdf2_sha256$…`, `argon2$…`, PHC `$argon2…`, unusable `!…`):
//! never a panic; the classifications agree with one another; and a Django PBKDF2 hash built
//! from fuzzed iterations, salt and password verifies with that password only.
#![no_main]

use std::sync::LazyLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use tower_jwt_auth::__fuzz::{is_well_formed_hash, verify_stored};
use tower_jwt_auth::password::{HashCostLimits, HashKind, PasswordHasher, StoredHashError};

static HASHER: LazyLock<PasswordHasher> = LazyLock::new(PasswordHasher::new);

/// Small enough that verifying a fuzzed hash is cheap.
const TINY: HashCostLimits = HashCostLimits {
    pbkdf2_iterations: 64,
    argon2_memory_kib: 64,
    argon2_iterations: 2,
    argon2_parallelism: 2,
    argon2_work_kib: 128,
};

fn built_pbkdf2(data: &[u8]) {
    let [it, rest @ ..] = data else {
        return;
    };
    let iterations = u32::from(*it % 32) + 1;
    let split = rest.iter().position(|b| *b == 0).unwrap_or(rest.len());
    let (salt, password) = (&rest[..split], rest.get(split + 1..).unwrap_or_default());
    // Django's salts are alphanumeric; any text without `$` is one here.
    let salt: String = String::from_utf8_lossy(salt).replace('$', "");
    if salt.is_empty() {
        return;
    }
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt.as_bytes(), iterations, &mut out);
    let b64 = base64::engine::general_purpose::STANDARD.encode(out);
    let hash = format!("pbkdf2_sha256${iterations}${salt}${b64}");
    assert_eq!(verify_stored(&hash, password, &TINY), Ok(true), "{hash}");
    let mut wrong = password.to_vec();
    wrong.push(b'x');
    assert_eq!(verify_stored(&hash, &wrong, &TINY), Ok(false));
    assert!(HASHER.check_stored(&hash).is_ok());
    assert!(PasswordHasher::is_supported(&hash));
    assert!(HASHER.needs_upgrade(&hash));
    assert_eq!(HashKind::of(&hash), Some(HashKind::DjangoPbkdf2Sha256));
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 0x80 != 0 {
        built_pbkdf2(rest);
        return;
    }
    let Ok(hash) = std::str::from_utf8(rest) else {
        return;
    };
    let kind = HashKind::of(hash);
    let checked = HASHER.check_stored(hash);
    let supported = PasswordHasher::is_supported(hash);
    let well_formed = is_well_formed_hash(hash);
    let _ = HASHER.needs_upgrade(hash);
    // Default hasher = default limits: `check_stored` and `is_supported` agree.
    assert_eq!(checked.is_ok(), supported, "{hash:?}");
    // Within any limits implies well formed; over the ceiling implies well formed too.
    if supported || matches!(checked, Err(StoredHashError::OverCostCeiling(_))) {
        assert!(well_formed, "{hash:?}");
    }
    if kind.is_none() {
        assert!(!well_formed && matches!(checked, Err(StoredHashError::Unsupported(_))));
    }
    if kind == Some(HashKind::Unusable) {
        assert!(supported && well_formed);
        assert!(!HASHER.needs_upgrade(hash));
    }
    // The messages never carry the hash: only a short printable name, or the costs.
    match &checked {
        Err(StoredHashError::Unsupported(name)) => assert!(
            name == "?"
                || (name.len() <= 32
                    && !name.contains('$')
                    && hash.split('$').next() == Some(name.as_str())),
            "{name:?}"
        ),
        Err(StoredHashError::OverCostCeiling(what)) => assert!(!what.contains('$'), "{what}"),
        _ => {}
    }
    // Verifying within tiny limits: never a panic; a parsed hash answers true or false.
    let _ = verify_stored(hash, b"password", &TINY);
});
