//! A remote key source ([`RemoteKeys`]): an identity provider's JWKS, found through its discovery
//! document or given as a URL, fetched in the background and read by verifications without a lock.
//!
//! ```no_run
//! use tower_jwt_auth::{JwtAuthLayer, RemoteKeys, Verifier};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Waits for the discovery document and the first JWKS, or fails with the reason.
//! let keys = RemoteKeys::discover("https://idp.example.com/realms/main").await?;
//! let verifier = Verifier::access_token(keys, "https://idp.example.com/realms/main", "my-api");
//! let layer = JwtAuthLayer::<serde_json::Value>::new(verifier);
//! # let _ = layer;
//! # Ok(()) }
//! ```
//!
//! How it behaves:
//! * the key ring is an `ArcSwap`: a verification loads the current ring (no lock, no await) and
//!   the background task swaps in a new one after each fetch that changed the key set;
//! * the next fetch is due after the response's `Cache-Control: max-age` (or `Expires`), kept
//!   within [`min_refresh`](RemoteKeysBuilder::min_refresh) and
//!   [`max_refresh`](RemoteKeysBuilder::max_refresh); without either header after
//!   [`refresh`](RemoteKeysBuilder::refresh);
//! * a token with an unknown `kid` is refused at once, and wakes the task for one fetch; more
//!   unknown kids within the [`cooldown`](RemoteKeysBuilder::cooldown) wake nothing (random kids
//!   cannot cause a fetch storm);
//! * a failed fetch keeps the last good keys ("stale if error") until
//!   [`max_stale`](RemoteKeysBuilder::max_stale) after the last good fetch; from then on every
//!   token is refused (unknown key) until a fetch succeeds;
//! * every fetch has a [`timeout`](RemoteKeysBuilder::timeout) and a
//!   [size cap](RemoteKeysBuilder::max_body_bytes);
//! * keys that fail validation (an RSA modulus under 2048 bits, a wrong curve, broken
//!   material), symmetric (`oct`) keys, encryption keys and unsupported algorithms are skipped
//!   with a warning; the rest of the set is used;
//! * a key that leaves the set stops verifying at once, [`TokenCache`](crate::TokenCache)
//!   entries included (the cache re-verifies every entry after the key set changed);
//! * plain `http://` URLs are refused except on loopback hosts (tests, sidecars), unless
//!   [`allow_http`](RemoteKeysBuilder::allow_http) is set.
//!
//! The HTTP client is a hyper + rustls client (native root certificates) unless another is given
//! with [`RemoteKeysBuilder::client`]: any tower `Service<http::Request<Empty<Bytes>>>` (a proxy,
//! a private CA, mTLS, a test double).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, Empty, Limited};
use jsonwebtoken::jwk::Jwk;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tower_service::Service;

use super::keys::{Algorithm, Key, Keys};

/// The error type a custom HTTP client may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request a [`RemoteKeys`] HTTP client receives: a `GET` with `Accept: application/json`.
pub type FetchRequest = http::Request<Empty<Bytes>>;

struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

type FetchFuture = Pin<Box<dyn Future<Output = Result<Fetched, RemoteKeysError>> + Send>>;
type Client = Arc<dyn Fn(FetchRequest, usize) -> FetchFuture + Send + Sync>;

/// Why a [`RemoteKeys`] fetch (or its start) failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteKeysError {
    /// A URL that cannot be fetched (not `https://`, or not a URL).
    Url(String),
    /// The HTTP client failed (connection refused, TLS, …).
    Http {
        /// The URL fetched.
        url: String,
        /// The client's message.
        message: String,
    },
    /// The fetch did not finish within the timeout.
    Timeout {
        /// The URL fetched.
        url: String,
    },
    /// The response body exceeded the size cap.
    TooLarge {
        /// The URL fetched.
        url: String,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A status other than 200.
    Status {
        /// The URL fetched.
        url: String,
        /// The status received.
        status: u16,
    },
    /// A discovery document that is not usable (not JSON, no `jwks_uri`, another `issuer`).
    Discovery(String),
    /// A JWKS that is not a JWKS, or holds no usable key.
    Jwks {
        /// The URL fetched.
        url: String,
        /// What was wrong.
        message: String,
    },
}

