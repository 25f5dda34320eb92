//! The file stores' readers: the user file (`FileUserStore`) and the revocation log
//! (`FileRevocationStore`). Never a panic; what loads is written back and reloaded unchanged,
//! and a compacted log answers every query as the log it came from.
//!
//! Input: byte 0 even: a user file; odd: a revocation log.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tower_jwt_auth::__fuzz::{RevocationLog, UserTable};

fn users(bytes: &[u8]) {
    let Ok(table) = UserTable::load(bytes) else {
        return;
    };
    let written = table.to_file_bytes().expect("serialise");
    let again = UserTable::load(&written).expect("what the store writes, it reads");
    assert_eq!(
        again.to_file_bytes().expect("serialise"),
        written,
        "not a fixed point"
    );
    for u in table.list() {
        assert_eq!(
            again.get(u.id.as_str()).map(|v| v.username),
            Some(u.username.clone())
        );
        assert_eq!(again.get_by_username(&u.username).map(|v| v.id), Some(u.id));
    }
}

/// Every string that appears as a `jti` or `fam` in the log, and a few others.
fn names(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![String::new(), "a".into()];
    for line in bytes.split(|b| *b == b'\n') {
        if let Ok(serde_json::Value::Array(changes)) = serde_json::from_slice(line) {
            for c in changes {
                for k in ["jti", "fam"] {
                    if let Some(s) = c.get(k).and_then(|v| v.as_str()) {
                        out.push(s.to_owned());
                    }
                }
            }
        }
    }
    out
}

fn revocations(bytes: &[u8]) {
    let Ok(mut log) = RevocationLog::replay(bytes) else {
        return;
    };
    let snapshot = log.snapshot_bytes().expect("serialise");
    let replayed = RevocationLog::replay(&snapshot).expect("a compacted log replays");
    assert_eq!(replayed.len(), log.len());
    let names = names(bytes);
    for n in &names {
        assert_eq!(replayed.is_revoked(n), log.is_revoked(n), "{n:?}");
    }
    // Pruning at any time never panics and only forgets.
    for now in [i64::MIN, 0, 1_795_655_500, i64::MAX] {
        let before = log.len();
        log.prune(now);
        assert!(log.len() <= before);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, bytes)) = data.split_first() else {
        return;
    };
    if sel % 2 == 0 {
        users(bytes);
    } else {
        revocations(bytes);
    }
});
