//! Login throttling: failed logins counted per account and per client address.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::verify::Clock;

/// The client's address, for per-client login throttling.
///
/// The token services look in the request extensions for a `ClientAddr`, then a
/// [`SocketAddr`], then an [`IpAddr`]. hyper-util's servers and tonic do not insert one by
/// themselves; with axum, copy `ConnectInfo` into it:
///
/// ```no_run
/// use std::net::SocketAddr;
/// use axum::extract::{ConnectInfo, Request};
/// use tower_jwt_auth::token::ClientAddr;
///
/// # async fn run(router: axum::Router) -> std::io::Result<()> {
/// let app = router.layer(axum::middleware::map_request(
///     |ConnectInfo(addr): ConnectInfo<SocketAddr>, mut req: Request| async move {
///         req.extensions_mut().insert(ClientAddr(addr.ip()));
///         req
///     },
/// ));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
/// # }
/// ```
///
/// Behind a reverse proxy, insert the address the proxy reports (and that you trust) instead.
/// IPv6 addresses are counted per /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub IpAddr);

impl ClientAddr {
    /// Reads the client address from request extensions (see the type docs).
    pub fn from_extensions(ext: &http::Extensions) -> Option<Self> {
        ext.get::<ClientAddr>()
            .copied()
            .or_else(|| ext.get::<SocketAddr>().map(|a| ClientAddr(a.ip())))
            .or_else(|| ext.get::<IpAddr>().map(|&a| ClientAddr(a)))
    }

    /// The throttling key: the IPv4 address, or the /64 of an IPv6 address.
    fn key(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        }
    }
}

/// Login throttling settings. [`Default`]: 5 failures per username from one client address,
/// 50 per username from all addresses together, and 20 per client address, per 5-minute window;
/// at most 100 000 tracked keys per table.
///
/// A lockout starts when a counter reaches its limit within a window and ends when the window
/// that began with the counter's first failure ends: nobody is locked out for good. Counting a
/// username per client address means an attacker elsewhere cannot lock the owner out with a few
/// wrong passwords; the account-wide limit still stops a distributed attack on one account.
/// Without a known client address, the per-username limit applies to the username alone. A
/// successful login resets that username's counters (not the client's).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleSettings {
    /// Failed logins per username and client address per window before 429.
    pub max_failures_per_user: u32,
    /// Failed logins per username from all client addresses per window before 429 (0 disables).
    pub max_failures_per_account: u32,
    /// Failed logins per client address per window before 429 (0 disables).
    pub max_failures_per_client: u32,
    /// The window.
    pub window: Duration,
    /// The most keys tracked per table; beyond it, expired entries are pruned and then arbitrary
    /// ones evicted, so memory stays bounded under a flood of distinct usernames.
    pub max_entries: usize,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures_per_user: 5,
            max_failures_per_account: 50,
            max_failures_per_client: 20,
            window: Duration::from_secs(300),
            max_entries: 100_000,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    count: u32,
    start: i64,
}

#[derive(Debug)]
struct Table<K> {
    map: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn blocked(&self, key: &K, max: u32, window: i64, now: i64) -> Option<i64> {
        let e = self.map.get(key)?;
        let end = e.start.saturating_add(window);
        (max > 0 && e.count >= max && now < end).then_some(end - now)
    }

    fn fail(&mut self, key: K, window: i64, now: i64, cap: usize) {
        if let Some(e) = self.map.get_mut(&key) {
            if now < e.start.saturating_add(window) {
                e.count = e.count.saturating_add(1);
            } else {
                *e = Entry {
                    count: 1,
                    start: now,
                };
            }
            return;
        }
        if self.map.len() >= cap {
            // Full: drop expired entries, then (still full: a flood) an eighth of the table, so
            // the O(n) sweep runs at most once per cap/8 insertions.
            self.map.retain(|_, e| now < e.start.saturating_add(window));
            if self.map.len() >= cap {
                let excess = self.map.len() + 1 - cap + cap / 8;
                let victims: Vec<K> = self.map.keys().take(excess).cloned().collect();
                for k in victims {
                    self.map.remove(&k);
                }
            }
        }
        self.map.insert(
            key,
            Entry {
                count: 1,
                start: now,
            },
        );
    }
}

