//! Verifier edge cases found in review: nested-JWT content types in every spelling RFC 7515
//! allows, a fractional `nbf`, and claim-name settings that must not switch off a registered check.

use serde_json::Value;
use tower_jwt_auth::AuthErrorKind;

use crate::support::*;

#[test]
fn cty_application_jwt_is_a_nested_jwt_too() {
    // RFC 7515 section 4.1.10: `JWT` means `application/JWT`; media types are case-insensitive.
    for cty in [
        "JWT",
        "jwt",
        "application/jwt",
        "application/JWT",
        "Application/Jwt",
    ] {
        let header = format!(r#"{{"alg":"HS256","cty":"{cty}","typ":"JWT"}}"#);
        assert_eq!(
            verify(&forge(&header, &access_payload())),
            Err(AuthErrorKind::ForbiddenHeader),
            "{cty}"
        );
    }
    // Other content types (and near misses) are just header parameters.
    for cty in [
        "application/json",
        "application/jwt+json",
        "JWTX",
        "application/",
        "applicationXjwt",
        "é",
    ] {
        let header = format!(r#"{{"alg":"HS256","cty":"{cty}","typ":"JWT"}}"#);
        assert_eq!(verify(&forge(&header, &access_payload())), Ok(()), "{cty}");
    }
}

#[test]
fn a_fractional_nbf_is_not_accepted_early() {
    // RFC 7519 section 4.1.5: MUST NOT be accepted before `nbf`. Flooring `nbf = now + 0.5` to
    // `now` accepted the token half a second early (PyJWT rejects it).
    let with_nbf = |nbf: &str| {
        let mut c = access_claims();
        c["nbf"] = serde_json::from_str(nbf).expect("number");
        forge(HS256_HEADER, &c.to_string())
    };
    let now = T_IAT;
    for (nbf, ok) in [
        (format!("{now}.5"), false),
        (format!("{now}.000001"), false),
        (format!("{}.999", now - 1), true),
        (format!("{now}.0"), true),
        (format!("{now}"), true),
        (format!("{}", now + 1), false),
        ("-1.5".to_owned(), true),
    ] {
        let want = if ok {
            Ok(())
        } else {
            Err(AuthErrorKind::NotYetValid)
        };
        assert_eq!(verify(&with_nbf(&nbf)), want, "nbf = {nbf}");
    }
    // Out-of-range and wrong-typed values are still invalid claims.
    for nbf in ["9223372036854775808", "1e300", "\"1\"", "null"] {
        assert_eq!(
            verify(&with_nbf(nbf)),
            Err(AuthErrorKind::InvalidClaim),
            "nbf = {nbf}"
        );
    }
}

#[test]
fn a_configured_claim_name_cannot_switch_off_a_registered_check() {
    // `user_id_claim("nbf")` used to read `nbf` as the user id and never check it: a token not
    // valid for another hour was accepted. The registered claims now always win; the
    // configuration fails closed instead.
    let later = T_IAT + 3600;
    let mut c = access_claims();
    c["nbf"] = later.into();
    let token = forge(HS256_HEADER, &c.to_string());
    let v = ref_verifier().user_id_claim("nbf");
    assert_eq!(
        verify_as::<Value>(&v, &token),
        Err(AuthErrorKind::NotYetValid)
    );
    // Same for `aud` as the token type claim: a token carrying `aud` with no audience configured
    // is still rejected, and one without gets no token type.
    let mut c = access_claims();
    c["aud"] = "someone-else".into();
    let token = forge(HS256_HEADER, &c.to_string());
    let v = ref_verifier().token_type_claim("aud");
    assert_eq!(
        verify_as::<Value>(&v, &token),
        Err(AuthErrorKind::InvalidAudience)
    );
    let token = forge(HS256_HEADER, &access_payload());
    assert_eq!(
        verify_as::<Value>(&v, &token),
        Err(AuthErrorKind::MissingTokenType)
    );
    // `exp` as the jti claim: `exp` is still enforced and the jti is missing.
    let v = ref_verifier().jti_claim("exp");
    assert_eq!(
        verify_as::<Value>(&v, &forge(HS256_HEADER, &access_payload())),
        Err(AuthErrorKind::MissingJti)
    );
    // And `sub` as the user id keeps working.
    let mut c = access_claims();
    c["sub"] = "42".into();
    let token = forge(HS256_HEADER, &c.to_string());
    let got = ref_verifier()
        .user_id_claim("sub")
        .verify::<Value>(&token)
        .expect("valid");
    assert_eq!(got.user_id.as_ref().map(|u| u.as_str()), Some("42"));
}