impl fmt::Display for RemoteKeysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(m) => write!(f, "remote keys: {m}"),
            Self::Http { url, message } => write!(f, "remote keys: fetching {url}: {message}"),
            Self::Timeout { url } => write!(f, "remote keys: fetching {url}: timed out"),
            Self::TooLarge { url, limit } => {
                write!(f, "remote keys: {url}: response larger than {limit} bytes")
            }
            Self::Status { url, status } => write!(f, "remote keys: {url}: HTTP status {status}"),
            Self::Discovery(m) => write!(f, "remote keys: discovery: {m}"),
            Self::Jwks { url, message } => write!(f, "remote keys: {url}: {message}"),
        }
    }
}

impl std::error::Error for RemoteKeysError {}

#[derive(Clone, Debug)]
enum Source {
    Jwks(String),
    Issuer(String),
}

/// The settings of a [`RemoteKeys`] source; `.await` it (or call [`start`](Self::start)) to
/// fetch the first key set and start the background task.
#[must_use]
pub struct RemoteKeysBuilder {
    source: Source,
    min_refresh: Duration,
    max_refresh: Duration,
    refresh: Duration,
    retry: Duration,
    cooldown: Duration,
    max_stale: Duration,
    timeout: Duration,
    max_body: usize,
    rsa_alg: Algorithm,
    allow_http: bool,
    client: Option<Client>,
}

impl fmt::Debug for RemoteKeysBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeysBuilder")
            .field("source", &self.source)
            .field("min_refresh", &self.min_refresh)
            .field("max_refresh", &self.max_refresh)
            .field("refresh", &self.refresh)
            .field("retry", &self.retry)
            .field("cooldown", &self.cooldown)
            .field("max_stale", &self.max_stale)
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("custom_client", &self.client.is_some())
            .finish_non_exhaustive()
    }
}

impl RemoteKeysBuilder {
    fn new(source: Source) -> Self {
        Self {
            source,
            min_refresh: Duration::from_secs(60),
            max_refresh: Duration::from_secs(3600),
            refresh: Duration::from_secs(300),
            retry: Duration::from_secs(10),
            cooldown: Duration::from_secs(30),
            max_stale: Duration::from_secs(6 * 3600),
            timeout: Duration::from_secs(10),
            max_body: 256 * 1024,
            rsa_alg: Algorithm::RS256,
            allow_http: false,
            client: None,
        }
    }

    /// The shortest time between scheduled fetches, whatever `Cache-Control` says. Default 60 s.
    pub fn min_refresh(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// The longest time between scheduled fetches, whatever `Cache-Control` says. Default 1 h.
    pub fn max_refresh(mut self, d: Duration) -> Self {
        self.max_refresh = d;
        self
    }

    /// The time between fetches when the response has neither `Cache-Control: max-age` nor
    /// `Expires` (kept within the bounds above). Default 5 min.
    pub fn refresh(mut self, d: Duration) -> Self {
        self.refresh = d;
        self
    }

    /// The time before another attempt after a failed fetch. Default 10 s.
    pub fn retry(mut self, d: Duration) -> Self {
        self.retry = d;
        self
    }

    /// After a token with an unknown `kid` caused a fetch, how long further unknown kids cause
    /// none. Default 30 s.
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// How long after the last good fetch the keys are still used while fetches fail. Default
    /// 6 h.
    pub fn max_stale(mut self, d: Duration) -> Self {
        self.max_stale = d;
        self
    }

    /// The timeout of each fetch (connect, headers and body). Default 10 s.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The size cap of each response body. Default 256 KiB.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body = n;
        self
    }

    /// The algorithm of RSA keys whose JWK has no `alg` (EC and Ed25519 keys take theirs from the
    /// curve). Default `RS256`.
    pub fn rsa_algorithm(mut self, alg: Algorithm) -> Self {
        self.rsa_alg = alg;
        self
    }

    /// Allow plain `http://` URLs on hosts other than loopback ones. Default `false`: a JWKS
    /// fetched in the clear can be replaced by anyone on the path.
    pub fn allow_http(mut self, yes: bool) -> Self {
        self.allow_http = yes;
        self
    }

