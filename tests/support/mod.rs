//! Shared helpers for the integration tests: the simplejwt reference secret and its recorded
//! tokens, token forging, an echo service behind the layer, and response assertions.
#![allow(dead_code, unreachable_pub)]

#[cfg(feature = "token")]
pub mod token;
pub mod transcript;

use std::convert::Infallible;
use std::fmt::Debug;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::{Service, ServiceExt, service_fn};
use tower_jwt_auth::{
    Anonymous, AuthError, AuthErrorKind, Clock, JwtAuthLayer, Keys, SimpleJwtClaims, Verifier,
};

/// The HS256 secret (Django `SECRET_KEY`) of the reference simplejwt server.
pub const SECRET: &str = "reference-only-test-secret-key-for-simplejwt-wire-format-probe-0123456789abcdef0123456789abcdef";

/// `iat` of the transcript's access token (T#01): "now" for every transcript token.
pub const T_IAT: i64 = 1_795_655_419;

/// `exp` of the transcript's access token.
pub const T_EXP: i64 = 1_795_655_719;

/// The reference keys.
pub fn ref_keys() -> Keys {
    Keys::hs256(SECRET).expect("reference secret is long enough")
}

/// A verifier with the reference keys and the clock stopped at [`T_IAT`].
pub fn ref_verifier() -> Verifier {
    Verifier::new(ref_keys()).clock(Clock::fixed(T_IAT))
}

/// The layer under test, with the reference verifier.
pub fn ref_layer() -> JwtAuthLayer<SimpleJwtClaims> {
    JwtAuthLayer::new(ref_verifier())
}

/// simplejwt's payload for an access token at [`T_IAT`].
pub fn access_claims() -> Value {
    json!({
        "token_type": "access",
        "exp": T_EXP,
        "iat": T_IAT,
        "jti": "fac5344d01d34db3b5575d65f5ee8c0f",
        "user_id": "1",
    })
}

/// `access_claims()` with `edits` applied (a `null` value removes the claim).
pub fn claims_with(edits: Value) -> Value {
    let mut c = access_claims();
    let m = c.as_object_mut().expect("object");
    for (k, v) in edits.as_object().expect("edits must be an object") {
        if v.is_null() {
            m.remove(k);
        } else {
            m.insert(k.clone(), v.clone());
        }
    }
    c
}

/// Mints a token with the reference keys through the public `Keys::encode`.
pub fn mint(claims: &Value) -> String {
    ref_keys().encode(claims).expect("encode")
}

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The raw HMAC of `msg`, for `alg` in HS256/HS384/HS512.
pub fn hmac(alg: &str, secret: &[u8], msg: &[u8]) -> Vec<u8> {
    match alg {
        "HS384" => {
            let mut m = Hmac::<sha2::Sha384>::new_from_slice(secret).expect("any key length");
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        "HS512" => {
            let mut m = Hmac::<sha2::Sha512>::new_from_slice(secret).expect("any key length");
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
            m.update(msg);
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// A token with exactly these header and payload bytes, HMAC-signed (`mac_alg`) with `secret`.
/// The header's `alg` is whatever the caller wrote: this is how attackers build tokens.
pub fn forge_raw(header: &[u8], payload: &[u8], mac_alg: &str, secret: &[u8]) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let sig = hmac(mac_alg, secret, signing_input.as_bytes());
    format!("{signing_input}.{}", b64(sig))
}

/// [`forge_raw`] with HS256 and the reference secret.
pub fn forge(header: &str, payload: &str) -> String {
    forge_raw(
        header.as_bytes(),
        payload.as_bytes(),
        "HS256",
        SECRET.as_bytes(),
    )
}

/// The standard simplejwt header, for forging.
pub const HS256_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// The compact payload of [`access_claims`].
pub fn access_payload() -> String {
    access_claims().to_string()
}

/// The response body type of the echo service.
pub type EchoBody = Full<Bytes>;

/// The inner service: 200 with a JSON body describing what the layer put in the extensions:
/// `{"claims":<SimpleJwtClaims or null>,"anonymous":<bool>}`.
pub fn echo()
-> impl Service<Request<String>, Response = Response<EchoBody>, Error = Infallible> + Clone {
    service_fn(|req: Request<String>| async move {
        let claims = req.extensions().get::<SimpleJwtClaims>().cloned();
        let anonymous = req.extensions().get::<Anonymous>().is_some();
        let body = json!({ "claims": claims, "anonymous": anonymous }).to_string();
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    })
}

/// What a test needs from a response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The `AuthError` the layer put into the rejection's extensions.
    pub error: Option<AuthError>,
}

impl Reply {
    /// A header as a string (panics if absent or not visible ASCII).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:?}"))
            .to_str()
            .expect("visible ASCII")
    }

    /// The kind of the `AuthError` in the extensions.
    pub fn kind(&self) -> AuthErrorKind {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("no AuthError in the response extensions: {self:?}"))
            .kind()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("JSON body")
    }
}

