//! The layer on the wire: every header case and token case of the transcript's "protected"
//! exchanges, through `JwtAuthLayer<SimpleJwtClaims>` on a tower `service_fn`, with the real
//! tokens recorded from a simplejwt server (verified with its secret and the clock stopped at their
//! `iat`); then the rejection plumbing (extensions, realm, gRPC, optional mode, cookie, responder,
//! checks) and the policy options seen on the wire.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use serde_json::json;
use tower::Layer;
use tower_jwt_auth::{
    AuthError, AuthErrorKind, Claims, JwtAuthLayer, SimpleJwtClaims, TokenType, Verified,
};

use crate::support::transcript::{self as t, recorded};
use crate::support::*;

/// The tokens these tests send are the ones the transcript's exchanges sent, byte for byte.
#[test]
fn recorded_tokens_are_the_transcripts_own() {
    let access = t::ACCESS;
    assert_eq!(
        recorded("protected: wrong scheme 'JWT <valid access>'"),
        format!("JWT {access}")
    );
    assert_eq!(
        recorded("protected: lower-case 'bearer <valid access>'"),
        format!("bearer {access}")
    );
    assert_eq!(
        recorded("protected: 'Bearer  <valid access>' (two spaces)"),
        format!("Bearer  {access}")
    );
    for (title, token) in [
        ("protected: expired access token", t::EXPIRED),
        ("protected: tampered signature", t::TAMPERED_SIGNATURE),
        (
            "protected: tampered payload (user_id changed, original signature)",
            t::TAMPERED_PAYLOAD,
        ),
        ("protected: signed with a different secret", t::OTHER_SECRET),
        ("protected: alg=none token", t::ALG_NONE),
        (
            "protected: HS512 token signed with the right key (algorithm not allowed)",
            t::HS512_RIGHT_KEY,
        ),
        ("protected: refresh token used as Bearer", t::REFRESH),
        ("protected: token without jti (valid signature)", t::NO_JTI),
        (
            "protected: token without token_type (valid signature)",
            t::NO_TOKEN_TYPE,
        ),
        ("protected: token without exp (valid signature)", t::NO_EXP),
        (
            "protected: token without user_id (valid signature)",
            t::NO_USER_ID,
        ),
        (
            "protected: token for a non-existent user id",
            t::UNKNOWN_USER,
        ),
        ("protected: token for an inactive user", t::INACTIVE_USER),
        (
            "protected: legacy token with an integer user_id claim (pre-5.5.1 style)",
            t::INTEGER_USER_ID,
        ),
        (
            "protected: user_id claim that is not a number ('abc')",
            t::USER_ID_ABC,
        ),
        ("protected: nbf in the future", t::NBF_FUTURE),
        ("protected: iat in the future", t::IAT_FUTURE),
        (
            "protected: extra unknown claims and aud/iss are ignored with default settings",
            t::AUD_ISS_EXTRA,
        ),
    ] {
        assert_eq!(recorded(title), format!("Bearer {token}"), "{title}");
    }
}

// ---------------------------------------------------------------------------------------------
// Header cases (the recorded "protected" exchanges about the Authorization header)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn no_header_is_credentials_not_provided() {
    // "protected: no Authorization header"
    assert_missing(&call(get(None)).await);
}

#[tokio::test]
async fn empty_header_is_credentials_not_provided() {
    // "protected: empty Authorization header"
    assert_missing(&call(get(Some(""))).await);
    assert_missing(&call(get(Some("   "))).await);
}

#[tokio::test]
async fn token_scheme_is_credentials_not_provided() {
    // "protected: wrong scheme 'Token x'"
    assert_missing(&call(get(Some("Token x"))).await);
}

#[tokio::test]
async fn jwt_scheme_with_a_valid_token_is_credentials_not_provided() {
    // "protected: wrong scheme 'JWT <valid access>'"
    assert_missing(&call(get(Some(&format!("JWT {}", t::ACCESS)))).await);
}