/// The throttle state shared by the obtain services.
#[derive(Debug)]
pub(crate) struct Throttle {
    settings: ThrottleSettings,
    clock: Clock,
    /// Per (username, client) — or per username when the client is unknown.
    pairs: Mutex<Table<[u8; 16]>>,
    /// Per username, all clients together.
    accounts: Mutex<Table<[u8; 16]>>,
    clients: Mutex<Table<IpAddr>>,
}

/// A fixed-size key for a username (and client), so long usernames cost no memory.
fn key(username: &str, client: Option<ClientAddr>) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(username.to_lowercase().as_bytes());
    if let Some(c) = client {
        h.update([0u8]);
        h.update(c.key().to_string().as_bytes());
    }
    let digest = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

/// Locks a table; a poisoned lock (impossible: nothing in the critical sections panics) is
/// recovered rather than turning throttling off.
fn lock<K>(m: &Mutex<Table<K>>) -> MutexGuard<'_, Table<K>> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn table<K>() -> Mutex<Table<K>> {
    Mutex::new(Table {
        map: HashMap::new(),
    })
}

impl Throttle {
    pub(crate) fn new(settings: ThrottleSettings, clock: Clock) -> Self {
        Self {
            settings,
            clock,
            pairs: table(),
            accounts: table(),
            clients: table(),
        }
    }

    fn window(&self) -> i64 {
        i64::try_from(self.settings.window.as_secs()).unwrap_or(i64::MAX)
    }

    /// `Err(retry_after_seconds)` if this login attempt must be refused.
    pub(crate) fn check(&self, username: &str, client: Option<ClientAddr>) -> Result<(), i64> {
        let now = self.clock.now();
        let w = self.window();
        let s = &self.settings;
        let waits = [
            lock(&self.pairs).blocked(&key(username, client), s.max_failures_per_user, w, now),
            lock(&self.accounts).blocked(&key(username, None), s.max_failures_per_account, w, now),
            client.and_then(|c| {
                lock(&self.clients).blocked(&c.key(), s.max_failures_per_client, w, now)
            }),
        ];
        waits.into_iter().flatten().max().map_or(Ok(()), Err)
    }

    pub(crate) fn failure(&self, username: &str, client: Option<ClientAddr>) {
        let now = self.clock.now();
        let w = self.window();
        let cap = self.settings.max_entries;
        lock(&self.pairs).fail(key(username, client), w, now, cap);
        lock(&self.accounts).fail(key(username, None), w, now, cap);
        if let Some(c) = client {
            lock(&self.clients).fail(c.key(), w, now, cap);
        }
    }

    pub(crate) fn success(&self, username: &str, client: Option<ClientAddr>) {
        lock(&self.pairs).map.remove(&key(username, client));
        lock(&self.accounts).map.remove(&key(username, None));
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize, usize) {
        let p = lock(&self.pairs).map.len();
        let u = lock(&self.accounts).map.len();
        let c = lock(&self.clients).map.len();
        (p, u, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded() {
        let s = ThrottleSettings {
            max_entries: 50,
            ..ThrottleSettings::default()
        };
        let t = Throttle::new(s, Clock::fixed(1000));
        for i in 0..1000 {
            t.failure(
                &format!("user{i}"),
                Some(ClientAddr(IpAddr::from([
                    10,
                    0,
                    (i / 256) as u8,
                    (i % 256) as u8,
                ]))),
            );
        }
        let (p, u, c) = t.sizes();
        assert!(p <= 50 && u <= 50 && c <= 50, "{p} {u} {c}");
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(ClientAddr(a).key(), ClientAddr(b).key());
    }
}
