//! The user table shared by the memory and file user stores: indexes, validation, Django import.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{StoreError, User};
use crate::password::PasswordHasher;
use crate::verify::UserId;

/// Django's `username` is a `CharField(max_length=150)`.
pub(crate) const MAX_USERNAME_LEN: usize = 150;

/// The on-disk form of the user table (`{"version":1,"next_id":N,"users":[…]}`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserFile {
    pub(crate) version: u32,
    pub(crate) next_id: u64,
    pub(crate) users: Vec<User>,
}

/// The schema version written and accepted.
pub(crate) const FILE_VERSION: u32 = 1;

/// Users indexed by id and by username.
#[derive(Clone, Default)]
pub(crate) struct Users {
    next_id: u64,
    by_id: HashMap<UserId, User>,
    by_name: HashMap<String, UserId>,
}

fn numeric_id(id: &UserId) -> Option<u64> {
    let s = id.as_str();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

pub(crate) fn check_username(username: &str) -> Result<(), StoreError> {
    if username.is_empty() {
        return Err(StoreError::Invalid("empty username".into()));
    }
    if username.chars().count() > MAX_USERNAME_LEN {
        return Err(StoreError::Invalid(format!(
            "username longer than {MAX_USERNAME_LEN} characters"
        )));
    }
    if username.chars().any(char::is_control) {
        return Err(StoreError::Invalid(
            "username contains control characters".into(),
        ));
    }
    Ok(())
}

impl Users {
    pub(crate) fn new() -> Self {
        Self {
            next_id: 1,
            ..Self::default()
        }
    }

    /// Validates and indexes a parsed file: schema version, unique ids and usernames, ids below
    /// `next_id`, supported hashes.
    pub(crate) fn from_file(file: UserFile) -> Result<Self, StoreError> {
        if file.version != FILE_VERSION {
            return Err(StoreError::Corrupt(format!(
                "unsupported version {} (this build reads version {FILE_VERSION})",
                file.version
            )));
        }
        if file.next_id == 0 {
            return Err(StoreError::Corrupt("next_id is 0".into()));
        }
        let mut users = Self {
            next_id: file.next_id,
            ..Self::default()
        };
        for (i, user) in file.users.into_iter().enumerate() {
            if user.id.as_str().is_empty() {
                return Err(StoreError::Corrupt(format!("user #{i}: empty id")));
            }
            if let Some(n) = numeric_id(&user.id)
                && n >= users.next_id
            {
                return Err(StoreError::Corrupt(format!(
                    "user id {} is not below next_id {}",
                    user.id, users.next_id
                )));
            }
            if user.username.is_empty() {
                return Err(StoreError::Corrupt(format!(
                    "user {}: empty username",
                    user.id
                )));
            }
            if !PasswordHasher::is_well_formed(&user.password_hash) {
                return Err(StoreError::Corrupt(format!(
                    "user {}: unsupported or malformed password hash",
                    user.id
                )));
            }
            users.insert_new(user).map_err(|e| match e {
                StoreError::Conflict(why) => StoreError::Corrupt(why),
                other => other,
            })?;
        }
        Ok(users)
    }

    /// The on-disk form, users sorted by id (numeric ids first, in numeric order).
    pub(crate) fn to_file(&self) -> UserFile {
        UserFile {
            version: FILE_VERSION,
            next_id: self.next_id,
            users: self.list(),
        }
    }

    fn insert_new(&mut self, user: User) -> Result<(), StoreError> {
        if self.by_id.contains_key(&user.id) {
            return Err(StoreError::Conflict(format!(
                "duplicate user id {}",
                user.id
            )));
        }
        if self.by_name.contains_key(&user.username) {
            return Err(StoreError::Conflict(format!(
                "username {:?} already exists",
                user.username
            )));
        }
        self.by_name.insert(user.username.clone(), user.id.clone());
        self.by_id.insert(user.id.clone(), user);
        Ok(())
    }

    pub(crate) fn get(&self, id: &UserId) -> Option<&User> {
        self.by_id.get(id)
    }

    pub(crate) fn get_by_username(&self, username: &str) -> Option<&User> {
        self.by_name.get(username).and_then(|id| self.by_id.get(id))
    }

    pub(crate) fn list(&self) -> Vec<User> {
        let mut users: Vec<User> = self.by_id.values().cloned().collect();
        users.sort_by(|a, b| {
            (numeric_id(&a.id).is_none(), numeric_id(&a.id), &a.id).cmp(&(
                numeric_id(&b.id).is_none(),
                numeric_id(&b.id),
                &b.id,
            ))
        });
        users
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Adds a user with the next sequential id.
    pub(crate) fn add(
        &mut self,
        username: &str,
        password_hash: String,
        is_active: bool,
    ) -> Result<User, StoreError> {
        check_username(username)?;
        if self.by_name.contains_key(username) {
            return Err(StoreError::Conflict(format!(
                "username {username:?} already exists"
            )));
        }
        let mut n = self.next_id;
        // Skip ids taken by non-sequential inserts (imports), never reuse one.
        while self.by_id.contains_key(&UserId::from(n.to_string())) {
            n = n
                .checked_add(1)
                .ok_or_else(|| StoreError::Other("user ids exhausted".into()))?;
        }
        let next = n
            .checked_add(1)
            .ok_or_else(|| StoreError::Other("user ids exhausted".into()))?;
        let user = User {
            id: UserId::from(n.to_string()),
            username: username.to_owned(),
            is_active,
            password_hash,
            extra_claims: serde_json::Map::new(),
        };
        self.insert_new(user.clone())?;
        self.next_id = next;
        Ok(user)
    }

    pub(crate) fn get_mut(&mut self, id: &UserId) -> Option<&mut User> {
        self.by_id.get_mut(id)
    }

    pub(crate) fn remove(&mut self, id: &UserId) -> bool {
        match self.by_id.remove(id) {
            Some(user) => {
                self.by_name.remove(&user.username);
                true
            }
            None => false,
        }
    }

    /// Replaces `old_hash` by `new_hash` only if the user still has `old_hash` (a password
    /// change in between wins over an upgrade).
    pub(crate) fn upgrade_hash(&mut self, id: &UserId, old_hash: &str, new_hash: String) -> bool {
        match self.by_id.get_mut(id) {
            Some(user) if user.password_hash == old_hash => {
                user.password_hash = new_hash;
                true
            }
            _ => false,
        }
    }

    /// Imports users from `manage.py dumpdata auth.user` JSON. All or nothing.
    pub(crate) fn import_django(
        &mut self,
        json: &str,
        hasher: &PasswordHasher,
    ) -> Result<Vec<User>, StoreError> {
        let entries: Vec<DumpEntry> = serde_json::from_str(json)
            .map_err(|e| StoreError::Invalid(format!("not a dumpdata user list: {e}")))?;
        let mut staged = self.clone();
        let mut imported = Vec::with_capacity(entries.len());
        let mut max_pk = 0u64;
        for entry in entries {
            let id = match entry.pk {
                Pk::Int(n) => {
                    max_pk = max_pk.max(n);
                    UserId::from(n.to_string())
                }
                Pk::Str(s) => {
                    let id = UserId::from(s);
                    if let Some(n) = numeric_id(&id) {
                        max_pk = max_pk.max(n);
                    }
                    id
                }
            };
            if id.as_str().is_empty() {
                return Err(StoreError::Invalid("empty pk".into()));
            }
            let mut f = entry.fields;
            if f.password.is_empty() {
                // Django never logs an empty hash in (`check_password` finds no hasher): keep it
                // as an unusable password.
                f.password = "!".into();
            }
            check_username(&f.username)
                .map_err(|e| StoreError::Invalid(format!("user {id}: {e}")))?;
            hasher
                .check_stored(&f.password)
                .map_err(|e| StoreError::Invalid(format!("user {id}: {e}")))?;
            let user = User {
                id,
                username: f.username,
                is_active: f.is_active,
                password_hash: f.password,
                extra_claims: serde_json::Map::new(),
            };
            staged.insert_new(user.clone())?;
            imported.push(user);
        }
        let after = max_pk
            .checked_add(1)
            .ok_or_else(|| StoreError::Invalid("pk too large".into()))?;
        staged.next_id = staged.next_id.max(after);
        *self = staged;
        Ok(imported)
    }
}

#[derive(Deserialize)]
struct DumpEntry {
    pk: Pk,
    fields: DumpFields,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Pk {
    Int(u64),
    Str(String),
}

#[derive(Deserialize)]
struct DumpFields {
    username: String,
    password: String,
    #[serde(default = "yes")]
    is_active: bool,
}

fn yes() -> bool {
    true
}
