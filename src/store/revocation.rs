//! The revocation state machine shared by the memory and file revocation stores.
//!
//! Every token the store knows is an entry `jti → (exp, family, revoked)`. A family is named by
//! the `jti` of its first token; rotation puts the new token in the old one's family; reusing a
//! revoked token revokes the family. Operations are planned as a list of [`Change`]s (what the
//! file store appends to its log) and then applied, so the file store can make a change durable
//! before it becomes visible.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Rotation, StoreError};
use crate::verify::MAX_LEEWAY_SECS;

/// Entries are kept this long past their `exp`, so a verifier with the largest leeway still
/// sees them revoked.
const GRACE_SECS: i64 = MAX_LEEWAY_SECS as i64;

/// The longest `jti` accepted (simplejwt's are 32 hex digits).
pub(crate) const MAX_JTI_LEN: usize = 255;

/// One state change, as applied in memory and as logged by the file store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum Change {
    /// `jti` is revoked until `exp`, a member of `fam`.
    Revoked { jti: String, exp: i64, fam: String },
    /// `jti` is live until `exp`, a member of `fam` (recorded at rotation).
    Live { jti: String, exp: i64, fam: String },
    /// Family `fam` is revoked until `exp`.
    Family { fam: String, exp: i64 },
}

struct Entry {
    exp: i64,
    family: Arc<str>,
    revoked: bool,
}

struct Family {
    exp: i64,
    revoked: bool,
}

#[derive(Default)]
pub(crate) struct RevState {
    entries: HashMap<Arc<str>, Entry>,
    families: HashMap<Arc<str>, Family>,
    entry_expiry: BinaryHeap<Reverse<(i64, Arc<str>)>>,
    family_expiry: BinaryHeap<Reverse<(i64, Arc<str>)>>,
}

pub(crate) fn check_jti(jti: &str) -> Result<(), StoreError> {
    if jti.is_empty() {
        return Err(StoreError::Invalid("empty jti".into()));
    }
    if jti.len() > MAX_JTI_LEN {
        return Err(StoreError::Invalid(format!(
            "jti longer than {MAX_JTI_LEN} bytes"
        )));
    }
    Ok(())
}

impl RevState {
    pub(crate) fn is_revoked(&self, jti: &str) -> bool {
        self.entries
            .get(jti)
            .is_some_and(|e| e.revoked || self.families.get(&e.family).is_some_and(|f| f.revoked))
    }

