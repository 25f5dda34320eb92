//! Redis stores (the `redis` feature), for several replicas of a service: [`RedisRevocationStore`]
//! (revocation and rotation atomic across instances, one Lua script each; keys expire with their
//! tokens), [`RedisThrottle`] (the login throttle's counters, shared), and [`RedisRevocationSet`],
//! a local in-memory copy of the revoked ids kept current by pub/sub, which is the layer's
//! synchronous [`RevocationCheck`]: the hot path never waits on Redis.
//!
//! One Redis server (or a primary with replicas) is assumed, not Redis Cluster: the scripts
//! touch keys they compute. Turn on AOF with `appendonly yes` and `appendfsync always` so that no
//! acknowledged revocation is lost when Redis restarts or crashes. With the default `appendfsync
//! everysec`, Redis answers before writing the file while a background fsync is slow, so even a
//! crash of the Redis process alone can lose up to about two seconds of acknowledged revocations.
//!
//! The example is on [`RedisConnection`].

use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use futures_core::Stream;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};

use super::revocation::check_jti;
use super::{RevocationStore, Rotation, StoreError};
use crate::token::{Attempt, Decision, LoginThrottle, ThrottleFuture, ThrottleSettings};
use crate::verify::{MAX_LEEWAY_SECS, RevocationCheck};

/// Keys are kept this long past their token's `exp`, so a verifier with the largest leeway still
/// sees them revoked.
const GRACE_SECS: i64 = MAX_LEEWAY_SECS as i64;

/// How long one Redis command may take before it fails (and the endpoint answers 503).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

fn redis_error(e: redis::RedisError) -> StoreError {
    // The error text names the failure, never a command's arguments.
    StoreError::Io(std::io::Error::other(format!("redis: {e}")))
}

/// A Redis client with its self-reconnecting [`ConnectionManager`] and a key prefix; makes the
/// stores. Cheap to clone.
///
/// ```no_run
/// use tower_jwt_auth::store::{RedisConnection, RevocationFailMode, RevocationStore};
/// use tower_jwt_auth::{JwtAuthLayer, Keys, SimpleJwtClaims, Verifier};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let redis = RedisConnection::connect("redis://127.0.0.1:6379/").await?;
/// let revoked = redis.revocation_set(RevocationFailMode::Closed).await;
/// let store = redis.revocations().with_local_set(&revoked);
/// let verifier = Verifier::new(Keys::hs256([7u8; 32])?).revocation(revoked.clone());
/// let layer = JwtAuthLayer::<SimpleJwtClaims>::new(verifier);
/// // A logout on any replica...
/// store.revoke_if_absent("0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", 4_102_444_800).await?;
/// // ...is refused by every replica's layer within milliseconds.
/// assert!(tower_jwt_auth::RevocationCheck::is_revoked(&revoked, "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f"));
/// # let _ = layer;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisConnection {
    client: Client,
    conn: ConnectionManager,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the URL: it may carry a password.
        f.debug_struct("RedisConnection")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn manager_config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_connection_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(500))
}

impl RedisConnection {
    /// Connects to `url` (`redis://[:password@]host:port/db`, or `rediss://` for TLS).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a malformed URL; [`StoreError::Io`] if Redis cannot be
    /// reached.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client =
            Client::open(url).map_err(|_| StoreError::Invalid("not a valid Redis URL".into()))?;
        let conn = ConnectionManager::new_with_config(client.clone(), manager_config())
            .await
            .map_err(redis_error)?;
        Ok(Self::from_parts(client, conn))
    }

    /// As [`connect`](Self::connect), connecting at the first command: a service may start
    /// while Redis is down (its token endpoints answer 503 until it is up).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a malformed URL.
    pub fn connect_lazy(url: &str) -> Result<Self, StoreError> {
        let client =
            Client::open(url).map_err(|_| StoreError::Invalid("not a valid Redis URL".into()))?;
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config())
            .map_err(redis_error)?;
        Ok(Self::from_parts(client, conn))
    }

    fn from_parts(client: Client, conn: ConnectionManager) -> Self {
        Self {
            client,
            conn,
            prefix: Arc::from("tja:"),
        }
    }

    /// Puts every key (and the pub/sub channel) under `prefix` instead of `tja:`, to share one
    /// Redis database between services.
    #[must_use]
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix);
        self
    }

    /// A revocation store on this connection.
    pub fn revocations(&self) -> RedisRevocationStore {
        RedisRevocationStore {
            redis: self.clone(),
            local: None,
        }
    }

    /// A login throttle with `settings` on this connection.
    pub fn throttle(&self, settings: ThrottleSettings) -> RedisThrottle {
        RedisThrottle {
            redis: self.clone(),
            settings,
        }
    }

    /// Starts the local revocation set: subscribes, loads the revoked ids, and follows every
    /// revocation made by any instance. Waits up to two seconds for the first load; until it is
    /// done (and whenever Redis is unreachable) the set answers as `fail` says.
    pub async fn revocation_set(&self, fail: RevocationFailMode) -> RedisRevocationSet {
        RedisRevocationSet::start(self.clone(), fail).await
    }

    fn channel(&self) -> String {
        format!("{}revoked", self.prefix)
    }
}