#[tokio::test]
async fn lowercase_bearer_is_accepted_by_default() {
    // "protected: lower-case 'bearer <valid access>'" is a 401 in simplejwt; RFC 9110 section
    // 11.1 makes the scheme case-insensitive, our default.
    let r = call(get(Some(&format!("bearer {}", t::ACCESS)))).await;
    assert_ok_user(&r, "1");
    let r = call(get(Some(&format!("BEARER {}", t::ACCESS)))).await;
    assert_ok_user(&r, "1");
}

#[tokio::test]
async fn lowercase_bearer_is_credentials_not_provided_when_case_sensitive() {
    // The recorded lower-case exchange exactly, with simplejwt's case-sensitive matching.
    let svc = ref_layer().scheme_case_sensitive(true).layer(echo());
    let r = send(svc.clone(), get(Some(&format!("bearer {}", t::ACCESS)))).await;
    assert_missing(&r);
    // The exact spelling still works.
    assert_ok_user(&send(svc, bearer(t::ACCESS)).await, "1");
}

#[tokio::test]
async fn bearer_alone_is_bad_authorization_header() {
    // "protected: 'Bearer' alone"
    assert_bad_header(&call(get(Some("Bearer"))).await);
    assert_bad_header(&call(get(Some("Bearer   "))).await);
}

#[tokio::test]
async fn bearer_with_two_values_is_bad_authorization_header() {
    // "protected: 'Bearer a b' (three parts)"
    assert_bad_header(&call(get(Some("Bearer a b"))).await);
    assert_bad_header(&call(get(Some(&format!("Bearer {} x", t::ACCESS)))).await);
}

#[tokio::test]
async fn runs_of_whitespace_are_collapsed() {
    // "protected: 'Bearer  <valid access>' (two spaces)"
    assert_ok_user(
        &call(get(Some(&format!("Bearer  {}", t::ACCESS)))).await,
        "1",
    );
    assert_ok_user(
        &call(get(Some(&format!("Bearer\t{} ", t::ACCESS)))).await,
        "1",
    );
    assert_ok_user(
        &call(get(Some(&format!("  Bearer {}", t::ACCESS)))).await,
        "1",
    );
}

#[tokio::test]
async fn two_authorization_headers_are_400() {
    let req = Request::get("/")
        .header("authorization", format!("Bearer {}", t::ACCESS))
        .header("authorization", format!("Bearer {}", t::ACCESS))
        .body(String::new())
        .expect("request");
    assert_multiple_credentials(&call(req).await);
}

#[tokio::test]
async fn two_headers_are_400_even_if_one_is_empty_or_another_scheme() {
    for other in ["", "Basic YTpi", "Bearer"] {
        let req = Request::get("/")
            .header("authorization", other)
            .header("authorization", format!("Bearer {}", t::ACCESS))
            .body(String::new())
            .expect("request");
        let r = call(req).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{other:?}");
        assert_eq!(r.kind(), AuthErrorKind::MultipleCredentials);
    }
}

#[tokio::test]
async fn options_without_a_token_is_credentials_not_provided() {
    // "protected: OPTIONS (e.g. a CORS preflight) without a token is rejected too".
    let req = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/weekly_schedule/")
        .body(String::new())
        .expect("request");
    assert_missing(&call(req).await);
}

// ---------------------------------------------------------------------------------------------
// Token cases (the recorded "protected" exchanges about the token)
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn valid_access_token_reaches_the_service_with_its_claims() {
    // The recorded access token, verified with the reference secret.
    let r = call(bearer(t::ACCESS)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.error.is_none());
    assert!(r.headers.get("www-authenticate").is_none());
    assert_eq!(
        r.json(),
        json!({
            "claims": {
                "token_type": "access",
                "exp": 1_795_655_719_i64,
                "iat": 1_795_655_419_i64,
                "jti": "fac5344d01d34db3b5575d65f5ee8c0f",
                "user_id": "1",
            },
            "anonymous": false,
        })
    );
}

#[tokio::test]
async fn garbage_is_token_invalid() {
    // "protected: 'Bearer garbage'"
    let r = call(bearer("garbage")).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::Malformed);
}