    /// Fetch with this HTTP client instead of the built-in hyper + rustls one: any tower
    /// `Service<FetchRequest>` answering an `http::Response` (hyper-util's `Client` with your own
    /// connector, a proxy, a test double). The timeout and size cap still apply.
    pub fn client<S, B>(mut self, service: S) -> Self
    where
        S: Service<FetchRequest, Response = http::Response<B>> + Clone + Send + Sync + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        self.client = Some(wrap_client(service));
        self
    }

    /// Fetches the discovery document (if any) and the first key set, then starts the
    /// background task (on the current tokio runtime).
    ///
    /// # Errors
    /// A [`RemoteKeysError`] saying what failed: nothing is started then.
    pub async fn start(self) -> Result<RemoteKeys, RemoteKeysError> {
        let client = match self.client.clone() {
            Some(c) => c,
            None => default_client()?,
        };
        let cfg = Arc::new(Config {
            min_refresh: self.min_refresh,
            max_refresh: self.max_refresh.max(self.min_refresh),
            refresh: self.refresh,
            retry: self.retry,
            max_stale: self.max_stale,
            timeout: self.timeout,
            max_body: self.max_body,
            rsa_alg: self.rsa_alg,
            allow_http: self.allow_http,
            client,
        });
        let (jwks_uri, issuer) = match &self.source {
            Source::Jwks(url) => (url.clone(), None),
            Source::Issuer(iss) => {
                let uri = discover(&cfg, iss).await?;
                (uri, Some(iss.clone()))
            }
        };
        let first = fetch_jwks(&cfg, &jwks_uri).await?;
        let signal = Arc::new(Signal {
            notify: Notify::new(),
            closed: AtomicBool::new(false),
        });
        let inner = Arc::new(Inner {
            ring: ArcSwap::from_pointee(first.keys),
            generation: AtomicU64::new(1),
            stale: AtomicBool::new(false),
            signal: Arc::clone(&signal),
            epoch: Instant::now(),
            last_trigger: AtomicU64::new(0),
            cooldown_ms: u64::try_from(self.cooldown.as_millis()).unwrap_or(u64::MAX),
            fetches: AtomicU64::new(1),
            jwks_uri: jwks_uri.clone(),
            issuer,
        });
        tokio::spawn(run(
            Arc::downgrade(&inner),
            signal,
            cfg,
            jwks_uri,
            first.fingerprint,
            first.ttl,
        ));
        Ok(RemoteKeys { inner })
    }
}

impl IntoFuture for RemoteKeysBuilder {
    type Output = Result<RemoteKeys, RemoteKeysError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.start())
    }
}

struct Config {
    min_refresh: Duration,
    max_refresh: Duration,
    refresh: Duration,
    retry: Duration,
    max_stale: Duration,
    timeout: Duration,
    max_body: usize,
    rsa_alg: Algorithm,
    allow_http: bool,
    client: Client,
}

struct Signal {
    notify: Notify,
    closed: AtomicBool,
}

struct Inner {
    ring: ArcSwap<Keys>,
    /// Bumped whenever the key set changes (and when it goes stale): cache entries of an older
    /// generation are verified again.
    generation: AtomicU64,
    stale: AtomicBool,
    signal: Arc<Signal>,
    epoch: Instant,
    /// Milliseconds since `epoch` of the last unknown-kid fetch request, plus one (0: never).
    last_trigger: AtomicU64,
    cooldown_ms: u64,
    fetches: AtomicU64,
    jwks_uri: String,
    issuer: Option<String>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The last handle is gone: the background task ends.
        self.signal.closed.store(true, Ordering::Release);
        self.signal.notify.notify_one();
    }
}

/// Keys fetched from a JWKS URL or an issuer's discovery document, refreshed in the background.
/// See the [module docs](self) for how it behaves. Cheap to clone (shared); the background task
/// ends when the last clone is dropped.
///
/// Hand it to a [`Verifier`](crate::Verifier) policy constructor (it converts into a
/// [`KeySource`](crate::KeySource)).
#[derive(Clone)]
pub struct RemoteKeys {
    inner: Arc<Inner>,
}

impl fmt::Debug for RemoteKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteKeys")
            .field("jwks_uri", &self.inner.jwks_uri)
            .field("issuer", &self.inner.issuer)
            .field("generation", &self.generation())
            .field("keys", &self.keys().keys().len())
            .finish()
    }
}

