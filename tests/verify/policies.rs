//! The three verification policies and the `kid` rule, with tokens minted by PyJWT as a user of
//! the crate would mint them: a claims struct of one's own over HS256 and RS256 (and ES256),
//! tokens with and without `kid`, with and without `iss`/`aud`; simplejwt's policy unchanged.
//!
//! Needs `python3` with PyJWT and `cryptography` (`.ci/install-deps` installs them). Without
//! python3 the tests print why they are skipped; with python3 but without PyJWT they fail.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use serde::Deserialize;
use serde_json::{Value, json};
use tower_jwt_auth::{
    Algorithm, AuthErrorKind, Clock, Key, Keys, SimpleJwtClaims, TokenType, Verifier,
};

const SECRET: &str = "a-user-of-the-crate-s-own-secret-of-32+-bytes";
const T0: i64 = 1_795_655_419;
const RSA_PRIVATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/benches/fixtures/rsa_private.pem"
);
const RSA_PUBLIC: &[u8] = include_bytes!("../../benches/fixtures/rsa_public.pem");
const EC_PRIVATE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/benches/fixtures/ec256_private.pem"
);
const EC_PUBLIC: &[u8] = include_bytes!("../../benches/fixtures/ec256_public.pem");
const ISS: &str = "https://idp.example.com/";
const AUD: &str = "https://api.example.com";

/// `jwt.encode(payload, key, algorithm=alg, headers=headers)`; the key is the HMAC secret, or
/// the path of a private PEM for the other algorithms.
const PY_ENCODE: &str = r#"
import sys, json, jwt
payload, alg, key, headers = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
if not alg.startswith("HS") and alg != "none":
    key = open(key).read()
print(jwt.encode(payload, key, algorithm=alg, headers=headers or None))
"#;