#[tokio::test]
async fn expired_is_token_expired() {
    // "protected: expired access token"
    let r = call(bearer(t::EXPIRED)).await;
    assert_rejected(&r, "Token is expired", AuthErrorKind::Expired);
}

#[tokio::test]
async fn expiry_boundary_is_exp_le_now() {
    // PyJWT: expired when exp <= now - leeway. The recorded access token at
    // exactly its exp is expired.
    let at = |now: i64| {
        let layer = JwtAuthLayer::<SimpleJwtClaims>::new(
            ref_verifier().clock(tower_jwt_auth::Clock::fixed(now)),
        );
        send(layer.layer(echo()), bearer(t::ACCESS))
    };
    assert_ok_user(&at(T_EXP - 1).await, "1");
    assert_rejected(&at(T_EXP).await, "Token is expired", AuthErrorKind::Expired);
}

#[tokio::test]
async fn tampered_signature_is_token_invalid() {
    // "protected: tampered signature"
    let r = call(bearer(t::TAMPERED_SIGNATURE)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::BadSignature);
}

#[tokio::test]
async fn tampered_payload_is_token_invalid() {
    // "protected: tampered payload (user_id changed, original signature)"
    let r = call(bearer(t::TAMPERED_PAYLOAD)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::BadSignature);
}

#[tokio::test]
async fn other_secret_is_token_invalid() {
    // "protected: signed with a different secret"
    let r = call(bearer(t::OTHER_SECRET)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::BadSignature);
}

#[tokio::test]
async fn alg_none_is_token_invalid() {
    // "protected: alg=none token"
    let r = call(bearer(t::ALG_NONE)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::AlgorithmNotAllowed);
}

#[tokio::test]
async fn alg_none_in_any_spelling_with_or_without_signature_is_token_invalid() {
    let payload = b64(access_payload());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let input = format!("{header}.{payload}");
        let mac = b64(hmac("HS256", SECRET.as_bytes(), input.as_bytes()));
        for token in [format!("{input}."), format!("{input}.{mac}")] {
            let r = call(bearer(&token)).await;
            assert_rejected(&r, "Token is invalid", AuthErrorKind::AlgorithmNotAllowed);
        }
        // No third segment at all: not a JWS.
        let r = call(bearer(&input)).await;
        assert_rejected(&r, "Token is invalid", AuthErrorKind::Malformed);
    }
}

#[tokio::test]
async fn hs512_with_the_right_key_is_token_invalid() {
    // "protected: HS512 token signed with the right key (algorithm not allowed)"
    let r = call(bearer(t::HS512_RIGHT_KEY)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::AlgorithmNotAllowed);
}

#[tokio::test]
async fn nbf_in_the_future_is_token_invalid() {
    // "protected: nbf in the future"
    let r = call(bearer(t::NBF_FUTURE)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::NotYetValid);
}

#[tokio::test]
async fn iat_in_the_future_is_token_invalid() {
    // "protected: iat in the future"
    let r = call(bearer(t::IAT_FUTURE)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::IssuedInFuture);
}

#[tokio::test]
async fn refresh_token_as_bearer_is_wrong_type() {
    // "protected: refresh token used as Bearer"
    let r = call(bearer(t::REFRESH)).await;
    assert_rejected(&r, "Token has wrong type", AuthErrorKind::WrongTokenType);
}

#[tokio::test]
async fn no_jti_is_token_has_no_id() {
    // "protected: token without jti (valid signature)"
    let r = call(bearer(t::NO_JTI)).await;
    assert_rejected(&r, "Token has no id", AuthErrorKind::MissingJti);
}

#[tokio::test]
async fn no_token_type_is_token_has_no_type() {
    // "protected: token without token_type (valid signature)"
    let r = call(bearer(t::NO_TOKEN_TYPE)).await;
    assert_rejected(&r, "Token has no type", AuthErrorKind::MissingTokenType);
}

#[tokio::test]
async fn no_exp_is_token_has_no_exp_claim() {
    // "protected: token without exp (valid signature)"
    let r = call(bearer(t::NO_EXP)).await;
    assert_rejected(&r, "Token has no 'exp' claim", AuthErrorKind::MissingExp);
}