impl RemoteKeys {
    /// A source for this JWKS URL.
    pub fn jwks(url: impl Into<String>) -> RemoteKeysBuilder {
        RemoteKeysBuilder::new(Source::Jwks(url.into()))
    }

    /// A source for this issuer: its `jwks_uri` is read from
    /// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery), or failing that
    /// from its RFC 8414 metadata (`/.well-known/oauth-authorization-server{path}`). The
    /// document's `issuer` must be exactly `issuer`.
    pub fn discover(issuer: impl Into<String>) -> RemoteKeysBuilder {
        RemoteKeysBuilder::new(Source::Issuer(issuer.into()))
    }

    /// The current key ring.
    pub fn keys(&self) -> Arc<Keys> {
        self.inner.ring.load_full()
    }

    /// The JWKS URL (given, or read from the discovery document).
    pub fn jwks_uri(&self) -> &str {
        &self.inner.jwks_uri
    }

    /// The issuer, for a source built with [`RemoteKeys::discover`].
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// Starts at 1 and grows by one each time the key set changes.
    pub fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// The number of JWKS fetches attempted so far (the first one included).
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Whether the keys are past [`max_stale`](RemoteKeysBuilder::max_stale) (every token is
    /// refused until a fetch succeeds).
    pub fn is_stale(&self) -> bool {
        self.inner.stale.load(Ordering::Acquire)
    }

    /// Asks the background task for a fetch now (not subject to the cooldown).
    pub fn refresh_now(&self) {
        self.inner.signal.notify.notify_one();
    }

    /// The ring to verify with, or `None` when the keys are past their maximum staleness.
    #[inline]
    pub(crate) fn current(&self) -> Option<arc_swap::Guard<Arc<Keys>>> {
        if self.inner.stale.load(Ordering::Acquire) {
            None
        } else {
            Some(self.inner.ring.load())
        }
    }

    /// A token named a `kid` the ring does not have: wake the task for a fetch, unless one was
    /// asked for within the cooldown. Never waits.
    pub(crate) fn unknown_kid(&self) {
        let inner = &*self.inner;
        let now = u64::try_from(inner.epoch.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = inner.last_trigger.load(Ordering::Acquire);
        if last != 0 && now.saturating_sub(last) < inner.cooldown_ms {
            return;
        }
        if inner
            .last_trigger
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            tracing::debug!(target: "tower_jwt_auth", jwks_uri = %inner.jwks_uri, "unknown kid: fetching the key set");
            inner.signal.notify.notify_one();
        }
    }
}

/// The background task: fetch when due or asked, swap in a changed key set.
async fn run(
    weak: Weak<Inner>,
    signal: Arc<Signal>,
    cfg: Arc<Config>,
    jwks_uri: String,
    mut fingerprint: [u8; 32],
    mut next: Duration,
) {
    let mut last_ok = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(next) => {}
            () = signal.notify.notified() => {}
        }
        if signal.closed.load(Ordering::Acquire) {
            return;
        }
        let Some(inner) = weak.upgrade() else { return };
        inner.fetches.fetch_add(1, Ordering::Relaxed);
        match fetch_jwks(&cfg, &jwks_uri).await {
            Ok(got) => {
                last_ok = Instant::now();
                next = got.ttl;
                let was_stale = inner.stale.swap(false, Ordering::AcqRel);
                if got.fingerprint != fingerprint || was_stale {
                    fingerprint = got.fingerprint;
                    inner.ring.store(Arc::new(got.keys));
                    inner.generation.fetch_add(1, Ordering::AcqRel);
                    tracing::info!(target: "tower_jwt_auth", jwks_uri = %jwks_uri, "key set changed");
                }
            }
            Err(e) => {
                next = cfg.retry;
                if last_ok.elapsed() >= cfg.max_stale {
                    if !inner.stale.swap(true, Ordering::AcqRel) {
                        inner.generation.fetch_add(1, Ordering::AcqRel);
                    }
                    tracing::error!(target: "tower_jwt_auth", error = %e, "key set past its maximum staleness: refusing every token");
                } else {
                    tracing::warn!(target: "tower_jwt_auth", error = %e, "key set fetch failed: keeping the last good keys");
                }
            }
        }
    }
}