/// What [`RedisRevocationSet`] answers while it cannot know it is current (Redis unreachable,
/// the subscription being re-established).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RevocationFailMode {
    /// Every token with a `jti` counts as revoked: requests are refused until the set is
    /// current again. The default.
    #[default]
    Closed,
    /// Answers from the last known set: a revocation made meanwhile on another instance is not
    /// seen until Redis is back.
    Open,
}

// Shared by the scripts: whether `j` is revoked, directly or through its family; a TTL.
const LUA_PRELUDE: &str = r#"
local p = ARGV[1]
local grace = tonumber(ARGV[2])
local now = tonumber(redis.call('TIME')[1])
local function revoked(j)
  if redis.call('EXISTS', p .. 'rev:' .. j) == 1 then return true end
  local fam = redis.call('GET', p .. 'fam:' .. j) or j
  return redis.call('EXISTS', p .. 'famrev:' .. fam) == 1
end
local function ttl(e)
  local t = e + grace - now
  if t < 1 then t = 1 end
  return t
end
"#;

const LUA_IS_REVOKED: &str = r#"
if revoked(ARGV[3]) then return 1 end
return 0
"#;

// ARGV[3] jti, ARGV[4] exp → 1 if it was live (now revoked), 0 if already revoked.
const LUA_REVOKE: &str = r#"
local jti, exp = ARGV[3], tonumber(ARGV[4])
if revoked(jti) then return 0 end
redis.call('SET', p .. 'rev:' .. jti, '1', 'EX', ttl(exp))
redis.call('PUBLISH', p .. 'revoked', exp .. ' ' .. jti)
return 1
"#;

// ARGV[3] old, ARGV[4] old_exp, ARGV[5] new, ARGV[6] new_exp → 1 rotated, 2 reused, 3 conflict.
const LUA_ROTATE: &str = r#"
local old, old_exp, new, new_exp = ARGV[3], tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
local fam = redis.call('GET', p .. 'fam:' .. old) or old
local mk = p .. 'mem:' .. fam
if revoked(old) then
  local fk = p .. 'famrev:' .. fam
  if redis.call('EXISTS', fk) == 1 then return 2 end
  local fexp = old_exp
  local mttl = redis.call('TTL', mk)
  if mttl > 0 then fexp = math.max(fexp, now + mttl - grace) end
  redis.call('SET', fk, '1', 'EX', ttl(fexp))
  local members = redis.call('SMEMBERS', mk)
  table.insert(members, old)
  for _, m in ipairs(members) do
    redis.call('PUBLISH', p .. 'revoked', fexp .. ' ' .. m)
  end
  return 2
end
if redis.call('EXISTS', p .. 'fam:' .. new) == 1 or redis.call('EXISTS', p .. 'rev:' .. new) == 1 then
  return 3
end
redis.call('SET', p .. 'rev:' .. old, '1', 'EX', ttl(old_exp))
redis.call('SET', p .. 'fam:' .. old, fam, 'EX', ttl(old_exp))
redis.call('SET', p .. 'fam:' .. new, fam, 'EX', ttl(new_exp))
redis.call('SADD', mk, old, new)
local want = ttl(math.max(old_exp, new_exp))
if redis.call('TTL', mk) < want then redis.call('EXPIRE', mk, want) end
redis.call('PUBLISH', p .. 'revoked', old_exp .. ' ' .. old)
return 1
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{LUA_PRELUDE}{body}"))
}

