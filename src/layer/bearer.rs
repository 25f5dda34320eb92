//! Finding the token in a request: the `Authorization` header (RFC 6750 §2.1), optionally a
//! cookie. No allocation.

use http::HeaderMap;
use http::header::{AUTHORIZATION, COOKIE, HeaderName};

use crate::error::{AuthError, AuthErrorKind};

/// How the layer finds credentials.
#[derive(Clone, Debug)]
pub(crate) struct Extractor {
    pub(crate) header: HeaderName,
    pub(crate) schemes: Vec<Box<str>>,
    pub(crate) case_sensitive: bool,
    pub(crate) cookie: Option<Box<str>>,
}

impl Default for Extractor {
    fn default() -> Self {
        Self {
            header: AUTHORIZATION,
            schemes: vec!["Bearer".into()],
            case_sensitive: false,
            cookie: None,
        }
    }
}

/// Splits on runs of spaces and tabs, as Python's `str.split()` does for header values.
///
/// A [`HeaderValue`](http::HeaderValue) cannot hold any other ASCII whitespace: CR, LF and form
/// feed are control bytes, which `http` refuses in field values (RFC 9110 §5.5). Any such byte
/// would stay inside a word, and the token would then fail base64url decoding.
#[inline]
fn words(v: &[u8]) -> Words<'_> {
    Words(v)
}

/// The iterator of [`words`]: one vectorised search for the end of each word (a token is a few
/// hundred bytes; a byte-at-a-time split showed up in profiles).
struct Words<'a>(&'a [u8]);

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.0.iter().position(|b| !matches!(b, b' ' | b'\t'))?;
        let v = &self.0[start..];
        let end = memchr::memchr2(b' ', b'\t', v).unwrap_or(v.len());
        self.0 = &v[end..];
        Some(&v[..end])
    }
}

impl Extractor {
    #[inline]
    fn scheme_matches(&self, got: &[u8]) -> bool {
        self.schemes.iter().any(|s| {
            if self.case_sensitive {
                s.as_bytes() == got
            } else {
                s.as_bytes().eq_ignore_ascii_case(got)
            }
        })
    }

    /// The token, `Ok(None)` when no credentials were sent, or the error for a malformed or
    /// ambiguous request.
    #[inline]
    pub(crate) fn extract<'r>(
        &self,
        headers: &'r HeaderMap,
    ) -> Result<Option<&'r [u8]>, AuthError> {
        let mut values = headers.get_all(&self.header).iter();
        let first = values.next();
        if values.next().is_some() {
            // RFC 9110 §5.3: a second Authorization field must not be silently dropped.
            return Err(AuthErrorKind::MultipleCredentials.into());
        }
        let from_header = match first {
            None => None,
            Some(v) => {
                let mut w = words(v.as_bytes());
                match w.next() {
                    // Empty header: as if absent, as simplejwt answers it.
                    None => None,
                    // Another scheme: not ours, as if absent, as simplejwt answers it.
                    Some(scheme) if !self.scheme_matches(scheme) => None,
                    Some(_) => match (w.next(), w.next()) {
                        (Some(token), None) => Some(token),
                        _ => return Err(AuthErrorKind::BadAuthorizationHeader.into()),
                    },
                }
            }
        };
        let Some(name) = &self.cookie else {
            return Ok(from_header);
        };
        let from_cookie = cookie_value(headers, name)?;
        match (from_header, from_cookie) {
            // RFC 6750 §2: clients MUST NOT use more than one method.
            (Some(_), Some(_)) => Err(AuthErrorKind::MultipleCredentials.into()),
            (h, c) => Ok(h.or(c)),
        }
    }
}

/// The token in `headers` as the layer's default configuration finds it (`Authorization`, scheme
/// `Bearer`, case-insensitive, no cookie): `Ok(None)` when no credentials were sent. Exposed for
/// the benchmarks; not a stable API.
#[doc(hidden)]
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&[u8]>, AuthError> {
    static DEFAULT: std::sync::LazyLock<Extractor> = std::sync::LazyLock::new(Extractor::default);
    DEFAULT.extract(headers)
}

