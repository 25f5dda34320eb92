//! Login throttling: attempts reserved atomically before the password is checked, counted per
//! account and client address, per client address, and per account (with exponential delays
//! rather than a lockout); where the client address comes from.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http::HeaderMap;
use http::header::HeaderName;
use sha2::{Digest, Sha256};

use crate::store::StoreError;
use crate::verify::Clock;

/// The client's address, for per-client login throttling.
///
/// With [`ClientAddrSource::Extensions`] the token services look in the request extensions
/// for a `ClientAddr`, then a [`SocketAddr`], then an [`IpAddr`]. hyper-util's servers and
/// tonic do not insert one by themselves; with axum, copy `ConnectInfo` into it:
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
/// Behind a reverse proxy, use [`ClientAddrSource::TrustedProxy`]. IPv6 addresses are counted
/// per /64.
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
    pub fn key(self) -> IpAddr {
        match self.0.to_canonical() {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
            v4 => v4,
        }
    }
}

/// Where the login throttle takes the client's address from.
///
/// The default, [`Unspecified`](Self::Unspecified), reads the request extensions like
/// [`Extensions`](Self::Extensions) but logs a warning when the endpoints are built, since
/// many servers (hyper-util's, tonic's) insert no address: without one, failures can only be
/// counted per account. Say which source you use to silence it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAddrSource {
    /// Not configured: as [`Extensions`](Self::Extensions), with a warning at start-up.
    #[default]
    Unspecified,
    /// The peer address from the request extensions ([`ClientAddr`], [`SocketAddr`] or
    /// [`IpAddr`]), which your server inserts (see [`ClientAddr`]).
    Extensions,
    /// Behind reverse proxies: the peer address from the extensions; when the peer is one of
    /// `proxies`, the client is the rightmost address of `header` (for example
    /// `X-Forwarded-For`, a comma-separated list each proxy appends to) that is not itself one
    /// of `proxies`. A peer that is not a trusted proxy cannot set its address through the
    /// header. An unparsable entry stops the walk at the last trusted hop.
    TrustedProxy {
        /// The header the proxies set (`x-forwarded-for`, `x-real-ip`, …).
        header: HeaderName,
        /// The proxies' own addresses.
        proxies: Vec<IpAddr>,
    },
    /// The server cannot see client addresses: failures are counted per account only. Logs a
    /// warning at start-up.
    Unavailable,
}

impl ClientAddrSource {
    /// A [`TrustedProxy`](Self::TrustedProxy) source reading `X-Forwarded-For`.
    pub fn forwarded_for(proxies: impl IntoIterator<Item = IpAddr>) -> Self {
        Self::TrustedProxy {
            header: HeaderName::from_static("x-forwarded-for"),
            proxies: proxies.into_iter().map(|p| p.to_canonical()).collect(),
        }
    }

    /// The client address of a request, or `None` if it cannot be known.
    pub fn resolve(&self, headers: &HeaderMap, ext: &http::Extensions) -> Option<ClientAddr> {
        match self {
            Self::Unavailable => None,
            Self::Unspecified | Self::Extensions => ClientAddr::from_extensions(ext),
            Self::TrustedProxy { header, proxies } => {
                let peer = ClientAddr::from_extensions(ext)?;
                let trusted = |ip: IpAddr| proxies.iter().any(|p| p.to_canonical() == ip);
                let mut client = peer.0.to_canonical();
                if !trusted(client) {
                    return Some(ClientAddr(client));
                }
                let values: Vec<&str> = headers
                    .get_all(header)
                    .iter()
                    .map(|v| v.to_str().unwrap_or(""))
                    .collect();
                let entries = values.iter().flat_map(|v| v.split(','));
                let entries: Vec<&str> = entries.collect();
                for entry in entries.into_iter().rev() {
                    let Some(ip) = parse_hop(entry.trim()) else {
                        break;
                    };
                    client = ip.to_canonical();
                    if !trusted(client) {
                        break;
                    }
                }
                Some(ClientAddr(client))
            }
        }
    }
}

/// One hop of a forwarding header: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:80`.
fn parse_hop(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
}

