//! Django's `manage.py dumpdata auth.user` import: never a panic; all or nothing; what it
//! imports is found by id and username, survives the file store's write and reload unchanged,
//! and the next sequential id is above every numeric pk.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use tower_jwt_auth::__fuzz::UserTable;
use tower_jwt_auth::password::PasswordHasher;

static HASHER: LazyLock<PasswordHasher> = LazyLock::new(PasswordHasher::new);

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let mut table = UserTable::default();
    let before = table.add("existing", "!").expect("first user");
    let Ok(users) = table.import_django(json, &HASHER) else {
        // All or nothing: the table is as it was.
        assert_eq!(table.list().len(), 1);
        return;
    };
    assert_eq!(table.list().len(), users.len() + 1);
    let mut max_pk = before.parse::<u64>().expect("numeric");
    for u in &users {
        let by_id = table.get(u.id.as_str()).expect("by id");
        let by_name = table.get_by_username(&u.username).expect("by username");
        assert_eq!(by_id.id, u.id);
        assert_eq!(by_name.id, u.id);
        assert_eq!(by_name.password_hash, u.password_hash);
        assert!(!u.username.is_empty() && u.username.chars().count() <= 150);
        assert!(HASHER.check_stored(&u.password_hash).is_ok());
        let s = u.id.as_str();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = s.parse::<u64>() {
                max_pk = max_pk.max(n);
            }
        }
    }
    // The file store's round trip keeps every user.
    let bytes = table.to_file_bytes().expect("serialise");
    let reloaded = UserTable::load(&bytes).expect("a written file reloads");
    let (a, b) = (table.list(), reloaded.list());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (&x.id, &x.username, x.is_active, &x.password_hash),
            (&y.id, &y.username, y.is_active, &y.password_hash)
        );
    }
    // Sequential ids continue above the imported pks.
    let mut t = table;
    if let Ok(id) = t.add("a-new-user-not-in-any-dump\u{1}", "!") {
        panic!("a control character in a username was accepted as {id}");
    }
    if t.get_by_username("zz-new").is_none() {
        let id = t.add("zz-new", "!").expect("a fresh username");
        assert!(
            id.parse::<u64>().expect("numeric") > max_pk,
            "{id} <= {max_pk}"
        );
    }
});