/// The value of the cookie `name`, if sent exactly once and non-empty.
fn cookie_value<'r>(headers: &'r HeaderMap, name: &str) -> Result<Option<&'r [u8]>, AuthError> {
    let mut found = None;
    for header in headers.get_all(COOKIE) {
        for pair in header.as_bytes().split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            if &pair[..eq] != name.as_bytes() {
                continue;
            }
            let mut value = pair[eq + 1..].trim_ascii();
            if value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"' {
                value = &value[1..value.len() - 1];
            }
            if found.is_some() {
                return Err(AuthErrorKind::MultipleCredentials.into());
            }
            found = Some(value);
        }
    }
    Ok(found.filter(|v| !v.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn hm(pairs: &[(&str, &[u8])]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_bytes(v).expect("value"),
            );
        }
        h
    }

    fn ex(pairs: &[(&str, &[u8])]) -> Result<Option<Vec<u8>>, AuthErrorKind> {
        let e = Extractor::default();
        e.extract(&hm(pairs))
            .map(|o| o.map(<[u8]>::to_vec))
            .map_err(|e| e.kind())
    }

    #[test]
    fn simplejwt_header_table() {
        assert_eq!(ex(&[]), Ok(None));
        assert_eq!(ex(&[("authorization", b"")]), Ok(None));
        assert_eq!(ex(&[("authorization", b"Token x")]), Ok(None));
        assert_eq!(ex(&[("authorization", b"JWT a.b.c")]), Ok(None));
        assert_eq!(
            ex(&[("authorization", b"Bearer")]),
            Err(AuthErrorKind::BadAuthorizationHeader)
        );
        assert_eq!(
            ex(&[("authorization", b"Bearer a b")]),
            Err(AuthErrorKind::BadAuthorizationHeader)
        );
        assert_eq!(
            ex(&[("authorization", b"Bearer  a.b.c")]),
            Ok(Some(b"a.b.c".to_vec()))
        );
        assert_eq!(
            ex(&[("authorization", b"Bearer\ta.b.c ")]),
            Ok(Some(b"a.b.c".to_vec()))
        );
    }

    #[test]
    fn words_split_on_spaces_and_tabs() {
        fn split(v: &[u8]) -> Vec<&[u8]> {
            words(v).collect()
        }
        assert_eq!(split(b""), Vec::<&[u8]>::new());
        assert_eq!(split(b" \t \t"), Vec::<&[u8]>::new());
        assert_eq!(split(b"a"), vec![&b"a"[..]]);
        assert_eq!(
            split(b"  Bearer\t a.b.c \t x\x0b"),
            vec![&b"Bearer"[..], b"a.b.c", b"x\x0b"]
        );
        for v in [&b"a\tb"[..], b"a b", b"a \t b"] {
            assert_eq!(split(v), vec![&b"a"[..], b"b"], "{v:?}");
        }
        // Bytes `http` never lets into a header value stay inside the word.
        for v in [&b"a\rb"[..], b"a\x0cb", b"a\nb"] {
            assert_eq!(split(v), vec![v], "{v:?}");
        }
        assert!(http::HeaderValue::from_bytes(b"Bearer a\rb").is_err());
        assert!(http::HeaderValue::from_bytes(b"Bearer a\x0cb").is_err());
    }

    #[test]
    fn scheme_is_case_insensitive_by_default() {
        assert_eq!(
            ex(&[("authorization", b"bearer a.b.c")]),
            Ok(Some(b"a.b.c".to_vec()))
        );
        let strict = Extractor {
            case_sensitive: true,
            ..Extractor::default()
        };
        let h = hm(&[("authorization", b"bearer a.b.c")]);
        assert_eq!(strict.extract(&h).map(|o| o.is_some()), Ok(false));
    }

    #[test]
    fn two_headers_are_rejected() {
        assert_eq!(
            ex(&[
                ("authorization", b"Bearer a"),
                ("authorization", b"Bearer b")
            ]),
            Err(AuthErrorKind::MultipleCredentials)
        );
    }

    #[test]
    fn cookie_source() {
        let e = Extractor {
            cookie: Some("access".into()),
            ..Extractor::default()
        };
        let h = hm(&[("cookie", b"a=1; access=t.o.k; b=2")]);
        assert_eq!(
            e.extract(&h).map(|o| o.map(<[u8]>::to_vec)),
            Ok(Some(b"t.o.k".to_vec()))
        );
        let both = hm(&[
            ("cookie", b"access=t.o.k"),
            ("authorization", b"Bearer x.y.z"),
        ]);
        assert_eq!(
            e.extract(&both).map_err(|e| e.kind()),
            Err(AuthErrorKind::MultipleCredentials)
        );
        let twice = hm(&[("cookie", b"access=1; access=2")]);
        assert!(e.extract(&twice).is_err());
    }
}