fn wrap_client<S, B>(service: S) -> Client
where
    S: Service<FetchRequest, Response = http::Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Arc::new(move |req: FetchRequest, cap: usize| -> FetchFuture {
        let mut svc = service.clone();
        let url = req.uri().to_string();
        Box::pin(async move {
            let http_err = |e: BoxError| RemoteKeysError::Http {
                url: url.clone(),
                message: e.to_string(),
            };
            std::future::poll_fn(|cx| svc.poll_ready(cx))
                .await
                .map_err(|e| http_err(e.into()))?;
            let res = svc.call(req).await.map_err(|e| http_err(e.into()))?;
            let (parts, body) = res.into_parts();
            let body = match Limited::new(body, cap).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                    return Err(RemoteKeysError::TooLarge {
                        url: url.clone(),
                        limit: cap,
                    });
                }
                Err(e) => return Err(http_err(e)),
            };
            Ok(Fetched {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        })
    })
}

fn default_client() -> Result<Client, RemoteKeysError> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| RemoteKeysError::Url(format!("no root certificates: {e}")))?
        .https_or_http()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Empty<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https);
    Ok(wrap_client(client))
}

/// `https://`, or `http://` on a loopback host, or anything with `allow_http`.
fn check_url(cfg: &Config, url: &str) -> Result<http::Uri, RemoteKeysError> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| RemoteKeysError::Url(format!("not a URL: {url:?}")))?;
    let loopback = matches!(
        uri.host(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback || cfg.allow_http => Ok(uri),
        _ => Err(RemoteKeysError::Url(format!(
            "{url:?} is not an https:// URL (plain http is allowed on loopback hosts only)"
        ))),
    }
}

async fn get(cfg: &Config, url: &str) -> Result<Fetched, RemoteKeysError> {
    let uri = check_url(cfg, url)?;
    let req = http::Request::get(uri)
        .header(header::ACCEPT, "application/json")
        .body(Empty::new())
        .map_err(|e| RemoteKeysError::Url(e.to_string()))?;
    match tokio::time::timeout(cfg.timeout, (cfg.client)(req, cfg.max_body)).await {
        Ok(r) => r,
        Err(_) => Err(RemoteKeysError::Timeout { url: url.into() }),
    }
}

/// Reads `jwks_uri` from the issuer's OpenID Connect or RFC 8414 metadata.
async fn discover(cfg: &Config, issuer: &str) -> Result<String, RemoteKeysError> {
    let oidc = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let mut res = get(cfg, &oidc).await?;
    let mut url = oidc;
    if res.status != StatusCode::OK {
        // RFC 8414 §3: the well-known segment goes between the host and the issuer's path.
        let uri = check_url(cfg, issuer)?;
        let path = uri.path().trim_end_matches('/');
        let rfc8414 = format!(
            "{}://{}/.well-known/oauth-authorization-server{path}",
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map_or("", |a| a.as_str()),
        );
        res = get(cfg, &rfc8414).await?;
        url = rfc8414;
    }
    if res.status != StatusCode::OK {
        return Err(RemoteKeysError::Status {
            url,
            status: res.status.as_u16(),
        });
    }
    let doc: serde_json::Value = serde_json::from_slice(&res.body)
        .map_err(|_| RemoteKeysError::Discovery(format!("{url}: not JSON")))?;
    let got = doc.get("issuer").and_then(|v| v.as_str());
    if got != Some(issuer) {
        return Err(RemoteKeysError::Discovery(format!(
            "{url}: issuer is {got:?}, expected {issuer:?}"
        )));
    }
    doc.get("jwks_uri")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| RemoteKeysError::Discovery(format!("{url}: no jwks_uri")))
}

struct Got {
    keys: Keys,
    fingerprint: [u8; 32],
    ttl: Duration,
}

async fn fetch_jwks(cfg: &Config, url: &str) -> Result<Got, RemoteKeysError> {
    let res = get(cfg, url).await?;
    if res.status != StatusCode::OK {
        return Err(RemoteKeysError::Status {
            url: url.into(),
            status: res.status.as_u16(),
        });
    }
    let (keys, fingerprint) =
        parse_jwks(&res.body, cfg.rsa_alg).map_err(|message| RemoteKeysError::Jwks {
            url: url.into(),
            message,
        })?;
    Ok(Got {
        keys,
        fingerprint,
        ttl: ttl(&res.headers, cfg),
    })
}