/// Login throttling settings. [`Default`]: per 5-minute window, 5 failures per username from
/// one client address and 20 per client address (then 429 until the window ends, for that
/// address only); per username from all addresses, 10 failures before each further attempt
/// waits an exponentially growing delay (1 s, 2 s, 4 s, … at most 60 s); at most 100 000
/// tracked keys per table.
///
/// No limit blocks an account for everyone: the account-wide limit only slows attempts down,
/// and an address with no failures in the window is exempt from the delays (until the account
/// has seen [`clean_client_cap`](Self::clean_client_cap) failures in the window), so the owner
/// logging in from a clean address gets in at once. Attempts are reserved before the password
/// is checked, atomically, so concurrent attempts count exactly like sequential ones; a
/// successful login refunds its reservation and resets that username's counters.
/// docs/throttling.md has the design and its trade-offs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleSettings {
    /// Failed logins per username and client address per window before 429 (0 disables).
    /// Not applied when the client address is unknown.
    pub max_failures_per_user: u32,
    /// Failed logins per client address per window before 429 (0 disables).
    pub max_failures_per_client: u32,
    /// Failed logins per username from all addresses per window before further attempts are
    /// delayed (0 disables).
    pub account_delay_after: u32,
    /// The first delay; each further failure doubles it.
    pub account_delay_base: Duration,
    /// The longest delay.
    pub account_delay_max: Duration,
    /// Past this many failures per username and window, clean addresses are delayed too (a
    /// distributed attack from that many addresses). 0: clean addresses are never exempt.
    pub clean_client_cap: u32,
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
            max_failures_per_client: 20,
            account_delay_after: 10,
            account_delay_base: Duration::from_secs(1),
            account_delay_max: Duration::from_secs(60),
            clean_client_cap: 100,
            window: Duration::from_secs(300),
            max_entries: 100_000,
        }
    }
}

/// One login attempt as the throttle counts it: fixed-size keys derived from the username
/// (trimmed by the body parser, case-folded here) and the client address.
#[derive(Clone, PartialEq, Eq)]
pub struct Attempt {
    account: [u8; 16],
    pair: Option<[u8; 16]>,
    client: Option<IpAddr>,
}

impl fmt::Debug for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The keys are hashes; showing the client key is harmless and useful.
        f.debug_struct("Attempt")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

fn hash_key(username: &str, client: Option<IpAddr>) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(username.to_lowercase().as_bytes());
    if let Some(c) = client {
        h.update([0u8]);
        h.update(c.to_string().as_bytes());
    }
    let digest = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

impl Attempt {
    /// The attempt of `username` from `client` (`None`: unknown address).
    pub fn new(username: &str, client: Option<ClientAddr>) -> Self {
        let client = client.map(ClientAddr::key);
        Self {
            account: hash_key(username, None),
            pair: client.map(|c| hash_key(username, Some(c))),
            client,
        }
    }

    /// The key of the username (all addresses together): 16 bytes of SHA-256.
    pub fn account_key(&self) -> &[u8; 16] {
        &self.account
    }

    /// The key of the username from this client address, if the address is known.
    pub fn pair_key(&self) -> Option<&[u8; 16]> {
        self.pair.as_ref()
    }

    /// The client's key ([`ClientAddr::key`]), if the address is known.
    pub fn client_key(&self) -> Option<IpAddr> {
        self.client
    }
}

/// A throttle's answer to [`LoginThrottle::reserve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// The attempt is counted (reserved) and may check the password.
    Allowed,
    /// Refused: try again in `retry_after` seconds (at least 1).
    Denied {
        /// Seconds until an attempt may be allowed.
        retry_after: u64,
    },
}

/// The boxed future of a [`LoginThrottle`] method.
pub type ThrottleFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where login attempts are counted. [`MemoryLoginThrottle`] is the in-process default; a
/// shared one (Redis, a database) gives several processes one set of counters.
///
/// The contract, which makes N concurrent attempts count exactly like N sequential ones:
/// * [`reserve`](Self::reserve) decides and counts in one atomic step (for Redis, one Lua
///   script or `MULTI`): an attempt it allows is counted as a failure right away, before the
///   password is checked.
/// * [`record_success`](Self::record_success) refunds the reservation and resets the username's
///   counters (per address and per account); the client address's counter only loses this
///   reservation.
/// * [`refund`](Self::refund) takes back a reservation whose password was never checked (the
///   hashing queue was full, the user store failed).
/// * A failed password needs no call: the reservation stands.
///
/// A throttle that fails answers `Err`; the obtain endpoints then answer 503.
pub trait LoginThrottle: fmt::Debug + Send + Sync + 'static {
    /// Decides on `attempt` and, if allowed, counts it. Atomic.
    fn reserve<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, Decision>;
    /// The attempt's password was right: refund its reservation, reset the username's counters.
    fn record_success<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, ()>;
    /// The attempt was never decided (its password was not checked): refund its reservation.
    fn refund<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, ()>;
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    count: u32,
    start: i64,
    /// Account entries: the earliest time a delayed attempt is allowed.
    next_allowed: i64,
}

