//! Verifier edge cases found in review: nested-JWT content types in every spelling RFC 7515
//! allows.

mod common;

use common::*;
use tower_jwt_auth::{AuthErrorKind, SimpleJwtClaims};

fn verify(token: &str) -> Result<(), AuthErrorKind> {
    ref_verifier()
        .verify::<SimpleJwtClaims>(token)
        .map(|_| ())
        .map_err(|e| e.kind())
}

#[test]
fn cty_application_jwt_is_a_nested_jwt_too() {
    // RFC 7515 §4.1.10: `JWT` means `application/JWT`; media types are case-insensitive.
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
    // RFC 7519 §4.1.5: MUST NOT be accepted before `nbf`. Flooring `nbf = now + 0.5` to `now`
    // accepted the token half a second early (PyJWT rejects it).
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