/// The time until the next fetch: `Cache-Control: max-age` (`no-store`/`no-cache`: 0), else
/// `Expires` − `Date`, within the bounds; the default without either.
fn ttl(headers: &HeaderMap, cfg: &Config) -> Duration {
    let mut secs: Option<u64> = None;
    for v in headers.get_all(header::CACHE_CONTROL) {
        let Ok(v) = v.to_str() else { continue };
        for d in v.split(',').map(str::trim) {
            if d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache") {
                secs = Some(0);
            } else if let Some((name, value)) = d.split_once('=')
                && name.trim().eq_ignore_ascii_case("max-age")
                && let Ok(n) = value.trim().trim_matches('"').parse::<u64>()
            {
                secs = Some(secs.map_or(n, |s| s.min(n)));
            }
        }
    }
    if secs.is_none()
        && let Some(exp) = headers.get(header::EXPIRES).and_then(|v| v.to_str().ok())
    {
        // An invalid Expires means "already expired" (RFC 9111 §5.3).
        let date = headers
            .get(header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .unwrap_or_else(SystemTime::now);
        secs = Some(
            httpdate::parse_http_date(exp)
                .ok()
                .and_then(|e| e.duration_since(date).ok())
                .map_or(0, |d| d.as_secs()),
        );
    }
    secs.map_or(cfg.refresh, Duration::from_secs)
        .clamp(cfg.min_refresh, cfg.max_refresh)
}