    /// Live entries (revoked or not) currently held.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    fn family_of(&self, jti: &str) -> String {
        self.entries
            .get(jti)
            .map_or_else(|| jti.to_owned(), |e| e.family.to_string())
    }

    /// Plans `revoke_if_absent`: `(true, changes)` if `jti` was live.
    pub(crate) fn plan_revoke(&self, jti: &str, exp: i64) -> (bool, Vec<Change>) {
        if self.is_revoked(jti) {
            return (false, Vec::new());
        }
        let exp = self.entries.get(jti).map_or(exp, |e| e.exp.max(exp));
        let fam = self.family_of(jti);
        (
            true,
            vec![Change::Revoked {
                jti: jti.to_owned(),
                exp,
                fam,
            }],
        )
    }

    /// Plans `rotate`.
    pub(crate) fn plan_rotate(
        &self,
        old: &str,
        old_exp: i64,
        new: &str,
        new_exp: i64,
    ) -> Result<(Rotation, Vec<Change>), StoreError> {
        if old == new {
            return Err(StoreError::Invalid(
                "the new jti must differ from the old one".into(),
            ));
        }
        let fam = self.family_of(old);
        if self.is_revoked(old) {
            let family = self.families.get(fam.as_str());
            if family.is_some_and(|f| f.revoked) {
                return Ok((Rotation::Reused, Vec::new()));
            }
            // A family's exp is the latest exp of its members, so revoking it until then
            // covers every member.
            let exp = family.map_or(old_exp, |f| f.exp).max(old_exp);
            return Ok((Rotation::Reused, vec![Change::Family { fam, exp }]));
        }
        if self.entries.contains_key(new) {
            return Err(StoreError::Conflict("the new jti is already known".into()));
        }
        let old_exp = self
            .entries
            .get(old)
            .map_or(old_exp, |e| e.exp.max(old_exp));
        Ok((
            Rotation::Rotated,
            vec![
                Change::Revoked {
                    jti: old.to_owned(),
                    exp: old_exp,
                    fam: fam.clone(),
                },
                Change::Live {
                    jti: new.to_owned(),
                    exp: new_exp,
                    fam,
                },
            ],
        ))
    }

    pub(crate) fn apply(&mut self, change: &Change) {
        match change {
            Change::Revoked { jti, exp, fam } => self.put(jti, *exp, fam, true),
            Change::Live { jti, exp, fam } => self.put(jti, *exp, fam, false),
            Change::Family { fam, exp } => {
                let key = self.family_key(fam);
                let f = self.families.entry(Arc::clone(&key)).or_insert(Family {
                    exp: *exp,
                    revoked: true,
                });
                f.revoked = true;
                if *exp >= f.exp {
                    f.exp = *exp;
                    self.family_expiry.push(Reverse((*exp, key)));
                }
            }
        }
    }

    fn family_key(&self, fam: &str) -> Arc<str> {
        self.families
            .get_key_value(fam)
            .map_or_else(|| Arc::from(fam), |(k, _)| Arc::clone(k))
    }

    fn put(&mut self, jti: &str, exp: i64, fam: &str, revoked: bool) {
        let fam_key = self.family_key(fam);
        let jti_key: Arc<str> = Arc::from(jti);
        self.entries.insert(
            Arc::clone(&jti_key),
            Entry {
                exp,
                family: Arc::clone(&fam_key),
                revoked,
            },
        );
        self.entry_expiry.push(Reverse((exp, jti_key)));
        let f = self.families.entry(Arc::clone(&fam_key)).or_insert(Family {
            exp,
            revoked: false,
        });
        if exp >= f.exp {
            f.exp = exp;
            self.family_expiry.push(Reverse((exp, fam_key)));
        }
    }

    /// Forgets entries and families whose `exp` (plus the leeway grace) has passed. Amortised
    /// O(log n) per expired item.
    pub(crate) fn prune(&mut self, now: i64) {
        let cutoff = now.saturating_sub(GRACE_SECS);
        while let Some(Reverse((exp, _))) = self.entry_expiry.peek() {
            if *exp >= cutoff {
                break;
            }
            let Some(Reverse((exp, jti))) = self.entry_expiry.pop() else {
                break;
            };
            if self.entries.get(&jti).is_some_and(|e| e.exp == exp) {
                self.entries.remove(&jti);
            }
        }
        while let Some(Reverse((exp, _))) = self.family_expiry.peek() {
            if *exp >= cutoff {
                break;
            }
            let Some(Reverse((exp, fam))) = self.family_expiry.pop() else {
                break;
            };
            if self.families.get(&fam).is_some_and(|f| f.exp == exp) {
                self.families.remove(&fam);
            }
        }
    }

    /// The changes that rebuild this state from nothing (the file store's compacted log).
    pub(crate) fn snapshot(&self) -> Vec<Change> {
        let mut out: Vec<Change> = self
            .entries
            .iter()
            .map(|(jti, e)| {
                let (jti, exp, fam) = (jti.to_string(), e.exp, e.family.to_string());
                if e.revoked {
                    Change::Revoked { jti, exp, fam }
                } else {
                    Change::Live { jti, exp, fam }
                }
            })
            .collect();
        out.extend(
            self.families
                .iter()
                .filter(|(_, f)| f.revoked)
                .map(|(fam, f)| Change::Family {
                    fam: fam.to_string(),
                    exp: f.exp,
                }),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(state: &mut RevState, changes: &[Change]) {
        for c in changes {
            state.apply(c);
        }
    }

    #[test]
    fn rotation_chain_and_reuse_revoke_the_family() {
        let mut s = RevState::default();
        let (r, c) = s.plan_rotate("a", 100, "b", 200).expect("plan");
        assert_eq!(r, Rotation::Rotated);
        run(&mut s, &c);
        let (r, c) = s.plan_rotate("b", 200, "c", 300).expect("plan");
        assert_eq!(r, Rotation::Rotated);
        run(&mut s, &c);
        assert!(s.is_revoked("a") && s.is_revoked("b") && !s.is_revoked("c"));
        // Reuse of "a": the whole family, including the live "c", is revoked until 300.
        let (r, c) = s.plan_rotate("a", 100, "x", 400).expect("plan");
        assert_eq!(r, Rotation::Reused);
        assert_eq!(
            c,
            vec![Change::Family {
                fam: "a".into(),
                exp: 300
            }]
        );
        run(&mut s, &c);
        assert!(s.is_revoked("c"));
        assert!(
            !s.is_revoked("x"),
            "the would-be new token was never recorded"
        );
        // A second reuse changes nothing more.
        let (r, c) = s.plan_rotate("c", 300, "y", 400).expect("plan");
        assert_eq!((r, c.len()), (Rotation::Reused, 0));
    }

    #[test]
    fn pruning_keeps_entries_through_the_leeway_grace() {
        let mut s = RevState::default();
        let (_, c) = s.plan_revoke("a", 1_000);
        run(&mut s, &c);
        s.prune(1_000 + GRACE_SECS);
        assert!(s.is_revoked("a"));
        s.prune(1_001 + GRACE_SECS);
        assert!(!s.is_revoked("a"));
        assert_eq!(s.len(), 0);
        assert!(s.families.is_empty());
        assert!(s.entry_expiry.is_empty() && s.family_expiry.is_empty());
    }

    #[test]
    fn snapshot_rebuilds_the_same_answers() {
        let mut s = RevState::default();
        for (old, new) in [("a", "b"), ("b", "c"), ("d", "e")] {
            let (_, c) = s.plan_rotate(old, 100, new, 200).expect("plan");
            run(&mut s, &c);
        }
        let (_, c) = s.plan_rotate("a", 100, "z", 200).expect("plan");
        run(&mut s, &c);
        let (_, c) = s.plan_revoke("solo", 150);
        run(&mut s, &c);
        let mut t = RevState::default();
        run(&mut t, &s.snapshot());
        for jti in ["a", "b", "c", "d", "e", "solo", "z", "nope"] {
            assert_eq!(s.is_revoked(jti), t.is_revoked(jti), "{jti}");
        }
        assert!(t.is_revoked("c") && !t.is_revoked("e"));
    }
}
