//! The schedule server's `app(state)` driven in-process with `oneshot`: the recorded Django
//! exchanges of `tests/fixtures/transcript_schedule.json` replayed with exact statuses, bodies
//! and headers, plus what they do not cover (DELETE, HEAD, OPTIONS, 301s, 404, 413, 415, odd
//! bodies).

#![cfg(feature = "token")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tower_jwt_auth::store::{MemoryRevocationStore, MemoryUserStore};
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{Clock, Keys, Verifier};

use crate::domain;
use crate::routes::{self, AppState, DEFAULT_BODY_LIMIT, app};
use crate::storage::{self, ScheduleStore};
use crate::support::SECRET;

/// "Now" for the transcript's tokens: the `iat` of the recorded access token the schedule exchanges use.
const NOW: i64 = 1_795_655_421;
/// The recorded access token for user "1" (alice), valid at `NOW`.
const ACCESS_1: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.3sQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";

/// The crate's in-memory stores with the reference database's users: 1 = alice (active),
/// 2 = dormant (inactive), created in that order so they get Django's ids.
async fn state(
    schedules: ScheduleStore,
    body_limit: usize,
) -> AppState<MemoryUserStore, MemoryRevocationStore> {
    let users = MemoryUserStore::new();
    let alice = users
        .add_user("alice", "wonderland-42", true)
        .await
        .unwrap();
    let dormant = users
        .add_user("dormant", "sleepy-hollow-7", false)
        .await
        .unwrap();
    assert_eq!((alice.id.as_str(), dormant.id.as_str()), ("1", "2"));
    let keys = Keys::hs256(SECRET).unwrap();
    let issuer = Issuer::new(keys.clone()).unwrap().clock(Clock::fixed(NOW));
    let tokens = TokenEndpoints::new(
        issuer,
        users.clone(),
        MemoryRevocationStore::new().with_clock(Clock::fixed(NOW)),
        TokenSettings::default(),
    )
    .unwrap();
    AppState {
        tokens,
        verifier: Verifier::new(keys).clock(Clock::fixed(NOW)),
        users,
        schedules,
        body_limit,
        request_timeout: routes::DEFAULT_REQUEST_TIMEOUT,
    }
}

async fn test_app(schedules: ScheduleStore) -> Router {
    app(state(schedules, DEFAULT_BODY_LIMIT).await)
}

struct Answer {
    status: StatusCode,
    headers: http::HeaderMap,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let res: Response<Body> = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers.get(name).map(|v| v.to_str().unwrap())
}

fn bearer(method: &str, path: &str, body: &str) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ACCESS_1}"));
    if !body.is_empty() {
        b = b.header("content-type", "application/json");
    }
    b.body(Body::from(body.to_owned())).unwrap()
}

