//! The claims of issued tokens, decoded and compared as raw JSON with simplejwt 5.5.1's (key order
//! included), for pairs, refreshes, sliding tokens, custom claims, kids and asymmetric keys.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use http::StatusCode;
use serde_json::{Value, json};
use tower_jwt_auth::token::{Issuer, TokenSettings};
use tower_jwt_auth::{Algorithm, Key, Keys, SimpleJwtClaims, TokenPayload, TokenType, Verifier};

use crate::support::*;

/// The raw payload with the `jti` value replaced, after checking its format.
fn payload(token: &str) -> (String, String) {
    let (h, p) = decode_raw(token);
    let mut tp: TokenPayload = serde_json::from_str(&p).unwrap();
    let jti = tp.get("jti").unwrap().as_str().unwrap().to_owned();
    assert_eq!(jti.len(), 32);
    assert!(
        jti.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{jti}"
    );
    tp.set("jti", "J");
    let _ = h;
    (serde_json::to_string(&tp).unwrap(), jti)
}

fn header(token: &str) -> String {
    decode_raw(token).0
}

#[tokio::test]
async fn obtain_pair_claims_in_simplejwt_order() {
    let env = env(TokenSettings::default()).await;
    let res = send(env.endpoints.obtain(), json(ALICE_LOGIN)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.body
            .starts_with(r#"{"refresh":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."#)
    );
    let refresh = res.token("refresh");
    let access = res.token("access");
    assert_eq!(header(&refresh), r#"{"alg":"HS256","typ":"JWT"}"#);
    assert_eq!(header(&access), r#"{"alg":"HS256","typ":"JWT"}"#);
    let (rp, rj) = payload(&refresh);
    let (ap, aj) = payload(&access);
    assert_eq!(
        rp,
        format!(
            r#"{{"token_type":"refresh","exp":{},"iat":{T_IAT},"jti":"J","user_id":"1"}}"#,
            T_IAT + 86_400
        )
    );
    assert_eq!(
        ap,
        format!(
            r#"{{"token_type":"access","exp":{},"iat":{T_IAT},"jti":"J","user_id":"1"}}"#,
            T_IAT + 300
        )
    );
    assert_ne!(rj, aj);
    // Our own verifier accepts them with the right types, and tells them apart.
    let v = Verifier::new(ref_keys()).clock(env.clock.clock());
    assert!(v.verify::<SimpleJwtClaims>(&access).is_ok());
    assert!(v.verify::<SimpleJwtClaims>(&refresh).is_err());
    let vr = v.token_types([TokenType::REFRESH]);
    assert!(vr.verify::<SimpleJwtClaims>(&refresh).is_ok());
}

#[tokio::test]
async fn refresh_mints_access_from_now_and_copies_custom_claims() {
    let env = env_with(TokenSettings::rotating(), |i| {
        i.audience("my-api")
            .issuer("https://auth.example")
            .claims(|u| {
                let mut m = serde_json::Map::new();
                m.insert("tier".into(), json!("gold"));
                m.insert("name".into(), json!(u.username));
                // Registered claims cannot be overridden by a hook.
                m.insert("exp".into(), json!(1));
                m.insert("user_id".into(), json!("0"));
                m
            })
    })
    .await;
    let mut claims = serde_json::Map::new();
    claims.insert("role".into(), json!("admin"));
    claims.insert("org".into(), json!({"id": 7}));
    claims.insert("token_type".into(), json!("access"));
    env.users.set_claims("1", claims).await;

    // Extra body fields never become claims.
    let body =
        r#"{"username":"alice","password":"wonderland-42","role":"root","user_id":"9","exp":1}"#;
    let res = send(env.endpoints.obtain(), json(body)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let tail = r#""user_id":"1","org":{"id":7},"role":"admin","name":"alice","tier":"gold","aud":"my-api","iss":"https://auth.example"}"#;
    let (rp, old_jti) = payload(&res.token("refresh"));
    assert_eq!(
        rp,
        format!(
            r#"{{"token_type":"refresh","exp":{},"iat":{T_IAT},"jti":"J",{tail}"#,
            T_IAT + 86_400
        )
    );
    let (ap, _) = payload(&res.token("access"));
    assert_eq!(
        ap,
        format!(
            r#"{{"token_type":"access","exp":{},"iat":{T_IAT},"jti":"J",{tail}"#,
            T_IAT + 300
        )
    );

    // 1000 s later: the access token is based on now, and the rotated refresh token keeps the
    // claims with a new jti, exp and iat.
    env.clock.advance(1000);
    let now = T_IAT + 1000;
    let req = refresh_req(&res.token("refresh"));
    let res2 = send(env.endpoints.refresh(), req).await;
    assert_eq!(res2.status, StatusCode::OK, "{}", res2.body);
    assert!(res2.body.starts_with(r#"{"access":"#));
    let (ap2, _) = payload(&res2.token("access"));
    assert_eq!(
        ap2,
        format!(
            r#"{{"token_type":"access","exp":{},"iat":{now},"jti":"J",{tail}"#,
            now + 300
        )
    );
    let (rp2, new_jti) = payload(&res2.token("refresh"));
    assert_eq!(
        rp2,
        format!(
            r#"{{"token_type":"refresh","exp":{},"iat":{now},"jti":"J",{tail}"#,
            now + 86_400
        )
    );
    assert_ne!(old_jti, new_jti);
    assert!(env.revocations.is_revoked_sync(&old_jti));
    assert!(!env.revocations.is_revoked_sync(&new_jti));

    // The audience is enforced on decode: a verifier without it rejects, with it accepts.
    let v = Verifier::new(ref_keys()).clock(env.clock.clock());
    assert!(v.verify::<SimpleJwtClaims>(&res2.token("access")).is_err());
    let v = v.audience(["my-api"]).issuer(["https://auth.example"]);
    let c = v
        .verify::<SimpleJwtClaims>(&res2.token("access"))
        .unwrap()
        .claims;
    assert_eq!(c.extra["role"], "admin");
}

#[tokio::test]
async fn kid_header_and_custom_lifetimes_are_applied() {
    let key = Key::hmac(Algorithm::HS256, SECRET)
        .unwrap()
        .with_kid("2026-11");
    let clock = TestClock::new(T_IAT);
    let issuer = Issuer::new(Keys::new(key))
        .unwrap()
        .clock(clock.clock())
        .access_token_lifetime(Duration::from_secs(60))
        .unwrap()
        .refresh_token_lifetime(Duration::from_secs(3600))
        .unwrap();
    let pair = issuer
        .pair_for_user(&user("42", "zed", "pw", true))
        .unwrap();
    assert_eq!(
        header(&pair.access.token),
        r#"{"alg":"HS256","kid":"2026-11","typ":"JWT"}"#
    );
    assert_eq!(
        payload(&pair.refresh.token).0,
        format!(
            r#"{{"token_type":"refresh","exp":{},"iat":{T_IAT},"jti":"J","user_id":"42"}}"#,
            T_IAT + 3600
        )
    );
    assert_eq!(pair.access.exp, T_IAT + 60);
    assert!(
        Issuer::new(ref_keys())
            .unwrap()
            .access_token_lifetime(Duration::ZERO)
            .is_err()
    );
    // IssuedToken's Debug hides the token.
    let dbg = format!("{:?}", pair.access);
    assert!(!dbg.contains(&pair.access.token[..20]), "{dbg}");
}

#[tokio::test]
async fn sliding_tokens_refresh_with_the_same_jti_until_refresh_exp() {
    let env = env(TokenSettings::default()).await;
    let res = send(env.endpoints.sliding_obtain(), json(ALICE_LOGIN)).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_framing(&res);
    assert!(res.body.starts_with(r#"{"token":"#));
    let tok = res.token("token");
    let (p, jti) = payload(&tok);
    let refresh_exp = T_IAT + 86_400;
    assert_eq!(
        p,
        format!(
            r#"{{"token_type":"sliding","exp":{},"iat":{T_IAT},"jti":"J","refresh_exp":{refresh_exp},"user_id":"1"}}"#,
            T_IAT + 300
        )
    );

    env.clock.advance(100);
    let res = send(env.endpoints.sliding_refresh(), token_req(&tok)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let tok2 = res.token("token");
    let (p2, jti2) = payload(&tok2);
    assert_eq!(jti, jti2, "same jti");
    assert_eq!(
        p2,
        format!(
            r#"{{"token_type":"sliding","exp":{},"iat":{},"jti":"J","refresh_exp":{refresh_exp},"user_id":"1"}}"#,
            T_IAT + 400,
            T_IAT + 100
        )
    );

    // A refresh token is not a sliding token.
    let pair = send(env.endpoints.obtain(), json(ALICE_LOGIN)).await;
    let res = send(
        env.endpoints.sliding_refresh(),
        token_req(&pair.token("refresh")),
    )
    .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"Token has wrong type","code":"token_not_valid"}"#
    );
}

#[tokio::test]
async fn sliding_refresh_refuses_expired_inactive_and_revoked_tokens() {
    let env = env(TokenSettings::default()).await;
    let now = T_IAT;
    let mk = |extra: &str| {
        mint_raw(&format!(
            r#"{{"token_type":"sliding","exp":{},"iat":{now},"jti":"0123456789abcdef0123456789abcdef"{extra},"user_id":"1"}}"#,
            now + 300
        ))
    };
    let cases = [
        (
            mk(""),
            r#"{"detail":"Token has no 'refresh_exp' claim","code":"token_not_valid"}"#,
        ),
        (
            mk(&format!(r#","refresh_exp":{now}"#)),
            r#"{"detail":"Token 'refresh_exp' claim has expired","code":"token_not_valid"}"#,
        ),
    ];
    for (tok, want) in cases {
        let res = send(env.endpoints.sliding_refresh(), token_req(&tok)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        assert_eq!(res.body, want);
        assert_framing(&res);
    }
    // Inactive user: refused like a refresh.
    let tok = mk(&format!(r#","refresh_exp":{}"#, now + 10));
    env.users.set_active("1", false).await;
    let res = send(env.endpoints.sliding_refresh(), token_req(&tok)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.body,
        r#"{"detail":"No active account found for the given token."}"#
    );
    // Revoked sliding token.
    env.users.set_active("1", true).await;
    use tower_jwt_auth::store::RevocationStore;
    env.revocations
        .revoke_if_absent("0123456789abcdef0123456789abcdef", now + 300)
        .await
        .unwrap();
    let res = send(env.endpoints.sliding_refresh(), token_req(&tok)).await;
    assert_eq!(
        res.body,
        r#"{"detail":"Token is blacklisted","code":"token_not_valid"}"#
    );
    let _: Value = res.json();
}

/// Asymmetric keys: the services mint with the private key and verify with the public one; a
/// public-only key cannot sign.
#[tokio::test]
async fn rs256_and_eddsa_keys_sign_and_verify_tokens() {
    let read = |f: &str| fixture(&format!("keys/{f}"));
    let rsa = Key::rsa_pem(Algorithm::RS256, read("rsa.public.pem")).unwrap();
    assert!(
        Issuer::new(Keys::new(rsa.clone())).is_err(),
        "a public key cannot sign"
    );
    let cases = [
        (
            rsa.with_private_pem(read("rsa.private.pem"))
                .unwrap()
                .with_kid("rsa-1"),
            r#"{"alg":"RS256","kid":"rsa-1","typ":"JWT"}"#,
        ),
        (
            Key::ed_pem(read("ed25519.public.pem"))
                .unwrap()
                .with_private_pem(read("ed25519.private.pem"))
                .unwrap(),
            r#"{"alg":"EdDSA","typ":"JWT"}"#,
        ),
    ];
    for (key, want_header) in cases {
        let clock = TestClock::new(T_IAT);
        let issuer = Issuer::new(Keys::new(key)).unwrap().clock(clock.clock());
        let users = Users::transcript().await;
        let endpoints = tower_jwt_auth::TokenEndpoints::new(
            issuer,
            users,
            Revocations::new().with_clock(clock.clock()),
            TokenSettings::rotating(),
        )
        .unwrap();
        let res = send(endpoints.obtain(), json(ALICE_LOGIN)).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(header(&res.token("access")), want_header);
        let body = refresh_body(&res.token("refresh"));
        let res = send(endpoints.refresh(), json(&body)).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(header(&res.token("refresh")), want_header);
        // An HS256 token signed with the transcript secret is not accepted by these endpoints.
        let hs = mint_raw(&format!(
            r#"{{"token_type":"refresh","exp":{},"iat":{T_IAT},"jti":"00000000000000000000000000000009","user_id":"1"}}"#,
            T_IAT + 10
        ));
        let res = send(endpoints.refresh(), refresh_req(&hs)).await;
        assert_eq!(
            res.body,
            r#"{"detail":"Token is invalid","code":"token_not_valid"}"#
        );
    }
}