#[tokio::test]
async fn no_user_id_is_no_recognizable_user_identification() {
    // "protected: token without user_id (valid signature)": no `messages` envelope.
    let r = call(bearer(t::NO_USER_ID)).await;
    let detail = "Token contained no recognizable user identification";
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        format!(r#"{{"detail":"{detail}","code":"token_not_valid"}}"#)
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        invalid_token_challenge(detail)
    );
    assert_eq!(r.kind(), AuthErrorKind::MissingUserId);
}

#[tokio::test]
async fn integer_user_id_is_accepted() {
    // "protected: legacy token with an integer user_id claim (pre-5.5.1 style)": `1` and `"1"`
    // are the same user.
    let r = call(bearer(t::INTEGER_USER_ID)).await;
    assert_ok_user(&r, "1");
}

#[tokio::test]
async fn non_numeric_user_id_is_accepted_by_the_layer() {
    // "protected: user_id claim that is not a number ('abc')" is a 500 in simplejwt (ORM
    // ValueError); the layer has no ORM: the id is a string.
    let r = call(bearer(t::USER_ID_ABC)).await;
    assert_ok_user(&r, "abc");
}

#[tokio::test]
async fn extra_claims_are_accepted_and_kept() {
    // Like the recorded "extra unknown claims" token, without `aud`: unknown claims (and `iss`
    // with no issuer configured) are ignored.
    let token = mint(&claims_with(
        json!({"foo": "bar", "iss": "somewhere", "n": [1, 2]}),
    ));
    let r = call(bearer(&token)).await;
    assert_ok_user(&r, "1");
    let v = r.json();
    assert_eq!(v["claims"]["foo"], "bar");
    assert_eq!(v["claims"]["iss"], "somewhere");
    assert_eq!(v["claims"]["n"], json!([1, 2]));
}

#[tokio::test]
async fn aud_present_without_a_configured_audience_is_rejected() {
    // "protected: extra unknown claims and aud/iss are ignored with default settings" is a 200
    // in simplejwt. Our choice (RFC 7519 section 4.1.3: a recipient that does not
    // identify with the audience MUST reject): `aud` with no audience configured is invalid.
    let r = call(bearer(t::AUD_ISS_EXTRA)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::InvalidAudience);
    // With the audience configured, the same token passes.
    let layer = JwtAuthLayer::<SimpleJwtClaims>::new(ref_verifier().audience(["someone"]));
    assert_ok_user(
        &send(layer.layer(echo()), bearer(t::AUD_ISS_EXTRA)).await,
        "1",
    );
}

// ---------------------------------------------------------------------------------------------
// Rejection plumbing: extensions, realm, gRPC, optional mode, cookie, responder, checks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn auth_error_in_extensions_has_the_accepted_types() {
    let r = call(bearer(t::EXPIRED)).await;
    let err = r.error.as_ref().expect("AuthError in extensions");
    assert_eq!(err.kind(), AuthErrorKind::Expired);
    assert_eq!(err.accepted_token_types(), &[TokenType::ACCESS]);
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(err.detail(), "Token is expired");
    assert_eq!(err.code(), Some("token_not_valid"));
    // Missing credentials is not about a token.
    let r = call(get(None)).await;
    assert!(
        r.error
            .as_ref()
            .expect("err")
            .accepted_token_types()
            .is_empty()
    );
}

