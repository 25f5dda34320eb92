//! Several issuers in one layer: the real provider (through discovery) and a second issuer of our
//! own keys; each token's `iss` picks its keys and policy, nothing crosses over.

use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::Layer;
use tower_jwt_auth::{Algorithm, AuthErrorKind, JwtAuthLayer, Key, Keys, RemoteKeys, Verifier};

use crate::support::{b64, now, send};

const LOCAL: &str = "https://local.example.test";

fn local_keys() -> Keys {
    let pem = std::fs::read_to_string(format!(
        "{}/tests/fixtures/keys/ed25519.private.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    Keys::new(
        Key::from_private_pem(Algorithm::EdDSA, pem)
            .expect("key")
            .with_kid("local-1"),
    )
}

async fn status(verifier: &Verifier, token: &str) -> (StatusCode, Option<AuthErrorKind>) {
    let svc = JwtAuthLayer::<Value>::new(verifier.clone())
        .cache(64)
        .layer(tower::service_fn(|_req: Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }));
    let req = Request::get("/")
        .header("authorization", format!("Bearer {token}"))
        .body(String::new())
        .expect("request");
    let r = send(svc, req).await;
    (r.status, r.error.map(|e| e.kind()))
}

#[tokio::test]
async fn the_tokens_iss_picks_its_keys_and_policy() {
    let idp = crate::provider::shared();
    let remote = RemoteKeys::discover(idp).await.expect("discovery");
    let verifier = Verifier::issuers([
        (
            idp.to_owned(),
            Verifier::access_token(&remote, idp, crate::provider::AUDIENCE),
        ),
        (
            LOCAL.to_owned(),
            Verifier::access_token(local_keys(), LOCAL, "local-api"),
        ),
    ])
    .expect("issuers");

    let from_idp = crate::provider::token(idp, "rs256", "read").await;
    assert_eq!(status(&verifier, &from_idp).await, (StatusCode::OK, None));
    let local = local_keys()
        .encode(&json!({ "iss": LOCAL, "aud": "local-api", "sub": "bob", "exp": now() + 60 }))
        .expect("sign");
    assert_eq!(status(&verifier, &local).await, (StatusCode::OK, None));

    // Our key claiming to be the provider: the provider's keys do not have it.
    let forged = local_keys()
        .encode(
            &json!({ "iss": idp, "aud": crate::provider::AUDIENCE, "sub": "x", "exp": now() + 60 }),
        )
        .expect("sign");
    assert_eq!(
        status(&verifier, &forged).await,
        (StatusCode::UNAUTHORIZED, Some(AuthErrorKind::UnknownKey))
    );
    // The local issuer's policy: its own audience.
    let wrong_aud = local_keys()
        .encode(&json!({ "iss": LOCAL, "aud": crate::provider::AUDIENCE, "sub": "bob", "exp": now() + 60 }))
        .expect("sign");
    assert_eq!(
        status(&verifier, &wrong_aud).await,
        (
            StatusCode::UNAUTHORIZED,
            Some(AuthErrorKind::InvalidAudience)
        )
    );
    // No iss, an unknown one, a payload that is not an object, duplicate iss.
    for (payload, kind) in [
        (
            json!({ "sub": "bob", "exp": now() + 60 }).to_string(),
            AuthErrorKind::InvalidIssuer,
        ),
        (
            json!({ "iss": "https://evil.example", "exp": now() + 60 }).to_string(),
            AuthErrorKind::InvalidIssuer,
        ),
        ("[1,2]".to_owned(), AuthErrorKind::Malformed),
        (
            format!(r#"{{"iss":"{LOCAL}","iss":"{idp}"}}"#),
            AuthErrorKind::Malformed,
        ),
        (json!({ "iss": 7 }).to_string(), AuthErrorKind::Malformed),
    ] {
        let token = format!(
            "{}.{}.c2ln",
            b64(r#"{"alg":"EdDSA","kid":"local-1"}"#),
            b64(payload)
        );
        assert_eq!(
            status(&verifier, &token).await,
            (StatusCode::UNAUTHORIZED, Some(kind))
        );
    }
    assert!(Verifier::issuers(Vec::<(String, Verifier)>::new()).is_err());
    assert!(
        Verifier::issuers([
            (LOCAL, Verifier::jwt(local_keys())),
            (LOCAL, Verifier::jwt(local_keys()))
        ])
        .is_err()
    );
}