struct Scripts {
    is_revoked: Script,
    revoke: Script,
    rotate: Script,
    reserve: Script,
    success: Script,
    refund: Script,
}

fn scripts() -> &'static Scripts {
    static S: std::sync::OnceLock<Scripts> = std::sync::OnceLock::new();
    S.get_or_init(|| Scripts {
        is_revoked: script(LUA_IS_REVOKED),
        revoke: script(LUA_REVOKE),
        rotate: script(LUA_ROTATE),
        reserve: Script::new(LUA_RESERVE),
        success: Script::new(LUA_SUCCESS),
        refund: Script::new(LUA_REFUND),
    })
}

/// Revoked tokens in Redis, shared by every instance: `revoke_if_absent` and `rotate` are each
/// one Lua script, so of N concurrent calls on any instances exactly one sees the token live.
///
/// Keys (under the connection's prefix, `tja:` by default): `rev:<jti>` (revoked),
/// `fam:<jti>` (its rotation family), `mem:<family>` (the family's members) and
/// `famrev:<family>` (a revoked family), each expiring with its token plus the verifier's
/// largest leeway, so nothing needs pruning. Every revocation is published on the
/// `<prefix>revoked` channel for the [`RedisRevocationSet`]s.
#[derive(Clone)]
pub struct RedisRevocationStore {
    redis: RedisConnection,
    local: Option<Arc<SetInner>>,
}

impl fmt::Debug for RedisRevocationStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRevocationStore")
            .field("redis", &self.redis)
            .field("local_set", &self.local.is_some())
            .finish()
    }
}

impl RedisRevocationStore {
    /// Also records this store's own revocations in `set` at once (the other instances' arrive
    /// through pub/sub), so this instance's layer refuses a token as soon as its logout answers.
    #[must_use]
    pub fn with_local_set(mut self, set: &RedisRevocationSet) -> Self {
        self.local = Some(Arc::clone(&set.inner));
        self
    }

    fn invocation<'a>(&self, s: &'a Script) -> redis::ScriptInvocation<'a> {
        let mut inv = s.prepare_invoke();
        inv.arg(&*self.redis.prefix).arg(GRACE_SECS);
        inv
    }
}

impl RevocationStore for RedisRevocationStore {
    async fn is_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        check_jti(jti)?;
        let mut conn = self.redis.conn.clone();
        let mut inv = self.invocation(&scripts().is_revoked);
        inv.arg(jti);
        let n: i64 = inv.invoke_async(&mut conn).await.map_err(redis_error)?;
        Ok(n == 1)
    }

    async fn revoke_if_absent(&self, jti: &str, exp: i64) -> Result<bool, StoreError> {
        check_jti(jti)?;
        let mut conn = self.redis.conn.clone();
        let mut inv = self.invocation(&scripts().revoke);
        inv.arg(jti).arg(exp);
        let n: i64 = inv.invoke_async(&mut conn).await.map_err(redis_error)?;
        if n == 1
            && let Some(local) = &self.local
        {
            local.insert(jti, exp.saturating_add(GRACE_SECS));
        }
        Ok(n == 1)
    }

    async fn rotate(
        &self,
        old_jti: &str,
        old_exp: i64,
        new_jti: &str,
        new_exp: i64,
    ) -> Result<Rotation, StoreError> {
        check_jti(old_jti)?;
        check_jti(new_jti)?;
        if old_jti == new_jti {
            return Err(StoreError::Invalid(
                "the new jti must differ from the old one".into(),
            ));
        }
        let mut conn = self.redis.conn.clone();
        let mut inv = self.invocation(&scripts().rotate);
        inv.arg(old_jti).arg(old_exp).arg(new_jti).arg(new_exp);
        let n: i64 = inv.invoke_async(&mut conn).await.map_err(redis_error)?;
        match n {
            1 => {
                if let Some(local) = &self.local {
                    local.insert(old_jti, old_exp.saturating_add(GRACE_SECS));
                }
                Ok(Rotation::Rotated)
            }
            2 => Ok(Rotation::Reused),
            3 => Err(StoreError::Conflict("the new jti is already known".into())),
            other => Err(StoreError::Other(format!(
                "unexpected rotation script answer {other}"
            ))),
        }
    }
}