/// Sends `req` through `svc` and collects the response.
pub async fn send<S, B>(svc: S, req: Request<String>) -> Reply
where
    S: Service<Request<String>, Response = Response<B>>,
    S::Error: Debug,
    B: Body<Data = Bytes>,
    B::Error: Debug,
{
    let res = svc.oneshot(req).await.expect("the layer never fails");
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).expect("UTF-8 body"),
        error: parts.extensions.get::<AuthError>().cloned(),
    }
}

/// A GET request with this `Authorization` value (none for `None`).
pub fn get(authorization: Option<&str>) -> Request<String> {
    let mut b = Request::get("/api/weekly_schedule/");
    if let Some(v) = authorization {
        b = b.header("authorization", v);
    }
    b.body(String::new()).expect("request")
}

/// A GET request with `Authorization: Bearer <token>`.
pub fn bearer(token: &str) -> Request<String> {
    get(Some(&format!("Bearer {token}")))
}

/// simplejwt's `messages` envelope for an access-token failure.
pub fn envelope(message: &str) -> String {
    format!(
        r#"{{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{{"token_class":"AccessToken","token_type":"access","message":"{message}"}}]}}"#
    )
}

/// The body for "no credentials".
pub const MISSING_BODY: &str = r#"{"detail":"Authentication credentials were not provided."}"#;

/// The challenge for "no credentials".
pub const MISSING_CHALLENGE: &str = r#"Bearer realm="api""#;

/// The challenge for a presented but rejected token.
pub fn invalid_token_challenge(description: &str) -> String {
    format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
}

/// Asserts the exact "credentials were not provided" answer.
pub fn assert_missing(r: &Reply) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.body, MISSING_BODY);
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(r.header("www-authenticate"), MISSING_CHALLENGE);
    assert_eq!(r.kind(), AuthErrorKind::Missing);
}

/// Asserts the exact envelope answer for a rejected token.
pub fn assert_rejected(r: &Reply, message: &str, kind: AuthErrorKind) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(r.body, envelope(message), "{r:?}");
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        invalid_token_challenge(message)
    );
    assert_eq!(r.kind(), kind, "{r:?}");
}

/// Asserts the exact `bad_authorization_header` answer.
pub fn assert_bad_header(r: &Reply) {
    let detail = "Authorization header must contain two space-delimited values";
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert_eq!(
        r.body,
        format!(r#"{{"detail":"{detail}","code":"bad_authorization_header"}}"#)
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        format!(r#"Bearer realm="api", error="invalid_request", error_description="{detail}""#)
    );
    assert_eq!(r.kind(), AuthErrorKind::BadAuthorizationHeader);
}

/// Asserts a 200 from the echo service with claims for `user_id`, and no `AuthError`.
pub fn assert_ok_user(r: &Reply, user_id: &str) {
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.error.is_none());
    let v = r.json();
    assert_eq!(v["claims"]["user_id"], user_id, "{r:?}");
    assert_eq!(v["anonymous"], false);
}

/// Reads a fixture under tests/fixtures.
pub fn fixture(path: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Reads a text fixture under tests/fixtures.
pub fn fixture_str(path: &str) -> String {
    String::from_utf8(fixture(path)).expect("UTF-8 fixture")
}
