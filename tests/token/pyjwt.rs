//! Interop with PyJWT (what simplejwt uses): a token PyJWT mints the way simplejwt does is
//! accepted here byte for byte, and a token minted here decodes in PyJWT with simplejwt's checks.
//!
//! Needs `python3` with PyJWT (`.ci/install-deps` installs it). Without python3 the tests print
//! why they are skipped; with python3 but without PyJWT they fail.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use http::StatusCode;
use tower_jwt_auth::token::{Issuer, TokenEndpoints, TokenSettings};
use tower_jwt_auth::{Clock, SimpleJwtClaims, TokenPayload, TokenType, Verifier};

use crate::support::*;

/// Runs a Python snippet with arguments; `None` if python3 is absent.
fn python(code: &str, args: &[&str]) -> Option<String> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed, so the PyJWT interop tests cannot run");
        return None;
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 failed (is PyJWT installed? run .ci/install-deps):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

/// simplejwt 5.5.1's minting, in PyJWT: a dict in insertion order, `uuid4().hex`, string user id.
const PY_MINT: &str = r#"
import sys, uuid, jwt
secret, kind, now, life = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
payload = {"token_type": kind, "exp": now + life, "iat": now, "jti": uuid.uuid4().hex}
payload["user_id"] = str(1)
payload["role"] = "admin"
print(jwt.encode(payload, secret, algorithm="HS256"))
"#;

#[tokio::test]
async fn pyjwt_minted_tokens_work_here() {
    let now = T_IAT;
    let Some(access) = python(PY_MINT, &[SECRET, "access", &now.to_string(), "300"]) else {
        return;
    };
    let refresh = python(PY_MINT, &[SECRET, "refresh", &now.to_string(), "86400"]).unwrap();

    // The layer's verifier accepts the access token and reads its claims.
    let v = Verifier::new(ref_keys()).clock(Clock::fixed(now + 1));
    let got = v.verify::<SimpleJwtClaims>(&access).unwrap();
    assert_eq!(got.claims.user_id.as_str(), "1");
    assert_eq!(got.claims.extra["role"], "admin");
    assert!(
        v.verify::<SimpleJwtClaims>(&refresh).is_err(),
        "a refresh token is not an access token"
    );

    // Byte-identical: our encoder produces PyJWT's exact token for the same payload.
    let (_, p) = decode_raw(&access);
    let payload: TokenPayload = serde_json::from_str(&p).unwrap();
    assert_eq!(ref_keys().encode(&payload).unwrap(), access);

    // The services accept them too.
    let env = env(TokenSettings::default()).await;
    env.clock.set(now + 1);
    let res = send(env.endpoints.refresh(), refresh_req(&refresh)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // The custom claim is carried into the new access token, after user_id.
    let (_, p) = decode_raw(&res.token("access"));
    assert!(p.ends_with(r#","user_id":"1","role":"admin"}"#), "{p}");
    let res = send(env.endpoints.verify(), token_req(&access)).await;
    assert_eq!((res.status, res.body.as_str()), (StatusCode::OK, "{}"));
}

/// simplejwt's decode (`TokenBackend.decode` + `Token.verify` + type check), in PyJWT. Prints the
/// payload as compact JSON in the token's order.
const PY_DECODE: &str = r#"
import sys, json, jwt
secret, token, want_type, aud = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
opts = {"verify_aud": bool(aud), "verify_signature": True}
p = jwt.decode(token, secret, algorithms=["HS256"], audience=aud or None, options=opts, leeway=0)
assert "exp" in p, "Token has no 'exp' claim"
assert "jti" in p, "Token has no id"
assert p["token_type"] == want_type, "Token has wrong type"
assert isinstance(p["user_id"], str), "user_id is a string since 5.5.1"
assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
print(json.dumps(p, separators=(",", ":")))
"#;

#[tokio::test]
async fn tokens_minted_here_decode_in_pyjwt() {
    // PyJWT checks exp and iat against the real clock.
    let issuer = Issuer::new(ref_keys()).unwrap().clock(Clock::system());
    let users = Users::transcript().await;
    let endpoints =
        TokenEndpoints::new(issuer, users, Revocations::new(), TokenSettings::rotating()).unwrap();
    let res = send(
        endpoints.obtain(),
        json(r#"{"username":"alice","password":"wonderland-42"}"#),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    let refresh = res.token("refresh");
    let access = res.token("access");
    let Some(p) = python(PY_DECODE, &[SECRET, &access, "access", ""]) else {
        return;
    };
    // PyJWT sees the same payload, in the same order.
    assert_eq!(p, decode_raw(&access).1);
    let p = python(PY_DECODE, &[SECRET, &refresh, "refresh", ""]).unwrap();
    assert_eq!(p, decode_raw(&refresh).1);

    // After a rotation, both new tokens still decode in PyJWT.
    let res = send(endpoints.refresh(), refresh_req(&refresh)).await;
    assert_eq!(res.status, StatusCode::OK);
    python(PY_DECODE, &[SECRET, &res.token("access"), "access", ""]).unwrap();
    python(PY_DECODE, &[SECRET, &res.token("refresh"), "refresh", ""]).unwrap();

    // With an audience, PyJWT's audience check passes, and fails for another audience.
    let issuer = Issuer::new(ref_keys()).unwrap().audience("my-api");
    let pair = issuer.pair_for_user(&user("7", "bob", "pw", true)).unwrap();
    python(PY_DECODE, &[SECRET, &pair.access.token, "access", "my-api"]).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_DECODE)
        .args([SECRET, &pair.access.token, "access", "other-api"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidAudienceError"));

    // And the sliding token.
    let v = Verifier::new(ref_keys()).token_types([TokenType::SLIDING]);
    let sliding = Issuer::new(ref_keys())
        .unwrap()
        .sliding_for_user(&user("1", "alice", "x", true))
        .unwrap();
    assert!(v.verify::<SimpleJwtClaims>(&sliding.token).is_ok());
    let p = python(PY_DECODE, &[SECRET, &sliding.token, "sliding", ""]).unwrap();
    assert!(p.contains(r#","refresh_exp":"#), "{p}");
}