#[tokio::test]
async fn custom_realm_is_in_the_challenge() {
    let layer = ref_layer().realm("schedule").expect("valid realm");
    let r = send(layer.clone().layer(echo()), get(None)).await;
    assert_eq!(r.header("www-authenticate"), r#"Bearer realm="schedule""#);
    let r = send(layer.layer(echo()), bearer(t::EXPIRED)).await;
    assert_eq!(
        r.header("www-authenticate"),
        r#"Bearer realm="schedule", error="invalid_token", error_description="Token is expired""#
    );
    assert!(ref_layer().realm("a\"b").is_err());
    assert!(ref_layer().realm("a\\b").is_err());
    assert!(ref_layer().realm("a\nb").is_err());
}

fn grpc(authorization: Option<&str>, content_type: &str) -> Request<String> {
    let mut b = Request::post("/schedule.Schedule/Get").header("content-type", content_type);
    if let Some(v) = authorization {
        b = b.header("authorization", v);
    }
    b.body(String::new()).expect("request")
}

#[tokio::test]
async fn grpc_without_credentials_is_unauthenticated_status() {
    for ct in ["application/grpc", "application/grpc+proto"] {
        let r = call(grpc(None, ct)).await;
        assert_eq!(r.status, StatusCode::OK, "{ct}");
        assert_eq!(r.header("grpc-status"), "16");
        assert_eq!(
            r.header("grpc-message"),
            "Authentication credentials were not provided."
        );
        assert_eq!(r.header("content-type"), "application/grpc");
        assert_eq!(r.header("www-authenticate"), MISSING_CHALLENGE);
        assert_eq!(r.body, "");
        assert_eq!(r.kind(), AuthErrorKind::Missing);
    }
}

#[tokio::test]
async fn grpc_with_a_bad_token_is_unauthenticated_status() {
    let r = call(grpc(
        Some(&format!("Bearer {}", t::EXPIRED)),
        "application/grpc",
    ))
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("grpc-status"), "16");
    assert_eq!(r.header("grpc-message"), "Token is expired");
    assert_eq!(
        r.header("www-authenticate"),
        invalid_token_challenge("Token is expired")
    );
    assert_eq!(r.body, "");
    assert_eq!(r.kind(), AuthErrorKind::Expired);
}

#[tokio::test]
async fn grpc_with_two_headers_is_invalid_argument() {
    let req = Request::post("/s/M")
        .header("content-type", "application/grpc")
        .header("authorization", format!("Bearer {}", t::ACCESS))
        .header("authorization", format!("Bearer {}", t::ACCESS))
        .body(String::new())
        .expect("request");
    let r = call(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("grpc-status"), "3");
    assert_eq!(r.kind(), AuthErrorKind::MultipleCredentials);
}

#[tokio::test]
async fn grpc_with_a_valid_token_reaches_the_service() {
    let r = call(grpc(
        Some(&format!("Bearer {}", t::ACCESS)),
        "application/grpc",
    ))
    .await;
    assert_ok_user(&r, "1");
    assert!(r.headers.get("grpc-status").is_none());
}

#[tokio::test]
async fn optional_mode_lets_anonymous_requests_through_without_claims() {
    let svc = ref_layer().optional().layer(echo());
    for req in [get(None), get(Some("")), get(Some("Token x"))] {
        let r = send(svc.clone(), req).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.error.is_none());
        assert_eq!(r.json(), json!({"claims": null, "anonymous": true}));
    }
}

#[tokio::test]
async fn optional_mode_still_rejects_bad_credentials() {
    let svc = ref_layer().optional().layer(echo());
    let r = send(svc.clone(), bearer(t::EXPIRED)).await;
    assert_rejected(&r, "Token is expired", AuthErrorKind::Expired);
    assert_bad_header(&send(svc.clone(), get(Some("Bearer"))).await);
    let r = send(svc.clone(), bearer(t::ACCESS)).await;
    assert_ok_user(&r, "1");
}