/// The `WWW-Authenticate` value this crate sends for a 401 body: simplejwt's `Bearer realm="api"`
/// plus RFC 6750's `error` attributes when credentials were sent (a superset simplejwt clients
/// ignore).
fn challenge_for(body: &Value) -> String {
    let Some(code) = body.get("code").and_then(Value::as_str) else {
        return r#"Bearer realm="api""#.to_owned();
    };
    let error = if code == "bad_authorization_header" {
        "invalid_request"
    } else {
        "invalid_token"
    };
    let description = body
        .pointer("/messages/0/message")
        .or_else(|| body.get("detail"))
        .and_then(Value::as_str)
        .unwrap();
    format!(r#"Bearer realm="api", error="{error}", error_description="{description}""#)
}

/// Where this server answers differently from Django on purpose (see the README):
/// the expected status and body instead of the transcript's.
fn deliberate_difference(n: u64) -> Option<(u16, &'static str)> {
    match n {
        // RFC 9110 §11.1: auth schemes are case-insensitive, so `bearer <valid>` is accepted.
        51 => Some((200, r#"{"schedule":{}}"#)),
        // simplejwt answers a non-numeric user_id with a 500 HTML page; here it is simply a user
        // that does not exist.
        69 => Some((
            401,
            r#"{"detail":"User not found","code":"user_not_found"}"#,
        )),
        // RFC 7519 §4.1.3: a token carrying `aud` is rejected when no audience is configured.
        72 => Some((
            401,
            r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid"}]}"#,
        )),
        _ => None,
    }
}

#[tokio::test]
async fn the_recorded_schedule_exchanges_replay_exactly_in_process() {
    let fixture: Value =
        serde_json::from_str(include_str!("../fixtures/transcript_schedule.json")).unwrap();
    let app = test_app(ScheduleStore::memory()).await;
    let mut replayed = 0;
    for ex in fixture["exchanges"].as_array().unwrap() {
        let n = ex["n"].as_u64().unwrap();
        let rq = &ex["request"];
        let mut b = Request::builder()
            .method(rq["method"].as_str().unwrap())
            .uri(rq["path"].as_str().unwrap());
        for (k, v) in rq["headers"].as_object().unwrap() {
            b = b.header(k.as_str(), v.as_str().unwrap());
        }
        let body = rq
            .get("body")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let got = send(&app, b.body(Body::from(body)).unwrap()).await;

        let rs = &ex["response"];
        let (status, body) = match deliberate_difference(n) {
            Some((s, b)) => (s, b.to_owned()),
            None => (
                u16::try_from(rs["status"].as_u64().unwrap()).unwrap(),
                rs["body"].as_str().unwrap().to_owned(),
            ),
        };
        assert_eq!(
            got.status.as_u16(),
            status,
            "T#{n} status; body {}",
            got.body
        );
        assert_eq!(got.body, body, "T#{n} body");

        // Headers of interest: exactly DRF's, except that Allow lists DELETE too.
        assert_eq!(
            header(&got, "content-type"),
            Some("application/json"),
            "T#{n}"
        );
        assert_eq!(
            header(&got, "allow"),
            Some("GET, POST, DELETE, HEAD, OPTIONS"),
            "T#{n}"
        );
        assert_eq!(header(&got, "vary"), Some("Accept"), "T#{n}");
        assert_eq!(header(&got, "location"), None, "T#{n}");
        if status == 401 {
            let want = challenge_for(&serde_json::from_str(&body).unwrap());
            assert_eq!(
                header(&got, "www-authenticate"),
                Some(want.as_str()),
                "T#{n}"
            );
        } else {
            assert_eq!(header(&got, "www-authenticate"), None, "T#{n}");
        }
        replayed += 1;
    }
    assert_eq!(replayed, 38);
}

#[tokio::test]
async fn schedule_lifecycle_post_get_delete() {
    let app = test_app(ScheduleStore::memory()).await;
    let example = r#"{"schedule":{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}}"#;

    let a = send(&app, bearer("POST", "/api/weekly_schedule/", example)).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::CREATED, example));

    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, example));

    let a = send(&app, bearer("DELETE", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.body, "");
    assert_eq!(
        header(&a, "allow"),
        Some("GET, POST, DELETE, HEAD, OPTIONS")
    );
    assert_eq!(header(&a, "vary"), Some("Accept"));

    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, r#"{"schedule":{}}"#)
    );

    // Deleting nothing is still a 204.
    let a = send(&app, bearer("DELETE", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn schedules_are_per_user() {
    let store = ScheduleStore::memory();
    store
        .put(
            "2",
            domain::validate_schedule(&serde_json::from_str(r#"{"friday":[]}"#).unwrap()).unwrap(),
        )
        .await
        .unwrap();
    let app = test_app(store).await;
    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.body, r#"{"schedule":{}}"#);
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let app = test_app(ScheduleStore::memory()).await;
    for m in ["PUT", "PATCH", "TRACE"] {
        let a = send(&app, bearer(m, "/api/weekly_schedule/", "")).await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
        assert_eq!(
            a.body,
            format!(r#"{{"detail":"Method \"{m}\" not allowed."}}"#)
        );
        assert_eq!(
            header(&a, "allow"),
            Some("GET, POST, DELETE, HEAD, OPTIONS")
        );
        assert_eq!(header(&a, "content-type"), Some("application/json"));
    }
    // Without a token, authentication comes first (DRF's order): 401, not 405.
    let req = Request::put("/api/weekly_schedule/")
        .body(Body::empty())
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        header(&a, "allow"),
        Some("GET, POST, DELETE, HEAD, OPTIONS")
    );
}

#[tokio::test]
async fn head_and_options() {
    let app = test_app(ScheduleStore::memory()).await;
    let a = send(&app, bearer("HEAD", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, "");
    assert_eq!(header(&a, "content-type"), Some("application/json"));

    let a = send(&app, bearer("OPTIONS", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.body,
        r#"{"name":"Weekly Schedule","description":"The caller's weekly schedule. GET reads it, POST replaces it, DELETE clears it.","renders":["application/json"],"parses":["application/json","application/x-www-form-urlencoded"]}"#
    );
}

#[tokio::test]
async fn bodies_drf_would_refuse() {
    let app = test_app(ScheduleStore::memory()).await;
    let cases: &[(&str, Option<&str>, u16, &str)] = &[
        // An empty body parses as {}.
        (
            "",
            Some("application/json"),
            400,
            r#"{"schedule":["This field is required."]}"#,
        ),
        // No content type: Django's development server calls it text/plain.
        (
            "{\"schedule\":{}}",
            None,
            415,
            r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
        ),
        // DRF's media-type match lets wildcards through to the JSON parser.
        (
            r#"{"schedule":{"Monday":[]}}"#,
            Some("*/*"),
            400,
            r#"{"schedule":{"Monday":["Unknown day \"Monday\"; expected one of monday, tuesday, wednesday, thursday, friday, saturday, sunday."]}}"#,
        ),
        // Forms give strings.
        (
            r#"{"schedule":{}}"#,
            Some("application/x-www-form-urlencoded"),
            400,
            r#"{"schedule":["This field is required."]}"#,
        ),
        (
            "schedule=%7B%7D&schedule=x",
            Some("application/x-www-form-urlencoded"),
            400,
            r#"{"schedule":["Expected a dictionary of days but got type \"str\"."]}"#,
        ),
        (
            "x",
            Some("multipart/form-data; boundary=x"),
            415,
            r#"{"detail":"Unsupported media type \"multipart/form-data; boundary=x\" in request."}"#,
        ),
        // Floats (1e2, 1.0) are not integers. Python reads -0 as the integer 0, serde_json as
        // the float -0.0: refused here (a documented difference).
        (
            r#"{"schedule":{"monday":[{"start":"10:00","stop":"11:00","ids":[1e2,1.0,-0]}]}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"monday":{"0":{"ids":{"0":["A valid integer is required."],"1":["A valid integer is required."],"2":["A valid integer is required."]}}}}}"#,
        ),
        (
            "x",
            Some("text/plain"),
            415,
            r#"{"detail":"Unsupported media type \"text/plain\" in request."}"#,
        ),
        (
            "[1]",
            Some("application/json"),
            400,
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}"#,
        ),
        (
            "\"s\"",
            Some("application/json"),
            400,
            r#"{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]}"#,
        ),
        (
            "null",
            Some("application/json"),
            400,
            r#"{"non_field_errors":["No data provided"]}"#,
        ),
        (
            r#"{"schedule":null}"#,
            Some("application/json"),
            400,
            r#"{"schedule":["This field may not be null."]}"#,
        ),
        (
            r#"{"schedule":"x"}"#,
            Some("application/json; charset=utf-8"),
            400,
            r#"{"schedule":["Expected a dictionary of days but got type \"str\"."]}"#,
        ),
        (
            r#"{"schedule":1.5}"#,
            Some("Application/JSON"),
            400,
            r#"{"schedule":["Expected a dictionary of days but got type \"float\"."]}"#,
        ),
        (
            r#"{"schedule":{"monday":null,"friday":"x","sunday":true}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"monday":["This field may not be null."],"friday":["Expected a list of items but got type \"str\"."],"sunday":["Expected a list of items but got type \"bool\"."]}}"#,
        ),
        (
            r#"{"schedule":{"monday":[null,"x",[],{}]}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"monday":{"0":["This field may not be null."],"1":{"non_field_errors":["Invalid data. Expected a dictionary, but got str."]},"2":{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]},"3":{"start":["This field is required."],"stop":["This field is required."],"ids":["This field is required."]}}}}"#,
        ),
        (
            r#"{"schedule":{"monday":[{"start":null,"stop":"24:00","ids":[null,-3,"1"]}]}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"monday":{"0":{"start":["This field may not be null."],"ids":{"0":["This field may not be null."],"2":["A valid integer is required."]}}}}}"#,
        ),
        (
            r#"{"schedule":{"monday":[{"start":"24:00","stop":"24:00","ids":1}]}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"monday":{"0":{"start":["Time must be a string in 24-hour \"HH:MM\" format."],"ids":["Expected a list of items but got type \"int\"."]}}}}"#,
        ),
        (
            r#"{"schedule":{"tuesday":[{"start":"12:00","stop":"12:00","ids":[]}]}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"tuesday":{"0":{"stop":["stop must be later than start."]}}}}"#,
        ),
        // The README's example.
        (
            r#"{"schedule":{"funday":[],"monday":[{"start":"10:00","stop":"09:00","ids":["1"]}]}}"#,
            Some("application/json"),
            400,
            r#"{"schedule":{"funday":["Unknown day \"funday\"; expected one of monday, tuesday, wednesday, thursday, friday, saturday, sunday."],"monday":{"0":{"ids":{"0":["A valid integer is required."]}}}}}"#,
        ),
        // Unknown keys are ignored, the day name is echoed (with JSON escaping, and DRF's
        // escaping of U+2028).
        (
            "{\"schedule\":{\"x\\\"\u{2028}\":[]},\"extra\":1}",
            Some("application/json"),
            400,
            r#"{"schedule":{"x\"\u2028":["Unknown day \"x\"\u2028\"; expected one of monday, tuesday, wednesday, thursday, friday, saturday, sunday."]}}"#,
        ),
    ];
    for (body, ct, status, want) in cases {
        let mut b = Request::post("/api/weekly_schedule/")
            .header("authorization", format!("Bearer {ACCESS_1}"));
        if let Some(ct) = ct {
            b = b.header("content-type", *ct);
        }
        let a = send(&app, b.body(Body::from(body.to_string())).unwrap()).await;
        assert_eq!(
            (a.status.as_u16(), a.body.as_str()),
            (*status, *want),
            "body {body:?}"
        );
    }

    // Malformed JSON: DRF's prefix, serde_json's wording after it.
    let a = send(
        &app,
        bearer("POST", "/api/weekly_schedule/", "{\"schedule\":"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.body,
        r#"{"detail":"JSON parse error - EOF while parsing a value at line 1 column 12"}"#
    );

    // Nothing was stored by any of these.
    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.body, r#"{"schedule":{}}"#);
}

#[tokio::test]
async fn a_valid_edge_schedule_is_normalised() {
    let app = test_app(ScheduleStore::memory()).await;
    let body = r#"{"schedule":{"sunday":[{"ids":[9007199254740993,-1,0],"stop":"24:00","start":"23:59"}],"wednesday":[],"monday":[{"stop":"00:01","start":"00:00","ids":[]}]}}"#;
    let a = send(&app, bearer("POST", "/api/weekly_schedule/", body)).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(
        a.body,
        r#"{"schedule":{"monday":[{"start":"00:00","stop":"00:01","ids":[]}],"wednesday":[],"sunday":[{"start":"23:59","stop":"24:00","ids":[9007199254740993,-1,0]}]}}"#
    );
}

#[tokio::test]
async fn append_slash_redirects_healthz_and_404() {
    let app = test_app(ScheduleStore::memory()).await;
    for (path, location) in [
        ("/api/token", "/api/token/"),
        ("/api/token/refresh?x=1", "/api/token/refresh/?x=1"),
        ("/api/token/verify", "/api/token/verify/"),
        ("/api/token/blacklist", "/api/token/blacklist/"),
        ("/api/weekly_schedule", "/api/weekly_schedule/"),
    ] {
        let a = send(&app, Request::post(path).body(Body::empty()).unwrap()).await;
        assert_eq!(a.status, StatusCode::MOVED_PERMANENTLY, "{path}");
        assert_eq!(header(&a, "location"), Some(location));
        assert_eq!(header(&a, "content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(a.body, "");
    }

    let a = send(&app, Request::get("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, r#"{"status":"ok"}"#)
    );
    let a = send(&app, Request::post("/healthz").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&a, "allow"), Some("GET, HEAD"));
    assert_eq!(a.body, r#"{"detail":"Method \"POST\" not allowed."}"#);

    let a = send(&app, Request::get("/nope").body(Body::empty()).unwrap()).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#)
    );
    assert_eq!(header(&a, "content-type"), Some("application/json"));
}

#[tokio::test]
async fn oversized_bodies_get_a_json_413() {
    let app = app(state(ScheduleStore::memory(), 100).await);
    let big = format!(r#"{{"schedule":{{}},"pad":"{}"}}"#, "x".repeat(200));
    // Declared by Content-Length: refused before anything else (even before authentication).
    let req = Request::post("/api/weekly_schedule/")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        a.body,
        r#"{"detail":"Request body is too large (the limit is 100 bytes)."}"#
    );

    // Streamed without a length: refused while reading.
    let req = Request::post("/api/weekly_schedule/")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {ACCESS_1}"))
        .body(Body::new(Unsized(Some(bytes::Bytes::from(big.clone())))))
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        a.body,
        r#"{"detail":"Request body is too large (the limit is 100 bytes)."}"#
    );

    // Just under the limit is fine.
    let ok = r#"{"schedule":{"friday":[]}}"#;
    let a = send(&app, bearer("POST", "/api/weekly_schedule/", ok)).await;
    assert_eq!(a.status, StatusCode::CREATED);
}

/// A body of one chunk whose length is not announced (no Content-Length can be derived).
struct Unsized(Option<bytes::Bytes>);

impl http_body::Body for Unsized {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.take().map(|b| Ok(http_body::Frame::data(b))))
    }
}

#[tokio::test]
async fn schedules_persist_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = storage::schedules_path(dir.path());
    let example = r#"{"schedule":{"monday":[{"start":"00:00","stop":"01:00","ids":[1]}]}}"#;
    {
        let app = test_app(ScheduleStore::open(&path).unwrap()).await;
        let a = send(&app, bearer("POST", "/api/weekly_schedule/", example)).await;
        assert_eq!(a.status, StatusCode::CREATED);
    }
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        on_disk,
        serde_json::json!({"version": 1, "schedules": {"1": {"monday": [{"start": "00:00", "stop": "01:00", "ids": [1]}]}}})
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A new store (a restart) reads it back.
    let app = test_app(ScheduleStore::open(&path).unwrap()).await;
    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.body, example);

    // A corrupt file is refused, never silently replaced by an empty store.
    std::fs::write(&path, b"{not json").unwrap();
    let err = ScheduleStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("is corrupt"), "{err}");
}

fn post_json(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn token_routes_are_mounted_as_they_are() {
    let app = test_app(ScheduleStore::memory()).await;

    // Obtain.
    let a = send(
        &app,
        post_json(
            "/api/token/",
            r#"{"username":"alice","password":"wonderland-42"}"#,
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(header(&a, "allow"), Some("POST, OPTIONS"));
    assert_eq!(header(&a, "vary"), Some("Accept"));
    assert_eq!(header(&a, "content-type"), Some("application/json"));
    let pair: Value = serde_json::from_str(&a.body).unwrap();
    let keys: Vec<&str> = pair
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["access", "refresh"]); // serde_json sorts; order is checked below
    assert!(a.body.starts_with(r#"{"refresh":""#), "{}", a.body);
    let access = pair["access"].as_str().unwrap().to_owned();
    let refresh = pair["refresh"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&access)["user_id"], "1");
    assert_eq!(claims_of(&access)["exp"], NOW + 300);

    // The issued access token opens the schedule.
    let req = Request::get("/api/weekly_schedule/")
        .header("authorization", format!("Bearer {access}"))
        .body(Body::empty())
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(
        (a.status, a.body.as_str()),
        (StatusCode::OK, r#"{"schedule":{}}"#)
    );

    // A wrong password.
    let a = send(
        &app,
        post_json("/api/token/", r#"{"username":"alice","password":"nope"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        r#"{"detail":"No active account found with the given credentials"}"#
    );

    // Refresh.
    let a = send(
        &app,
        post_json(
            "/api/token/refresh/",
            &format!(r#"{{"refresh":"{refresh}"}}"#),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.starts_with(r#"{"access":""#));

    // Verify.
    let a = send(
        &app,
        post_json("/api/token/verify/", &format!(r#"{{"token":"{access}"}}"#)),
    )
    .await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "{}"));

    // Blacklist, then refresh with the blacklisted token.
    let a = send(
        &app,
        post_json(
            "/api/token/blacklist/",
            &format!(r#"{{"refresh":"{refresh}"}}"#),
        ),
    )
    .await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "{}"));
    let a = send(
        &app,
        post_json(
            "/api/token/refresh/",
            &format!(r#"{{"refresh":"{refresh}"}}"#),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#
    );

    // GET on a token route.
    let a = send(
        &app,
        Request::get("/api/token/").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.body, r#"{"detail":"Method \"GET\" not allowed."}"#);
    assert_eq!(header(&a, "allow"), Some("POST, OPTIONS"));
}

#[tokio::test]
async fn the_panic_backstop_answers_json_500_without_the_payload() {
    let res = crate::compat::panic_response(Box::new(String::from("secret payload")));
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], br#"{"detail":"A server error occurred."}"#);
}

/// A body that never finishes (a stalled upload).
struct Stalled;

impl http_body::Body for Stalled {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        std::task::Poll::Pending
    }
}

#[tokio::test]
async fn a_stalled_upload_gets_a_json_408() {
    let mut st = state(ScheduleStore::memory(), DEFAULT_BODY_LIMIT).await;
    st.request_timeout = std::time::Duration::from_millis(200);
    let app = app(st);
    let req = Request::post("/api/weekly_schedule/")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {ACCESS_1}"))
        .body(Body::new(Stalled))
        .unwrap();
    let a = send(&app, req).await;
    assert_eq!(a.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(a.body, r#"{"detail":"Request timed out."}"#);
}

/// The per-request user check reads the store on every request: deactivating or deleting a user
/// locks their still-valid access token out at once.
#[tokio::test]
async fn deactivated_and_deleted_users_are_locked_out_at_once() {
    let st = state(ScheduleStore::memory(), DEFAULT_BODY_LIMIT).await;
    let users = st.users.clone();
    let app = app(st);
    let alice = tower_jwt_auth::UserId::from("1");

    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::OK);

    assert!(users.set_active(&alice, false).await.unwrap());
    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        r#"{"detail":"User is inactive","code":"user_inactive"}"#
    );

    assert!(users.set_active(&alice, true).await.unwrap());
    let a = send(&app, bearer("GET", "/api/weekly_schedule/", "")).await;
    assert_eq!(a.status, StatusCode::OK);

    assert!(users.remove(&alice).await.unwrap());
    let a = send(
        &app,
        bearer("POST", "/api/weekly_schedule/", r#"{"schedule":{}}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        a.body,
        r#"{"detail":"User not found","code":"user_not_found"}"#
    );
    assert_eq!(
        header(&a, "allow"),
        Some("GET, POST, DELETE, HEAD, OPTIONS")
    );
    assert_eq!(header(&a, "vary"), Some("Accept"));
}

/// The page, its assets and the OpenAPI description are served from the binary, the page with
/// a CSP that forbids inline script; every path and method the description lists is routed.
#[tokio::test]
async fn the_page_and_the_api_description_are_served() {
    let app = test_app(ScheduleStore::memory()).await;
    let a = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(header(&a, "content-type"), Some("text/html; charset=utf-8"));
    let csp = header(&a, "content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(
        a.body
            .contains(r#"<script src="/static/app.js" defer></script>"#)
    );
    for (path, ty) in [
        ("/static/app.js", "text/javascript; charset=utf-8"),
        ("/static/app.css", "text/css; charset=utf-8"),
        ("/static/icon.svg", "image/svg+xml"),
    ] {
        let a = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(
            (a.status, header(&a, "content-type")),
            (StatusCode::OK, Some(ty))
        );
    }
    let a = send(
        &app,
        Request::get("/api/schema/").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let spec: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let paths = spec["paths"].as_object().unwrap();
    assert_eq!(paths.len(), 6);
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(path.as_str())
                .body(Body::empty())
                .unwrap();
            let a = send(&app, req).await;
            assert!(
                ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&a.status),
                "{method} {path}: {}",
                a.status
            );
        }
    }
}