/// The state behind a [`RedisRevocationSet`].
struct SetInner {
    /// Revoked `jti` → the Unix second after which it may be forgotten.
    revoked: RwLock<HashMap<Box<str>, i64>>,
    /// Whether the set is known current (subscribed, loaded, Redis answering pings).
    synced: AtomicBool,
    fail: RevocationFailMode,
}

impl SetInner {
    fn insert(&self, jti: &str, until: i64) {
        let mut map = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
        let e = map.entry(Box::from(jti)).or_insert(until);
        *e = (*e).max(until);
    }

    fn prune(&self, now: i64) {
        let mut map = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
        map.retain(|_, until| *until >= now);
    }
}

/// Aborts the follower task when the last [`RedisRevocationSet`] clone is dropped.
struct Follower(tokio::task::JoinHandle<()>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A local, in-memory copy of the revoked token ids of every instance, kept current from Redis:
/// the layer's [`RevocationCheck`] (one read lock and a hash lookup, never awaiting).
///
/// A task subscribes to the `<prefix>revoked` channel, then loads every revoked id with `SCAN`
/// (so nothing published between the two is missed), then applies each message as it arrives:
/// a revocation on one instance reaches the others' sets in about a millisecond on a LAN.
/// It pings Redis every second; on any failure it marks the set stale, reconnects with
/// backoff, and loads again. While stale the set answers as its [`RevocationFailMode`] says.
/// Entries are forgotten once their token has expired (plus the largest leeway).
///
/// Made by [`RedisConnection::revocation_set`]; see the [`RedisConnection`] docs.
#[derive(Clone)]
pub struct RedisRevocationSet {
    inner: Arc<SetInner>,
    _follower: Arc<Follower>,
}

impl fmt::Debug for RedisRevocationSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRevocationSet")
            .field("len", &self.len())
            .field("current", &self.is_current())
            .field("fail", &self.inner.fail)
            .finish()
    }
}