#[derive(Debug)]
struct Table<K> {
    map: HashMap<K, Entry>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
        }
    }

    /// The live entry of `key` (an entry whose window has ended counts as none).
    fn live(&self, key: &K, window: i64, now: i64) -> Option<Entry> {
        self.map
            .get(key)
            .filter(|e| now < e.start.saturating_add(window))
            .copied()
    }

    fn count(&self, key: &K, window: i64, now: i64) -> u32 {
        self.live(key, window, now).map_or(0, |e| e.count)
    }

    /// Seconds until `key` is under `max` again, if it is at or over it.
    fn blocked(&self, key: &K, max: u32, window: i64, now: i64) -> Option<i64> {
        let e = self.live(key, window, now)?;
        (max > 0 && e.count >= max).then(|| e.start.saturating_add(window) - now)
    }

    /// Counts one more attempt; returns the entry after it.
    fn add(&mut self, key: K, window: i64, now: i64, cap: usize) -> &mut Entry {
        let live = self.live(&key, window, now).is_some();
        if !self.map.contains_key(&key) && self.map.len() >= cap {
            self.make_room(window, now, cap);
        }
        let e = self.map.entry(key).or_insert(Entry {
            count: 0,
            start: now,
            next_allowed: 0,
        });
        if !live {
            *e = Entry {
                count: 0,
                start: now,
                next_allowed: 0,
            };
        }
        e.count = e.count.saturating_add(1);
        e
    }

    fn make_room(&mut self, window: i64, now: i64, cap: usize) {
        // Full: drop expired entries, then (still full: a flood) an eighth of the table, so the
        // O(n) sweep runs at most once per cap/8 insertions.
        self.map.retain(|_, e| now < e.start.saturating_add(window));
        if self.map.len() >= cap {
            let excess = self.map.len() + 1 - cap + cap / 8;
            let victims: Vec<K> = self.map.keys().take(excess).cloned().collect();
            for k in victims {
                self.map.remove(&k);
            }
        }
    }

    /// Takes one reservation back.
    fn refund(&mut self, key: &K) {
        if let Some(e) = self.map.get_mut(key) {
            e.count = e.count.saturating_sub(1);
            if e.count == 0 && e.next_allowed == 0 {
                self.map.remove(key);
            }
        }
    }
}

#[derive(Debug)]
struct Tables {
    /// Per (username, client).
    pairs: Table<[u8; 16]>,
    /// Per username, all clients together.
    accounts: Table<[u8; 16]>,
    clients: Table<IpAddr>,
}

/// The in-memory [`LoginThrottle`]: one mutex over three bounded tables, so a reservation is
/// atomic. Counters are per process; several processes behind a load balancer each count their
/// own attempts (use a shared throttle there).
///
/// ```
/// use tower_jwt_auth::token::{Attempt, Decision, LoginThrottle, MemoryLoginThrottle, ThrottleSettings};
/// use tower_jwt_auth::Clock;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tower_jwt_auth::store::StoreError> {
/// let throttle = MemoryLoginThrottle::new(ThrottleSettings::default(), Clock::fixed(1_000));
/// let ip = "203.0.113.7".parse().map(tower_jwt_auth::ClientAddr).expect("an address");
/// let attempt = Attempt::new("alice", Some(ip));
/// for _ in 0..5 {
///     assert_eq!(throttle.reserve(&attempt).await?, Decision::Allowed);
/// }
/// // The sixth attempt from this address, even concurrent with the others, is refused.
/// assert!(matches!(throttle.reserve(&attempt).await?, Decision::Denied { retry_after: 300 }));
/// // The owner from another address is not.
/// let home = "198.51.100.20".parse().map(tower_jwt_auth::ClientAddr).expect("an address");
/// assert_eq!(throttle.reserve(&Attempt::new("alice", Some(home))).await?, Decision::Allowed);
/// # Ok(()) }
/// ```
pub struct MemoryLoginThrottle {
    settings: ThrottleSettings,
    clock: Clock,
    tables: Mutex<Tables>,
}