/// A PyJWT token; `None` (test skipped) without python3.
fn pyjwt(payload: &Value, alg: &str, key: &str, headers: &Value) -> Option<String> {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed, so the PyJWT policy tests cannot run");
        return None;
    }
    let out = Command::new("python3")
        .arg("-c")
        .arg(PY_ENCODE)
        .args([&payload.to_string(), alg, key, &headers.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python3 failed (are PyJWT and cryptography installed? run .ci/install-deps):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

fn hs(payload: &Value) -> Option<String> {
    pyjwt(payload, "HS256", SECRET, &json!({}))
}

/// The JOSE header of a token, decoded.
fn header_of(token: &str) -> Value {
    use base64::Engine as _;
    let h = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(h)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A user's own claims: what a service of one's own puts in its tokens.
#[derive(Clone, Debug, Deserialize, PartialEq)]
struct MyClaims {
    sub: String,
    iat: i64,
    exp: i64,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

fn own(extra: Value) -> Value {
    let mut claims = json!({"sub": "alice", "iat": T0, "exp": T0 + 300});
    if let (Some(map), Value::Object(extra)) = (claims.as_object_mut(), extra) {
        map.extend(extra);
    }
    claims
}

fn at(v: Verifier) -> Verifier {
    v.clock(Clock::fixed(T0 + 1))
}

fn kind<C: serde::de::DeserializeOwned>(v: &Verifier, token: &str) -> Result<(), AuthErrorKind> {
    v.verify::<C>(token).map(|_| ()).map_err(|e| e.kind())
}

fn hs_keys() -> Keys {
    Keys::hs256(SECRET).unwrap()
}

fn rsa_key() -> Key {
    Key::rsa_pem(Algorithm::RS256, RSA_PUBLIC).unwrap()
}

/// The done-when case: a PyJWT token carrying only `sub`, `iat` and `exp` passes the generic
/// policy in one call, into one's own claims struct; simplejwt's policy refuses it, saying why.
#[test]
fn sub_iat_exp_token_passes_the_generic_policy_in_one_call() {
    let Some(token) = hs(&own(json!({}))) else {
        return;
    };
    assert_eq!(
        header_of(&token),
        json!({"alg": "HS256", "typ": "JWT"}),
        "PyJWT's header"
    );
    let verified = at(Verifier::jwt(hs_keys()))
        .verify::<MyClaims>(&token)
        .unwrap();
    assert_eq!(
        verified.claims,
        MyClaims {
            sub: "alice".into(),
            iat: T0,
            exp: T0 + 300,
            iss: None,
            scope: None,
        }
    );
    assert_eq!(verified.exp, T0 + 300);
    assert_eq!(verified.iat, Some(T0));
    assert_eq!(verified.jti, None);
    assert_eq!(verified.token_type, None);
    assert_eq!(
        verified.user_id.map(|u| u.to_string()).as_deref(),
        Some("alice")
    );

    // Also with no `sub` and no `iat`: the generic policy requires `exp` only.
    let token = hs(&json!({"exp": T0 + 300, "scope": "read"})).unwrap();
    let verified = at(Verifier::jwt(hs_keys()))
        .verify::<Value>(&token)
        .unwrap();
    assert_eq!(verified.claims["scope"], "read");
    assert_eq!(verified.user_id, None);

    // simplejwt's policy (and `new`, which means it) wants simplejwt's layout.
    let token = hs(&own(json!({}))).unwrap();
    for v in [Verifier::simplejwt(hs_keys()), Verifier::new(hs_keys())] {
        assert_eq!(
            kind::<MyClaims>(&at(v), &token),
            Err(AuthErrorKind::MissingJti)
        );
    }
}

/// Every policy requires `exp` and enforces `nbf` and `iat`, with the leeway; claims of the
/// wrong type are invalid, not absent.
#[test]
fn the_generic_policy_keeps_the_time_and_type_checks() {
    let v = at(Verifier::jwt(hs_keys()));
    let cases = [
        (
            json!({"sub": "alice", "iat": T0}),
            Err(AuthErrorKind::MissingExp),
        ),
        (own(json!({"exp": T0 + 1})), Err(AuthErrorKind::Expired)),
        (own(json!({"exp": T0})), Err(AuthErrorKind::Expired)),
        (own(json!({"exp": T0 + 2})), Ok(())),
        (own(json!({"nbf": T0 + 2})), Err(AuthErrorKind::NotYetValid)),
        (own(json!({"nbf": T0 + 1})), Ok(())),
        (
            own(json!({"iat": T0 + 2})),
            Err(AuthErrorKind::IssuedInFuture),
        ),
    ];
    for (claims, want) in cases {
        let token = pyjwt(&claims, "HS256", SECRET, &json!({}));
        let Some(token) = token else { return };
        assert_eq!(kind::<Value>(&v, &token), want, "{claims}");
    }
    // Registered claims of the wrong type are refused as PyJWT refuses them (minted here:
    // PyJWT will not mint them).
    for claims in [
        json!({"sub": 42, "iat": T0, "exp": T0 + 300}),
        own(json!({"exp": "tomorrow"})),
        own(json!({"iss": 7})),
        own(json!({"jti": 7})),
    ] {
        let token = hs_keys().encode(&claims).unwrap();
        assert_eq!(
            kind::<Value>(&v, &token),
            Err(AuthErrorKind::InvalidClaim),
            "{claims}"
        );
    }
    // Leeway: 5 s of skew lets `iat` 3 s ahead and `exp` 3 s behind through.
    let v = Verifier::jwt(hs_keys())
        .leeway(5)
        .unwrap()
        .clock(Clock::fixed(T0 + 303));
    let token = hs(&own(json!({"iat": T0 + 306, "exp": T0 + 300}))).unwrap();
    assert_eq!(kind::<Value>(&v, &token), Ok(()));
    // The wrong secret is a bad signature.
    let token = pyjwt(
        &own(json!({})),
        "HS256",
        &SECRET.replace('a', "b"),
        &json!({}),
    )
    .unwrap();
    assert_eq!(
        kind::<Value>(&at(Verifier::jwt(hs_keys())), &token),
        Err(AuthErrorKind::BadSignature)
    );
}

/// `iss` and `aud` on the generic policy: ignored / rejected until configured (RFC 7519
/// §4.1.3), checked once configured, `aud` as a string or an array.
#[test]
fn generic_policy_with_and_without_iss_and_aud() {
    let Some(with_iss) = hs(&own(json!({"iss": ISS}))) else {
        return;
    };
    let with_aud = hs(&own(json!({"aud": AUD}))).unwrap();
    let with_auds = hs(&own(json!({"aud": ["https://other.example.com", AUD]}))).unwrap();
    let with_both = hs(&own(json!({"iss": ISS, "aud": AUD}))).unwrap();
    let bare = hs(&own(json!({}))).unwrap();

    let plain = at(Verifier::jwt(hs_keys()));
    assert_eq!(kind::<MyClaims>(&plain, &with_iss), Ok(()));
    assert_eq!(
        plain
            .verify::<MyClaims>(&with_iss)
            .unwrap()
            .claims
            .iss
            .as_deref(),
        Some(ISS)
    );
    // A token meant for an audience is refused by a verifier that names none.
    assert_eq!(
        kind::<MyClaims>(&plain, &with_aud),
        Err(AuthErrorKind::InvalidAudience)
    );

    let aud = at(Verifier::jwt(hs_keys()).audience([AUD]));
    assert_eq!(kind::<MyClaims>(&aud, &with_aud), Ok(()));
    assert_eq!(kind::<MyClaims>(&aud, &with_auds), Ok(()));
    assert_eq!(kind::<MyClaims>(&aud, &with_both), Ok(()));
    assert_eq!(
        kind::<MyClaims>(&aud, &bare),
        Err(AuthErrorKind::InvalidAudience)
    );
    let other = at(Verifier::jwt(hs_keys()).audience(["https://elsewhere.example.com"]));
    assert_eq!(
        kind::<MyClaims>(&other, &with_auds),
        Err(AuthErrorKind::InvalidAudience)
    );

    let iss = at(Verifier::jwt(hs_keys()).issuer([ISS]));
    assert_eq!(kind::<MyClaims>(&iss, &with_iss), Ok(()));
    assert_eq!(
        kind::<MyClaims>(&iss, &bare),
        Err(AuthErrorKind::InvalidIssuer)
    );
    let wrong = at(Verifier::jwt(hs_keys()).issuer(["https://idp.example.com"]));
    assert_eq!(
        kind::<MyClaims>(&wrong, &with_iss),
        Err(AuthErrorKind::InvalidIssuer),
        "compared exactly: the trailing slash matters"
    );
}

/// The done-when case for keys: an RS256 token whose header names a `kid` passes a PEM key
/// given without one; so does one without a `kid`, over RS256 and ES256, on every policy.
#[test]
fn rs256_and_es256_tokens_with_a_kid_pass_a_pem_key_without_one() {
    let claims = own(json!({"iss": ISS, "aud": AUD, "scope": "read write"}));
    let Some(with_kid) = pyjwt(&claims, "RS256", RSA_PRIVATE, &json!({"kid": "key-1"})) else {
        return;
    };
    assert_eq!(
        header_of(&with_kid),
        json!({"alg": "RS256", "kid": "key-1", "typ": "JWT"})
    );
    let without = pyjwt(&claims, "RS256", RSA_PRIVATE, &json!({})).unwrap();
    let keys = Keys::new(rsa_key());
    for token in [&with_kid, &without] {
        let v = at(Verifier::jwt(keys.clone()).audience([AUD]).issuer([ISS]));
        let got = v.verify::<MyClaims>(token).unwrap();
        assert_eq!(got.claims.scope.as_deref(), Some("read write"));
        let v = at(Verifier::access_token(keys.clone(), ISS, AUD));
        assert_eq!(kind::<MyClaims>(&v, token), Ok(()));
    }

    let es = Keys::new(Key::ec_pem(Algorithm::ES256, EC_PUBLIC).unwrap());
    for headers in [json!({"kid": "ec-2025"}), json!({})] {
        let token = pyjwt(&claims, "ES256", EC_PRIVATE, &headers).unwrap();
        let v = at(Verifier::access_token(es.clone(), ISS, AUD));
        assert_eq!(kind::<MyClaims>(&v, &token), Ok(()), "{headers}");
    }

    // Where kids are configured, selection stays strict: the token's kid must name a key.
    let named = Keys::new(rsa_key().with_kid("key-1"));
    let v = at(Verifier::access_token(named, ISS, AUD));
    assert_eq!(kind::<MyClaims>(&v, &with_kid), Ok(()));
    let other = Keys::new(rsa_key().with_kid("key-2"));
    let v = at(Verifier::access_token(other, ISS, AUD));
    assert_eq!(
        kind::<MyClaims>(&v, &with_kid),
        Err(AuthErrorKind::UnknownKey)
    );
    // The same through a JWKS document.
    let jwks = include_str!("../fixtures/keys/rsa.public.jwk.json");
    let mut jwk: Value = serde_json::from_str(jwks).unwrap();
    jwk["kid"] = "key-9".into();
    let ring = Keys::from_jwks_json(&json!({"keys": [jwk]}).to_string()).unwrap();
    let v = at(Verifier::access_token(ring, ISS, AUD));
    assert_eq!(
        kind::<MyClaims>(&v, &with_kid),
        Err(AuthErrorKind::UnknownKey)
    );
}

/// In a ring whose keys have no kid, the token's `alg` picks the key, and the algorithm stays
/// pinned: another algorithm, `none`, or PS256 against the RS256 key never verifies.
#[test]
fn a_ring_without_kids_picks_by_alg_and_stays_pinned() {
    let claims = own(json!({}));
    let ring = Keys::from_keys([
        Key::hmac(Algorithm::HS256, SECRET).unwrap(),
        rsa_key(),
        Key::ec_pem(Algorithm::ES256, EC_PUBLIC).unwrap(),
    ])
    .unwrap();
    let v = at(Verifier::jwt(ring));
    let Some(token) = pyjwt(&claims, "HS256", SECRET, &json!({"kid": "whatever"})) else {
        return;
    };
    assert_eq!(kind::<MyClaims>(&v, &token), Ok(()));
    for (alg, key) in [("RS256", RSA_PRIVATE), ("ES256", EC_PRIVATE)] {
        for headers in [json!({"kid": "idp-key"}), json!({})] {
            let token = pyjwt(&claims, alg, key, &headers).unwrap();
            assert_eq!(kind::<MyClaims>(&v, &token), Ok(()), "{alg} {headers}");
        }
    }
    // Pinned: a PS256 token of the RSA key, an RS512 one, `none`.
    for alg in ["PS256", "RS512"] {
        let token = pyjwt(&claims, alg, RSA_PRIVATE, &json!({"kid": "idp-key"})).unwrap();
        assert_eq!(
            kind::<MyClaims>(&v, &token),
            Err(AuthErrorKind::AlgorithmNotAllowed),
            "{alg}"
        );
    }
    let none = pyjwt(&claims, "none", "", &json!({"kid": "idp-key"})).unwrap();
    assert_eq!(
        kind::<MyClaims>(&v, &none),
        Err(AuthErrorKind::AlgorithmNotAllowed)
    );
    // Two non-default keys of one algorithm: refused rather than guessed.
    let ambiguous = Keys::from_keys([
        Key::hmac(Algorithm::HS256, SECRET).unwrap(),
        rsa_key(),
        Key::rsa_pem(
            Algorithm::RS256,
            include_bytes!("../fixtures/keys/rsa2.public.pem"),
        )
        .unwrap(),
    ])
    .unwrap();
    let token = pyjwt(&claims, "RS256", RSA_PRIVATE, &json!({"kid": "idp-key"})).unwrap();
    assert_eq!(
        kind::<MyClaims>(&at(Verifier::jwt(ambiguous)), &token),
        Err(AuthErrorKind::UnknownKey)
    );
}

/// The OAuth 2.0 access-token policy: `iss`, `aud` and `sub` required.
#[test]
fn the_access_token_policy_requires_iss_aud_and_sub() {
    let full = json!({"iss": ISS, "aud": AUD, "sub": "user-7", "iat": T0, "exp": T0 + 300,
        "client_id": "spa", "scope": "read"});
    let v = at(Verifier::access_token(Keys::new(rsa_key()), ISS, AUD));
    let Some(token) = pyjwt(&full, "RS256", RSA_PRIVATE, &json!({"kid": "key-1"})) else {
        return;
    };
    let got = v.verify::<Value>(&token).unwrap();
    assert_eq!(
        got.user_id.map(|u| u.to_string()).as_deref(),
        Some("user-7")
    );

    let without = |claim: &str| {
        let mut c = full.clone();
        c.as_object_mut().unwrap().remove(claim);
        pyjwt(&c, "RS256", RSA_PRIVATE, &json!({"kid": "key-1"})).unwrap()
    };
    assert_eq!(
        kind::<Value>(&v, &without("iss")),
        Err(AuthErrorKind::InvalidIssuer)
    );
    assert_eq!(
        kind::<Value>(&v, &without("aud")),
        Err(AuthErrorKind::InvalidAudience)
    );
    assert_eq!(
        kind::<Value>(&v, &without("sub")),
        Err(AuthErrorKind::MissingUserId)
    );
    assert_eq!(
        kind::<Value>(&v, &without("exp")),
        Err(AuthErrorKind::MissingExp)
    );
    // `iat`, `jti` and `client_id` are not required (identity providers differ on them)...
    assert_eq!(kind::<Value>(&v, &without("iat")), Ok(()));
    assert_eq!(kind::<Value>(&v, &without("client_id")), Ok(()));
    // ...but can be, with the setters, which work on every policy.
    assert_eq!(
        kind::<Value>(&v.clone().require_jti(true), &token),
        Err(AuthErrorKind::MissingJti)
    );
    let mut other = full.clone();
    other["aud"] = json!(["https://other.example.com"]);
    let token = pyjwt(&other, "RS256", RSA_PRIVATE, &json!({})).unwrap();
    assert_eq!(
        kind::<Value>(&v, &token),
        Err(AuthErrorKind::InvalidAudience)
    );
    let wider = v.audience([AUD, "https://other.example.com"]);
    assert_eq!(kind::<Value>(&wider, &token), Ok(()));
}

/// simplejwt's policy is what it was: simplejwt's tokens pass, refresh tokens do not.
#[test]
fn the_simplejwt_policy_is_unchanged() {
    let access = json!({"token_type": "access", "exp": T0 + 300, "iat": T0,
        "jti": "0dbd3733a1a44c6c8a8e0d0b4b0e7c1f", "user_id": "1"});
    let Some(token) = hs(&access) else { return };
    let mut refresh = access.clone();
    refresh["token_type"] = "refresh".into();
    let refresh = hs(&refresh).unwrap();
    for v in [
        Verifier::simplejwt(hs_keys()),
        Verifier::new(hs_keys()),
        Verifier::from(hs_keys()),
    ] {
        let v = at(v);
        assert_eq!(v.accepted_token_types(), Some(&[TokenType::ACCESS][..]));
        let got = v.verify::<SimpleJwtClaims>(&token).unwrap();
        assert_eq!(got.claims.user_id.to_string(), "1");
        assert_eq!(
            kind::<SimpleJwtClaims>(&v, &refresh),
            Err(AuthErrorKind::WrongTokenType)
        );
        let mut no_user = access.clone();
        no_user.as_object_mut().unwrap().remove("user_id");
        assert_eq!(
            kind::<Value>(&v, &hs(&no_user).unwrap()),
            Err(AuthErrorKind::MissingUserId)
        );
    }
    // The generic policy would take a refresh token: it is for tokens that have no type.
    assert_eq!(
        kind::<Value>(&at(Verifier::jwt(hs_keys())), &refresh),
        Ok(())
    );
}

/// Through the layer and the axum extractor: one's own claims, simplejwt's 401 shape without
/// the token-type envelope, the distinct "Token is expired", RFC 6750 challenges.
#[cfg(feature = "axum")]
#[tokio::test]
async fn an_axum_app_with_its_own_claims_and_pyjwt_tokens() {
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    use tower_jwt_auth::{Claims, JwtAuthLayer};

    async fn me(Claims(claims): Claims<MyClaims>) -> String {
        format!("hello {}", claims.sub)
    }
    let app = Router::new()
        .route("/me", get(me))
        .layer(JwtAuthLayer::<MyClaims>::new(at(Verifier::jwt(hs_keys()))));
    let call = |auth: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = Request::get("/me");
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            let status = res.status();
            let challenge = res
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = res.into_body().collect().await.unwrap().to_bytes();
            (status, challenge, String::from_utf8(body.to_vec()).unwrap())
        }
    };

    let Some(token) = hs(&own(json!({}))) else {
        return;
    };
    assert_eq!(
        call(Some(format!("Bearer {token}"))).await,
        (StatusCode::OK, None, "hello alice".to_owned())
    );
    let expired = hs(&own(json!({"exp": T0 - 10}))).unwrap();
    assert_eq!(
        call(Some(format!("Bearer {expired}"))).await,
        (
            StatusCode::UNAUTHORIZED,
            Some(
                r#"Bearer realm="api", error="invalid_token", error_description="Token is expired""#
                    .to_owned()
            ),
            r#"{"detail":"Token is expired","code":"token_not_valid"}"#.to_owned()
        )
    );
    let (status, challenge, body) = call(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(challenge.as_deref(), Some(r#"Bearer realm="api""#));
    assert_eq!(
        body,
        r#"{"detail":"Authentication credentials were not provided."}"#
    );
}

/// The README's troubleshooting table has a row for every rejection reason, so a
/// `Token is invalid` is never a dead end.
#[test]
fn troubleshooting_covers_every_reason() {
    let readme = include_str!("../../README.md");
    let start = readme.find("\n## Troubleshooting\n").unwrap();
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let all = AuthErrorKind::ALL;
    for &kind in all {
        let row = format!("\n| `{}` |", kind.reason());
        assert!(
            section.contains(&row),
            "no troubleshooting row for {kind:?}"
        );
        // The row quotes what the client sees.
        let line = section[section.find(&row).unwrap() + 1..]
            .lines()
            .next()
            .unwrap();
        let message = tower_jwt_auth::AuthError::new(kind).detail();
        assert!(
            line.contains(message) || kind == AuthErrorKind::MultipleCredentials,
            "{kind:?}: {line}"
        );
    }
    let rows = section
        .lines()
        .filter(|l| l.starts_with("| `") && !l.starts_with("| `reason` |"))
        .count();
    assert_eq!(rows, all.len(), "one row per reason");
}
