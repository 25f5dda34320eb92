//! Replays the recorded simplejwt exchanges (WIRE.md, transcript part 1 sections A–D and part 2)
//! against the token services and compares status, headers, bodies and the claims of every
//! issued token (exact header JSON; exact payload JSON, key order included, except the `jti`
//! value). The reference server's tokens are reused as recorded: it signed with the same secret,
//! and a fixed clock makes their `exp`/`iat` valid here.
#![allow(clippy::unwrap_used)]

use crate::support::token::*;
use http::{Request, StatusCode};
use serde_json::Value;
use tower_jwt_auth::token::TokenSettings;
use tower_jwt_auth::{JwtAuthLayer, SimpleJwtClaims, TokenPayload, Verifier};

fn transcript() -> Value {
    serde_json::from_str(include_str!("../fixtures/simplejwt_transcript.json")).unwrap()
}

fn jti_free(payload: &str) -> String {
    let mut p: TokenPayload = serde_json::from_str(payload).unwrap();
    let jti = p
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    assert_eq!(jti.len(), 32, "jti {jti:?}");
    assert!(jti.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    p.set("jti", "<jti>");
    serde_json::to_string(&p).unwrap()
}

fn request(ex: &Value) -> Request<String> {
    let r = &ex["request"];
    let mut b = Request::builder()
        .method(r["method"].as_str().unwrap())
        .uri(r["path"].as_str().unwrap());
    for (k, v) in r["headers"].as_object().unwrap() {
        b = b.header(k.as_str(), v.as_str().unwrap());
    }
    b.body(r["body"].as_str().unwrap_or_default().to_owned())
        .unwrap()
}

async fn dispatch(env: &Env, ex: &Value) -> Res {
    let req = request(ex);
    let e = &env.endpoints;
    match ex["request"]["path"].as_str().unwrap() {
        "/api/token/" => send(e.obtain(), req).await,
        "/api/token/refresh/" => send(e.refresh(), req).await,
        "/api/token/verify/" => send(e.verify(), req).await,
        "/api/token/blacklist/" => send(e.blacklist(), req).await,
        other => panic!("no route for {other}"),
    }
}

/// Compares one exchange; returns a description of the first difference.
fn compare(ex: &Value, res: &Res) {
    let n = ex["n"].as_u64().unwrap();
    let want = &ex["response"];
    let ctx = format!("#{n} {}", ex["title"]);
    assert_eq!(
        res.status.as_u16() as u64,
        want["status"].as_u64().unwrap(),
        "{ctx}: {res:?}"
    );
    let headers = want["headers"].as_object().unwrap();
    for (k, v) in headers {
        assert_eq!(
            res.header(k),
            Some(v.as_str().unwrap()),
            "{ctx}: header {k}"
        );
    }
    if !headers.contains_key("WWW-Authenticate") {
        assert_eq!(res.header("www-authenticate"), None, "{ctx}");
    }
    assert_eq!(res.header("cache-control"), Some("no-store"), "{ctx}");
    let decoded = want["decoded_tokens"].as_object().unwrap();
    if decoded.is_empty() {
        assert_eq!(res.body, want["body"].as_str().unwrap(), "{ctx}");
        return;
    }
    // Same keys, same order.
    let ours: TokenPayload = serde_json::from_str(&res.body).unwrap();
    let theirs: TokenPayload = serde_json::from_str(want["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "{ctx}"
    );
    for (name, tok) in decoded {
        let ours = ours.get(name).and_then(Value::as_str).unwrap();
        let (h, p) = decode_raw(ours);
        assert_eq!(h, tok["header"].as_str().unwrap(), "{ctx}: {name} header");
        assert_eq!(
            jti_free(&p),
            jti_free(tok["payload"].as_str().unwrap()),
            "{ctx}: {name} payload"
        );
    }
}

/// The latest `iat` among the tokens a response is expected to carry.
fn expected_iat(ex: &Value) -> Option<i64> {
    ex["response"]["decoded_tokens"]
        .as_object()?
        .values()
        .filter_map(|t| {
            let p: Value = serde_json::from_str(t["payload"].as_str()?).ok()?;
            p["iat"].as_i64()
        })
        .max()
}

async fn replay(part: &str, settings: TokenSettings, skip: &[u64], max_n: u64) -> usize {
    let t = transcript();
    let env = env(settings).await;
    let mut replayed = 0;
    for ex in t[part].as_array().unwrap() {
        let n = ex["n"].as_u64().unwrap();
        if n > max_n || skip.contains(&n) {
            continue;
        }
        if let Some(iat) = expected_iat(ex) {
            env.clock.set(iat);
        }
        if ex["request"]["path"] == "/api/weekly_schedule/" {
            // A protected route behind the layer: access tokens keep working after their
            // refresh token is blacklisted (T#41) or rotated and blacklisted (R#11).
            let res = protected(&env, ex).await;
            assert_eq!(res, StatusCode::OK, "#{n}");
        } else {
            let res = dispatch(&env, ex).await;
            compare(ex, &res);
        }
        replayed += 1;
    }
    replayed
}

async fn protected(env: &Env, ex: &Value) -> StatusCode {
    use tower::ServiceExt;
    let verifier = Verifier::new(keys()).clock(env.clock.clock());
    let svc = tower::ServiceBuilder::new()
        .layer(JwtAuthLayer::<SimpleJwtClaims>::new(verifier))
        .service(tower::service_fn(|_req: Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("{}")))
        }));
    svc.oneshot(request(ex)).await.unwrap().status()
}

#[tokio::test]
async fn part1_sections_a_to_d() {
    // Skipped: #16 (Django's APPEND_SLASH redirect: routing, not the view), #27 and #28
    // (simplejwt's 500s; our 401s are asserted below).
    let n = replay(
        "part1_default_settings",
        TokenSettings::default(),
        &[16, 27, 28],
        44,
    )
    .await;
    assert_eq!(n, 41);
}

#[tokio::test]
async fn part2_rotation_with_blacklist_after_rotation() {
    let n = replay(
        "part2_rotate_and_blacklist_after_rotation",
        TokenSettings::rotating(),
        &[],
        99,
    )
    .await;
    assert_eq!(n, 11);
}

fn exchange(part: &str, n: u64) -> Value {
    transcript()[part]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["n"] == n)
        .unwrap()
        .clone()
}

/// WIRE §2.7 case 2 (T#27): a validly signed refresh token without `jti` is a 401, not a 500.
#[tokio::test]
async fn t27_refresh_without_jti_is_401() {
    let env = env(TokenSettings::default()).await;
    let res = dispatch(&env, &exchange("part1_default_settings", 27)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token has no id","code":"token_not_valid"}"#
    );
    assert_framing(&res);
}

/// WIRE §2.7 case 1 (T#28): a refresh token of a non-existent user is a 401, not a 500.
#[tokio::test]
async fn t28_refresh_of_missing_user_is_401() {
    let env = env(TokenSettings::default()).await;
    let res = dispatch(&env, &exchange("part1_default_settings", 28)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"No active account found for the given token."}"#
    );
    assert_framing(&res);
}