impl fmt::Debug for MemoryLoginThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLoginThrottle")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl MemoryLoginThrottle {
    /// A throttle with `settings` on `clock`.
    pub fn new(settings: ThrottleSettings, clock: Clock) -> Self {
        Self {
            settings,
            clock,
            tables: Mutex::new(Tables {
                pairs: Table::new(),
                accounts: Table::new(),
                clients: Table::new(),
            }),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &ThrottleSettings {
        &self.settings
    }

    /// Locks the tables; a poisoned lock (impossible: nothing in the critical sections panics)
    /// is recovered rather than turning throttling off.
    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The delay after the `k`-th failure past the account threshold (k ≥ 1).
    fn delay(&self, k: u32) -> i64 {
        let base = secs(self.settings.account_delay_base).max(1);
        let max = secs(self.settings.account_delay_max).max(base);
        let shift = k.saturating_sub(1).min(62);
        base.checked_mul(1i64 << shift).map_or(max, |d| d.min(max))
    }

    /// [`LoginThrottle::reserve`], synchronously.
    pub fn reserve_now(&self, attempt: &Attempt) -> Decision {
        let s = &self.settings;
        let now = self.clock.now();
        let w = secs(s.window);
        let cap = s.max_entries;
        let mut t = self.lock();
        let mut wait: Option<i64> = None;
        let mut worst = |w2: Option<i64>| {
            if let Some(x) = w2 {
                wait = Some(wait.map_or(x, |y| y.max(x)));
            }
        };
        if let Some(p) = &attempt.pair {
            worst(t.pairs.blocked(p, s.max_failures_per_user, w, now));
        }
        let clean = match &attempt.client {
            Some(c) => {
                worst(t.clients.blocked(c, s.max_failures_per_client, w, now));
                t.clients.count(c, w, now) == 0
            }
            None => false,
        };
        let account = t.accounts.live(&attempt.account, w, now);
        if let Some(a) = account
            && s.account_delay_after > 0
            && a.count >= s.account_delay_after
        {
            let exempt = clean && s.clean_client_cap > 0 && a.count < s.clean_client_cap;
            if !exempt && now < a.next_allowed {
                worst(Some(a.next_allowed - now));
            }
        }
        if let Some(x) = wait {
            return Decision::Denied {
                retry_after: u64::try_from(x.max(1)).unwrap_or(1),
            };
        }
        if let Some(p) = attempt.pair {
            t.pairs.add(p, w, now, cap);
        }
        if let Some(c) = attempt.client {
            t.clients.add(c, w, now, cap);
        }
        let after = s.account_delay_after;
        let e = t.accounts.add(attempt.account, w, now, cap);
        if after > 0 && e.count > after {
            let k = e.count - after;
            e.next_allowed = now.saturating_add(self.delay(k));
        }
        Decision::Allowed
    }

    /// [`LoginThrottle::record_success`], synchronously.
    pub fn success_now(&self, attempt: &Attempt) {
        let mut t = self.lock();
        if let Some(p) = &attempt.pair {
            t.pairs.map.remove(p);
        }
        t.accounts.map.remove(&attempt.account);
        if let Some(c) = &attempt.client {
            t.clients.refund(c);
        }
    }

    /// [`LoginThrottle::refund`], synchronously.
    pub fn refund_now(&self, attempt: &Attempt) {
        let mut t = self.lock();
        if let Some(p) = &attempt.pair {
            t.pairs.refund(p);
        }
        t.accounts.refund(&attempt.account);
        if let Some(c) = &attempt.client {
            t.clients.refund(c);
        }
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize, usize) {
        let t = self.lock();
        (t.pairs.map.len(), t.accounts.map.len(), t.clients.map.len())
    }
}

impl LoginThrottle for MemoryLoginThrottle {
    fn reserve<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, Decision> {
        let d = self.reserve_now(attempt);
        Box::pin(async move { Ok(d) })
    }

    fn record_success<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, ()> {
        self.success_now(attempt);
        Box::pin(async { Ok(()) })
    }

    fn refund<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, ()> {
        self.refund_now(attempt);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<ClientAddr> {
        Some(ClientAddr(s.parse().expect("ip")))
    }

    #[test]
    fn memory_is_bounded() {
        let s = ThrottleSettings {
            max_entries: 50,
            ..ThrottleSettings::default()
        };
        let t = MemoryLoginThrottle::new(s, Clock::fixed(1000));
        for i in 0..1000 {
            let a = Attempt::new(
                &format!("user{i}"),
                Some(ClientAddr(IpAddr::from([
                    10,
                    0,
                    (i / 256) as u8,
                    (i % 256) as u8,
                ]))),
            );
            t.reserve_now(&a);
        }
        let (p, u, c) = t.sizes();
        assert!(p <= 50 && u <= 50 && c <= 50, "{p} {u} {c}");
    }

    #[test]
    fn ipv6_counts_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        assert_eq!(ClientAddr(a).key(), ClientAddr(b).key());
        let m: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(
            ClientAddr(m).key(),
            "192.0.2.1".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let t = MemoryLoginThrottle::new(ThrottleSettings::default(), Clock::fixed(0));
        let d: Vec<i64> = (1..=9).map(|k| t.delay(k)).collect();
        assert_eq!(d, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(t.delay(u32::MAX), 60);
    }

    #[test]
    fn a_refund_takes_back_exactly_one_reservation() {
        let t = MemoryLoginThrottle::new(ThrottleSettings::default(), Clock::fixed(0));
        let a = Attempt::new("bob", ip("192.0.2.9"));
        for _ in 0..5 {
            assert_eq!(t.reserve_now(&a), Decision::Allowed);
        }
        assert!(matches!(t.reserve_now(&a), Decision::Denied { .. }));
        t.refund_now(&a);
        assert_eq!(t.reserve_now(&a), Decision::Allowed);
        assert!(matches!(t.reserve_now(&a), Decision::Denied { .. }));
        t.success_now(&a);
        assert_eq!(t.reserve_now(&a), Decision::Allowed);
    }
}