impl RevocationCheck for RedisRevocationSet {
    fn is_revoked(&self, jti: &str) -> bool {
        if !self.inner.synced.load(Ordering::Acquire)
            && self.inner.fail == RevocationFailMode::Closed
        {
            return true;
        }
        self.inner
            .revoked
            .read()
            .map(|m| m.contains_key(jti))
            // A poisoned lock (nothing in the critical sections panics) fails closed.
            .unwrap_or(true)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl RedisRevocationSet {
    async fn start(redis: RedisConnection, fail: RevocationFailMode) -> Self {
        let inner = Arc::new(SetInner {
            revoked: RwLock::new(HashMap::new()),
            synced: AtomicBool::new(false),
            fail,
        });
        let task = tokio::spawn(follow(redis, Arc::clone(&inner)));
        let set = Self {
            inner,
            _follower: Arc::new(Follower(task)),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while !set.is_current() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        set
    }

    /// Whether the set is known current (subscribed and loaded, Redis answering).
    pub fn is_current(&self) -> bool {
        self.inner.synced.load(Ordering::Acquire)
    }

    /// How many revoked ids are held.
    pub fn len(&self) -> usize {
        self.inner.revoked.read().map_or(0, |m| m.len())
    }

    /// Whether no revoked id is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn follow(redis: RedisConnection, inner: Arc<SetInner>) {
    let mut backoff = Duration::from_millis(20);
    loop {
        let result = session(&redis, &inner).await;
        inner.synced.store(false, Ordering::Release);
        if let Err(e) = result {
            tracing::warn!(error = %e, "revocation set: lost Redis; reconnecting");
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// Applies one `"<exp> <jti>"` message.
fn apply(inner: &SetInner, payload: &str) {
    if let Some((exp, jti)) = payload.split_once(' ')
        && let Ok(exp) = exp.parse::<i64>()
        && !jti.is_empty()
    {
        inner.insert(jti, exp.saturating_add(GRACE_SECS));
    }
}

/// Every revoked id (direct, and members of revoked families) with when it may be forgotten.
async fn snapshot(redis: &RedisConnection, inner: &SetInner) -> redis::RedisResult<()> {
    let mut conn = redis.conn.clone();
    let p = &*redis.prefix;
    let now = unix_now();
    let mut found: Vec<(String, i64)> = Vec::new();
    for (pattern, strip) in [
        (format!("{p}rev:*"), format!("{p}rev:")),
        (format!("{p}famrev:*"), format!("{p}famrev:")),
    ] {
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                let mut pipe = redis::pipe();
                for k in &keys {
                    pipe.cmd("TTL").arg(k);
                }
                let ttls: Vec<i64> = pipe.query_async(&mut conn).await?;
                for (k, ttl) in keys.iter().zip(ttls) {
                    let Some(name) = k.strip_prefix(strip.as_str()) else {
                        continue;
                    };
                    let until = now.saturating_add(ttl.max(1));
                    if pattern.ends_with("famrev:*") {
                        let members: Vec<String> = redis::cmd("SMEMBERS")
                            .arg(format!("{p}mem:{name}"))
                            .query_async(&mut conn)
                            .await?;
                        found.push((name.to_owned(), until));
                        found.extend(members.into_iter().map(|m| (m, until)));
                    } else {
                        found.push((name.to_owned(), until));
                    }
                }
            }
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
    }
    for (jti, until) in found {
        inner.insert(&jti, until);
    }
    Ok(())
}

async fn session(redis: &RedisConnection, inner: &SetInner) -> redis::RedisResult<()> {
    let mut pubsub = redis.client.get_async_pubsub().await?;
    pubsub.subscribe(redis.channel()).await?;
    // Subscribed first, loaded second: a revocation published in between is in one or both.
    snapshot(redis, inner).await?;
    inner.prune(unix_now());
    inner.synced.store(true, Ordering::Release);
    let mut stream = Box::pin(pubsub.into_on_message());
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks: u32 = 0;
    loop {
        tokio::select! {
            msg = next(&mut stream) => {
                let Some(msg) = msg else {
                    return Err(redis::RedisError::from(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "subscription closed",
                    )));
                };
                if let Ok(payload) = msg.get_payload::<String>() {
                    apply(inner, &payload);
                }
            }
            _ = tick.tick() => {
                let mut conn = redis.conn.clone();
                let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
                pong?;
                ticks += 1;
                if ticks >= 60 {
                    ticks = 0;
                    inner.prune(unix_now());
                }
            }
        }
    }
}

async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

// The login throttle's reservation, in one script. ARGV: pair key or '', client key or '',
// account key, window, max per user+client, max per client, account delay after, delay base,
// delay max, clean-client cap. Returns 0 (allowed, counted) or the seconds to wait.
const LUA_RESERVE: &str = r#"
local pk, ck, ak = ARGV[1], ARGV[2], ARGV[3]
local window, max_user, max_client = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local after, base, dmax, cap = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local now = tonumber(redis.call('TIME')[1])
local function live(k)
  local v = redis.call('HMGET', k, 'c', 's', 'n')
  if not v[1] then return nil end
  local c, s, n = tonumber(v[1]), tonumber(v[2]), tonumber(v[3] or '0')
  if now >= s + window then return nil end
  return c, s, n
end
local wait = nil
local function worst(x)
  if x and (wait == nil or x > wait) then wait = x end
end
local function blocked(k, max)
  local c, s = live(k)
  if c and max > 0 and c >= max then return s + window - now end
  return nil
end
if pk ~= '' then worst(blocked(pk, max_user)) end
local clean = false
if ck ~= '' then
  worst(blocked(ck, max_client))
  local c = live(ck)
  clean = (c == nil or c == 0)
end
local ac, as, an = live(ak)
if ac and after > 0 and ac >= after then
  local exempt = clean and cap > 0 and ac < cap
  if not exempt and now < an then worst(an - now) end
end
if wait then
  if wait < 1 then wait = 1 end
  return wait
end
local function add(k)
  local c, s = live(k)
  if c then
    return redis.call('HINCRBY', k, 'c', 1)
  end
  redis.call('DEL', k)
  redis.call('HSET', k, 'c', 1, 's', now, 'n', 0)
  redis.call('EXPIRE', k, window)
  return 1
end
if pk ~= '' then add(pk) end
if ck ~= '' then add(ck) end
local count = add(ak)
if after > 0 and count > after then
  local k = count - after
  if base < 1 then base = 1 end
  if dmax < base then dmax = base end
  local shift = math.min(k - 1, 62)
  local d = math.min(base * (2 ^ shift), dmax)
  redis.call('HSET', ak, 'n', now + d)
end
return 0
"#;

// Takes one reservation back from each key given (ARGV), dropping an entry left empty.
const LUA_REFUND: &str = r#"
for i = 1, #ARGV do
  local k = ARGV[i]
  if k ~= '' and redis.call('EXISTS', k) == 1 then
    local c = redis.call('HINCRBY', k, 'c', -1)
    if c <= 0 then
      local n = tonumber(redis.call('HGET', k, 'n') or '0')
      if n == 0 then redis.call('DEL', k) else redis.call('HSET', k, 'c', 0) end
    end
  end
end
return 0
"#;

// A success: resets the pair and account keys (ARGV[1], ARGV[2]), refunds the client key
// (ARGV[3]).
const LUA_SUCCESS: &str = r#"
if ARGV[1] ~= '' then redis.call('DEL', ARGV[1]) end
redis.call('DEL', ARGV[2])
local k = ARGV[3]
if k ~= '' and redis.call('EXISTS', k) == 1 then
  local c = redis.call('HINCRBY', k, 'c', -1)
  if c <= 0 then
    local n = tonumber(redis.call('HGET', k, 'n') or '0')
    if n == 0 then redis.call('DEL', k) else redis.call('HSET', k, 'c', 0) end
  end
end
return 0
"#;

/// The [`LoginThrottle`] on Redis: the counters of
/// [`MemoryLoginThrottle`](crate::token::MemoryLoginThrottle) shared by every instance, with the same rules and the same
/// atomic reservation (one Lua script decides and counts), on the Redis server's clock.
///
/// Keys: `th:p:<hash>` (username and client address), `th:a:<hash>` (username), `th:c:<ip>`
/// (client address), hashes expiring at the end of their window. An unreachable Redis makes
/// logins answer 503. Plug it in with
/// [`TokenEndpoints::with_login_throttle`](crate::token::TokenEndpoints::with_login_throttle).
#[derive(Clone)]
pub struct RedisThrottle {
    redis: RedisConnection,
    settings: ThrottleSettings,
}

impl fmt::Debug for RedisThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottle")
            .field("redis", &self.redis)
            .field("settings", &self.settings)
            .finish()
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

struct Keys {
    pair: String,
    client: String,
    account: String,
}

impl RedisThrottle {
    /// The settings.
    pub fn settings(&self) -> &ThrottleSettings {
        &self.settings
    }

    fn keys(&self, a: &Attempt) -> Keys {
        let p = &*self.redis.prefix;
        Keys {
            pair: a
                .pair_key()
                .map_or_else(String::new, |k| format!("{p}th:p:{}", hex(k))),
            client: a
                .client_key()
                .map_or_else(String::new, |ip| format!("{p}th:c:{ip}")),
            account: format!("{p}th:a:{}", hex(a.account_key())),
        }
    }

    async fn reserve_now(&self, a: &Attempt) -> Result<Decision, StoreError> {
        let s = &self.settings;
        let k = self.keys(a);
        let secs = |d: Duration| d.as_secs().min(i64::MAX as u64);
        let mut conn = self.redis.conn.clone();
        let wait: i64 = scripts()
            .reserve
            .arg(&k.pair)
            .arg(&k.client)
            .arg(&k.account)
            .arg(secs(s.window).max(1))
            .arg(s.max_failures_per_user)
            .arg(s.max_failures_per_client)
            .arg(s.account_delay_after)
            .arg(secs(s.account_delay_base))
            .arg(secs(s.account_delay_max))
            .arg(s.clean_client_cap)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(if wait <= 0 {
            Decision::Allowed
        } else {
            Decision::Denied {
                retry_after: u64::try_from(wait).unwrap_or(1),
            }
        })
    }

    /// Runs one of the attempt's bookkeeping scripts (success or refund) on its three keys.
    async fn settle(&self, script: &Script, a: &Attempt) -> Result<(), StoreError> {
        let k = self.keys(a);
        let mut conn = self.redis.conn.clone();
        let _: i64 = script
            .arg(&k.pair)
            .arg(&k.account)
            .arg(&k.client)
            .invoke_async(&mut conn)
            .await
            .map_err(redis_error)?;
        Ok(())
    }
}

impl LoginThrottle for RedisThrottle {
    fn reserve<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, Decision> {
        Box::pin(self.reserve_now(attempt))
    }

    fn record_success<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, ()> {
        Box::pin(self.settle(&scripts().success, attempt))
    }

    fn refund<'a>(&'a self, attempt: &'a Attempt) -> ThrottleFuture<'a, ()> {
        Box::pin(self.settle(&scripts().refund, attempt))
    }
}
