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