#[tokio::test]
async fn a_configured_cookie_is_read_like_the_header() {
    let svc = ref_layer().cookie("access").layer(echo());
    let with_cookie = |cookie: String| {
        Request::get("/")
            .header("cookie", cookie)
            .body(String::new())
            .expect("request")
    };
    // The token from the cookie, among others.
    let r = send(
        svc.clone(),
        with_cookie(format!("a=1; access={}; b=2", t::ACCESS)),
    )
    .await;
    assert_ok_user(&r, "1");
    // A bad token in the cookie gets the same answer as in the header.
    let r = send(svc.clone(), with_cookie(format!("access={}", t::EXPIRED))).await;
    assert_rejected(&r, "Token is expired", AuthErrorKind::Expired);
    // Another cookie only: no credentials.
    assert_missing(&send(svc.clone(), with_cookie("session=abc".into())).await);
    // An empty cookie: no credentials.
    assert_missing(&send(svc.clone(), with_cookie("access=".into())).await);
    // The header still works.
    assert_ok_user(&send(svc.clone(), bearer(t::ACCESS)).await, "1");
    // Header and cookie: two methods, 400 (RFC 6750 section 2).
    let req = Request::get("/")
        .header("cookie", format!("access={}", t::ACCESS))
        .header("authorization", format!("Bearer {}", t::ACCESS))
        .body(String::new())
        .expect("request");
    let r = send(svc.clone(), req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.kind(), AuthErrorKind::MultipleCredentials);
    // The cookie twice: ambiguous, 400.
    let r = send(
        svc.clone(),
        with_cookie(format!("access={0}; access={0}", t::ACCESS)),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.kind(), AuthErrorKind::MultipleCredentials);
    // Without `.cookie(..)`, cookies are never read.
    assert_missing(&call(with_cookie(format!("access={}", t::ACCESS))).await);
}

#[tokio::test]
async fn custom_responder_closure_builds_the_rejection() {
    let layer = ref_layer().with_responder(|err: &AuthError| {
        let mut res = Response::new(Bytes::from(format!("denied: {}", err.kind().reason())));
        *res.status_mut() = StatusCode::FORBIDDEN;
        res.headers_mut()
            .insert("x-reason", HeaderValue::from_static("custom"));
        res
    });
    let svc = layer.layer(echo());
    let r = send(svc.clone(), bearer(t::EXPIRED)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, "denied: expired");
    assert_eq!(r.header("x-reason"), "custom");
    assert!(r.headers.get("www-authenticate").is_none());
    // The AuthError is still in the extensions.
    assert_eq!(r.kind(), AuthErrorKind::Expired);
    let r = send(svc.clone(), get(None)).await;
    assert_eq!(r.body, "denied: missing");
    // A valid token is untouched by the responder.
    assert_ok_user(&send(svc, bearer(t::ACCESS)).await, "1");
}

/// A check as a user store would run it: "1" is active, "2" inactive, anyone else unknown.
fn user_check_layer(
    calls: Arc<AtomicUsize>,
) -> JwtAuthLayer<
    SimpleJwtClaims,
    tower_jwt_auth::DefaultResponder,
    tower_jwt_auth::WithCheck<impl tower_jwt_auth::AuthCheck<SimpleJwtClaims>>,
> {
    ref_layer().check(move |token: &Verified<SimpleJwtClaims>| {
        calls.fetch_add(1, Ordering::SeqCst);
        let id = token.user_id.clone().map(|u| u.into_string());
        async move {
            tokio::task::yield_now().await;
            match id.as_deref() {
                Some("1") => Ok(()),
                Some("2") => Err(AuthError::new(AuthErrorKind::UserInactive)),
                _ => Err(AuthError::new(AuthErrorKind::UserNotFound)),
            }
        }
    })
}