/// A JWKS into a ring, skipping (with a warning) every key that does not load, and the
/// fingerprint of the keys kept.
fn parse_jwks(body: &[u8], rsa_alg: Algorithm) -> Result<(Keys, [u8; 32]), String> {
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "not a JWKS document (not JSON)".to_owned())?;
    let list = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| "not a JWKS document (no `keys` array)".to_owned())?;
    let mut keys: Vec<Key> = Vec::new();
    let mut hash = Sha256::new();
    for raw in list {
        let kid = raw.get("kid").and_then(|k| k.as_str()).unwrap_or("");
        let skip = |why: &str| {
            tracing::warn!(target: "tower_jwt_auth", kid, reason = why, "skipping a key of the remote key set");
        };
        let kty = raw.get("kty").and_then(|k| k.as_str()).unwrap_or("");
        if kty == "oct" {
            skip("symmetric key in a public key set");
            continue;
        }
        if raw.get("use").and_then(|u| u.as_str()) == Some("enc") {
            continue;
        }
        let mut jwk = raw.clone();
        if jwk.get("alg").is_none() {
            let crv = raw.get("crv").and_then(|c| c.as_str());
            let alg = match (kty, crv) {
                ("RSA", _) => format!("{rsa_alg:?}"),
                ("EC", Some("P-256")) => "ES256".into(),
                ("EC", Some("P-384")) => "ES384".into(),
                ("OKP", Some("Ed25519")) => "EdDSA".into(),
                _ => {
                    skip("no `alg` and none implied by the key type");
                    continue;
                }
            };
            if let Some(obj) = jwk.as_object_mut() {
                obj.insert("alg".into(), alg.into());
            }
        }
        let parsed: Jwk = match serde_json::from_value(jwk.clone()) {
            Ok(j) => j,
            Err(_) => {
                skip("not a JWK this crate reads (unsupported alg or key type)");
                continue;
            }
        };
        match Key::from_jwk(&parsed) {
            Ok(key) => {
                if let Some(k) = &key.kid
                    && keys.iter().any(|o| o.kid.as_deref() == Some(&**k))
                {
                    skip("duplicate kid");
                    continue;
                }
                hash.update(serde_json::to_vec(&jwk).unwrap_or_default());
                hash.update([0]);
                keys.push(key);
            }
            Err(e) => skip(&e.to_string()),
        }
    }
    let keys = Keys::from_keys(keys).map_err(|_| "no usable key in the key set".to_owned())?;
    Ok((keys, hash.finalize().into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config {
            min_refresh: Duration::from_secs(10),
            max_refresh: Duration::from_secs(100),
            refresh: Duration::from_secs(50),
            retry: Duration::from_secs(1),
            max_stale: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            max_body: 1024,
            rsa_alg: Algorithm::RS256,
            allow_http: false,
            client: Arc::new(|_, _| Box::pin(async { unreachable!("no fetch in unit tests") })),
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                v.parse().expect("value"),
            );
        }
        h
    }

    #[test]
    fn cache_headers_within_bounds() {
        let c = cfg();
        let t = |p: &[(&str, &str)]| ttl(&headers(p), &c).as_secs();
        assert_eq!(t(&[]), 50);
        assert_eq!(t(&[("cache-control", "public, max-age=30")]), 30);
        assert_eq!(t(&[("cache-control", "Max-Age=3")]), 10);
        assert_eq!(t(&[("cache-control", "max-age=86400")]), 100);
        assert_eq!(t(&[("cache-control", "no-store")]), 10);
        assert_eq!(t(&[("cache-control", "max-age=abc")]), 50);
        assert_eq!(
            t(&[
                ("date", "Sun, 06 Dec 2026 12:00:00 GMT"),
                ("expires", "Sun, 06 Dec 2026 12:01:00 GMT")
            ]),
            60
        );
        assert_eq!(t(&[("expires", "0")]), 10);
        // max-age wins over Expires (RFC 9111 §5.3).
        assert_eq!(
            t(&[
                ("cache-control", "max-age=20"),
                ("date", "Sun, 06 Dec 2026 12:00:00 GMT"),
                ("expires", "Sun, 06 Dec 2026 12:01:00 GMT")
            ]),
            20
        );
    }

    #[test]
    fn urls_must_be_https_but_on_loopback() {
        let c = cfg();
        assert!(check_url(&c, "https://idp.example.com/jwks").is_ok());
        assert!(check_url(&c, "http://127.0.0.1:8080/jwks").is_ok());
        assert!(check_url(&c, "http://localhost/jwks").is_ok());
        assert!(matches!(
            check_url(&c, "http://idp.example.com/jwks"),
            Err(RemoteKeysError::Url(_))
        ));
        assert!(matches!(
            check_url(&c, "file:///etc/passwd"),
            Err(RemoteKeysError::Url(_))
        ));
        let c = Config {
            allow_http: true,
            ..cfg()
        };
        assert!(check_url(&c, "http://idp.example.com/jwks").is_ok());
    }

    #[test]
    fn bad_keys_are_skipped_not_fatal() {
        let rsa: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/keys/rsa.public.jwk.json"
        ))
        .expect("jwk");
        let short: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/keys/rsa1024.public.jwk.json"
        ))
        .expect("jwk");
        let mut ec: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/keys/ec256.public.jwk.json"
        ))
        .expect("jwk");
        let mut wrong_curve = ec.clone();
        wrong_curve["alg"] = "ES384".into();
        wrong_curve["kid"] = "wrong-curve".into();
        if let Some(o) = ec.as_object_mut() {
            o.remove("alg");
        }
        let doc = serde_json::json!({"keys": [
            short, wrong_curve, rsa, ec,
            {"kty": "oct", "kid": "secret", "alg": "HS256", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "alg": "RSA-OAEP", "n": "AQAB", "e": "AQAB"},
            {"kty": "EC", "kid": "p521", "crv": "P-521", "x": "AA", "y": "AA"},
            "not an object",
        ]});
        let (keys, fp) = parse_jwks(&serde_json::to_vec(&doc).expect("json"), Algorithm::RS256)
            .expect("usable keys remain");
        let algs: Vec<Algorithm> = keys.keys().iter().map(|k| k.alg).collect();
        assert_eq!(algs, [Algorithm::RS256, Algorithm::ES256]);
        // Same keys, same fingerprint; one key fewer, another.
        let (_, again) =
            parse_jwks(&serde_json::to_vec(&doc).expect("json"), Algorithm::RS256).expect("keys");
        assert_eq!(fp, again);
        assert!(parse_jwks(br#"{"keys":[]}"#, Algorithm::RS256).is_err());
        assert!(parse_jwks(b"[]", Algorithm::RS256).is_err());
        assert!(parse_jwks(b"<html>", Algorithm::RS256).is_err());
    }
}
