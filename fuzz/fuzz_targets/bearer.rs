//! The credential extractor (`Authorization` header, optional cookie) against a reference model
//! of RFC 6750 §2.1 as simplejwt reads it (Python's `str.split()` on the header value), every
//! configuration. Any difference panics.
//!
//! Input: structured (`arbitrary`): the headers sent and the extractor's configuration.
#![no_main]

use arbitrary::Arbitrary;
use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use tower_jwt_auth::__fuzz::extract_credentials;
use tower_jwt_auth::AuthErrorKind;

#[derive(Arbitrary, Debug)]
struct Input {
    headers: Vec<(u8, Vec<u8>)>,
    scheme: u8,
    case_sensitive: bool,
    cookie: bool,
    custom_header: bool,
}

const SCHEMES: [&[&str]; 3] = [&["Bearer"], &["JWT", "Bearer"], &["Token"]];
const COOKIE_NAME: &str = "access";

/// Python's `bytes.split()` restricted to what a header value may hold: runs of spaces and tabs.
fn words(v: &[u8]) -> Vec<&[u8]> {
    v.split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty())
        .collect()
}

fn model(
    headers: &HeaderMap,
    header: &HeaderName,
    schemes: &[&str],
    case_sensitive: bool,
    cookie: bool,
) -> Result<Option<Vec<u8>>, AuthErrorKind> {
    let values: Vec<&HeaderValue> = headers.get_all(header).iter().collect();
    let from_header = match values.as_slice() {
        [] => None,
        [v] => {
            let w = words(v.as_bytes());
            let ours = |s: &[u8]| {
                schemes.iter().any(|want| {
                    if case_sensitive {
                        want.as_bytes() == s
                    } else {
                        want.as_bytes().eq_ignore_ascii_case(s)
                    }
                })
            };
            match w.as_slice() {
                [] => None,
                [scheme, ..] if !ours(scheme) => None,
                [_, token] => Some(token.to_vec()),
                _ => return Err(AuthErrorKind::BadAuthorizationHeader),
            }
        }
        _ => return Err(AuthErrorKind::MultipleCredentials),
    };
    if !cookie {
        return Ok(from_header);
    }
    let mut found: Option<Vec<u8>> = None;
    for h in headers.get_all(COOKIE) {
        for pair in h.as_bytes().split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            let (name, value) = (&pair[..eq], pair[eq + 1..].trim_ascii());
            if name != COOKIE_NAME.as_bytes() {
                continue;
            }
            let value = match value {
                [b'"', inner @ .., b'"'] => inner,
                v => v,
            };
            if found.is_some() {
                return Err(AuthErrorKind::MultipleCredentials);
            }
            found = Some(value.to_vec());
        }
    }
    let found = found.filter(|v| !v.is_empty());
    match (from_header, found) {
        (Some(_), Some(_)) => Err(AuthErrorKind::MultipleCredentials),
        (h, c) => Ok(h.or(c)),
    }
}

fuzz_target!(|input: Input| {
    let header = if input.custom_header {
        HeaderName::from_static("x-auth")
    } else {
        AUTHORIZATION
    };
    let mut headers = HeaderMap::new();
    for (which, value) in input.headers.iter().take(8) {
        let name = match which % 4 {
            0 | 1 => header.clone(),
            2 => COOKIE,
            _ => HeaderName::from_static("x-other"),
        };
        if let Ok(v) = HeaderValue::from_bytes(value) {
            headers.append(name, v);
        }
    }
    let schemes = SCHEMES[usize::from(input.scheme) % SCHEMES.len()];
    let cookie = input.cookie.then_some(COOKIE_NAME);
    let got = extract_credentials(
        &headers,
        header.clone(),
        schemes,
        input.case_sensitive,
        cookie,
    );
    let want = model(
        &headers,
        &header,
        schemes,
        input.case_sensitive,
        input.cookie,
    );
    assert_eq!(got.map(|t| t.map(<[u8]>::to_vec)), want);
    if let Ok(Some(t)) = got {
        if !input.cookie {
            assert!(!t.is_empty() && !t.contains(&b' ') && !t.contains(&b'\t'));
        }
    }
    // The default configuration's public entry agrees with the configured one.
    if !input.custom_header && input.scheme % 3 == 0 && !input.case_sensitive && !input.cookie {
        let public = tower_jwt_auth::bearer_token(&headers).map_err(|e| e.kind());
        assert_eq!(public, got);
    }
});