#[tokio::test]
async fn a_check_rejecting_an_unknown_user_answers_user_not_found() {
    // "protected: token for a non-existent user id"
    let calls = Arc::new(AtomicUsize::new(0));
    let r = send(
        user_check_layer(calls.clone()).layer(echo()),
        bearer(t::UNKNOWN_USER),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        r#"{"detail":"User not found","code":"user_not_found"}"#
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        invalid_token_challenge("User not found")
    );
    assert_eq!(r.kind(), AuthErrorKind::UserNotFound);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_check_rejecting_an_inactive_user_answers_user_inactive() {
    // "protected: token for an inactive user"
    let calls = Arc::new(AtomicUsize::new(0));
    let r = send(
        user_check_layer(calls.clone()).layer(echo()),
        bearer(t::INACTIVE_USER),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        r#"{"detail":"User is inactive","code":"user_inactive"}"#
    );
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.header("www-authenticate"),
        invalid_token_challenge("User is inactive")
    );
    assert_eq!(r.kind(), AuthErrorKind::UserInactive);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn check_success_reaches_the_service() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = user_check_layer(calls.clone()).layer(echo());
    assert_ok_user(&send(svc.clone(), bearer(t::ACCESS)).await, "1");
    // Integer user ids reach the check as the same string.
    assert_ok_user(&send(svc, bearer(t::INTEGER_USER_ID)).await, "1");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn check_is_not_run_for_rejected_or_missing_tokens() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = user_check_layer(calls.clone()).layer(echo());
    assert_rejected(
        &send(svc.clone(), bearer(t::EXPIRED)).await,
        "Token is expired",
        AuthErrorKind::Expired,
    );
    assert_missing(&send(svc.clone(), get(None)).await);
    assert_bad_header(&send(svc, get(Some("Bearer a b"))).await);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn check_with_optional_mode_and_no_credentials_is_anonymous() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = user_check_layer(calls.clone()).optional().layer(echo());
    let r = send(svc.clone(), get(None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json(), json!({"claims": null, "anonymous": true}));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let r = send(svc, bearer(t::UNKNOWN_USER)).await;
    assert_eq!(r.kind(), AuthErrorKind::UserNotFound);
}

#[tokio::test]
async fn check_failure_over_grpc_is_unauthenticated_status() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = user_check_layer(calls).layer(echo());
    let r = send(
        svc,
        grpc(
            Some(&format!("Bearer {}", t::INACTIVE_USER)),
            "application/grpc",
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("grpc-status"), "16");
    assert_eq!(r.header("grpc-message"), "User is inactive");
    assert_eq!(r.kind(), AuthErrorKind::UserInactive);
}

#[tokio::test]
async fn debug_output_never_shows_the_secret() {
    let layer = ref_layer();
    let s = format!("{layer:?} {:?}", layer.clone().layer(echo_debuggable()));
    assert!(!s.contains(SECRET), "{s}");
    assert!(!s.contains("reference-only"), "{s}");
    let err = call(bearer(t::EXPIRED)).await.error.expect("err");
    let s = format!("{err:?} {err}");
    assert!(!s.contains(t::EXPIRED), "{s}");
}

#[derive(Clone, Debug)]
struct DebugSvc;

fn echo_debuggable() -> DebugSvc {
    DebugSvc
}

// ---------------------------------------------------------------------------------------------
// Policy options seen on the wire
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_method_is_guarded() {
    for method in [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW",
    ] {
        let req = Request::builder()
            .method(method)
            .uri("/api/weekly_schedule/")
            .body(String::new())
            .expect("request");
        let r = call(req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{method}");
        assert_eq!(r.body, MISSING_BODY, "{method}");
    }
}

#[tokio::test]
async fn envelope_lists_every_accepted_token_type_in_order() {
    // simplejwt: one `messages` entry per AUTH_TOKEN_CLASSES class, in order.
    let verifier = ref_verifier().token_types([TokenType::ACCESS, TokenType::new("id")]);
    let svc = JwtAuthLayer::<SimpleJwtClaims>::new(verifier).layer(echo());
    let r = send(svc.clone(), bearer(t::REFRESH)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.body,
        r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token has wrong type"},{"token_class":"IdToken","token_type":"id","message":"Token has wrong type"}]}"#
    );
    assert_eq!(r.kind(), AuthErrorKind::WrongTokenType);
    // Both accepted types pass.
    assert_ok_user(&send(svc.clone(), bearer(t::ACCESS)).await, "1");
    let id_token = mint(&claims_with(json!({"token_type": "id"})));
    assert_ok_user(&send(svc, bearer(&id_token)).await, "1");
}

#[tokio::test]
async fn refresh_layer_accepts_refresh_and_rejects_access() {
    let verifier = ref_verifier().token_types([TokenType::REFRESH]);
    let svc = JwtAuthLayer::<SimpleJwtClaims>::new(verifier).layer(echo());
    assert_ok_user(&send(svc.clone(), bearer(t::REFRESH)).await, "1");
    let r = send(svc, bearer(t::ACCESS)).await;
    assert_eq!(
        r.body,
        r#"{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"RefreshToken","token_type":"refresh","message":"Token has wrong type"}]}"#
    );
}

#[tokio::test]
async fn custom_claim_names_replace_the_defaults() {
    // simplejwt's USER_ID_CLAIM / TOKEN_TYPE_CLAIM / JTI_CLAIM settings.
    let verifier = ref_verifier()
        .user_id_claim("sub")
        .token_type_claim("typ")
        .jti_claim("id");
    let svc = JwtAuthLayer::<serde_json::Value>::new(verifier).layer(tower::service_fn(
        |req: Request<String>| async move {
            let c = req.extensions().get::<Claims<serde_json::Value>>().cloned();
            Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                Bytes::from(c.map(|c| c.to_string()).unwrap_or_default()),
            )))
        },
    ));
    let good = mint(&json!({"typ": "access", "exp": T_EXP, "id": "j1", "sub": "42"}));
    let r = send(svc.clone(), bearer(&good)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["sub"], "42");
    // The default names no longer count.
    let r = send(svc.clone(), bearer(t::ACCESS)).await;
    assert_rejected(&r, "Token has no id", AuthErrorKind::MissingJti);
    let no_sub = mint(&json!({"typ": "access", "exp": T_EXP, "id": "j1", "user_id": "1"}));
    assert_eq!(
        send(svc.clone(), bearer(&no_sub)).await.kind(),
        AuthErrorKind::MissingUserId
    );
    // `sub` must be a string even as the user id claim (PyJWT >= 2.10), and appear once.
    let int_sub = mint(&json!({"typ": "access", "exp": T_EXP, "id": "j1", "sub": 42}));
    assert_eq!(
        send(svc.clone(), bearer(&int_sub)).await.kind(),
        AuthErrorKind::InvalidClaim
    );
    let two = forge(
        HS256_HEADER,
        &format!(r#"{{"typ":"access","exp":{T_EXP},"id":"j1","sub":"42","sub":"1"}}"#),
    );
    assert_eq!(
        send(svc, bearer(&two)).await.kind(),
        AuthErrorKind::InvalidClaim
    );
}

#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
struct AppClaims {
    user_id: String,
    role: String,
}

#[tokio::test]
async fn custom_claims_type_that_does_not_fit_is_token_invalid() {
    let svc = JwtAuthLayer::<AppClaims>::new(ref_verifier()).layer(tower::service_fn(
        |req: Request<String>| async move {
            let c = req
                .extensions()
                .get::<Claims<AppClaims>>()
                .cloned()
                .expect("claims");
            Ok::<_, std::convert::Infallible>(Response::new(http_body_util::Full::new(
                Bytes::from(format!("{}:{}", c.user_id, c.role)),
            )))
        },
    ));
    let with_role = mint(&claims_with(json!({"role": "admin"})));
    let r = send(svc.clone(), bearer(&with_role)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, "1:admin");
    // Valid by every registered check, but `role` is missing: C does not deserialize.
    let r = send(svc, bearer(t::ACCESS)).await;
    assert_rejected(&r, "Token is invalid", AuthErrorKind::InvalidClaim);
}

#[tokio::test]
async fn other_header_name_and_scheme() {
    let layer = ref_layer()
        .header_name(http::header::HeaderName::from_static("x-auth"))
        .schemes(["JWT"])
        .expect("valid scheme");
    let svc = layer.layer(echo());
    let req = Request::get("/")
        .header("x-auth", format!("JWT {}", t::ACCESS))
        .body(String::new())
        .expect("request");
    assert_ok_user(&send(svc.clone(), req).await, "1");
    // `Authorization` is not read any more, and `Bearer` is not the scheme.
    assert_missing(&send(svc.clone(), bearer(t::ACCESS)).await);
    let req = Request::get("/")
        .header("x-auth", format!("Bearer {}", t::ACCESS))
        .body(String::new())
        .expect("request");
    assert_missing(&send(svc, req).await);
    // Schemes must be RFC 9110 tokens.
    assert!(ref_layer().schemes(Vec::<String>::new()).is_err());
    assert!(ref_layer().schemes(["Bad Scheme"]).is_err());
    assert!(ref_layer().schemes([""]).is_err());
}
