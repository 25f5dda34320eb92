//! The token endpoints' body parsers (JSON, form, multipart, by `Content-Type`) and DRF's
//! `CharField` validation: never a panic, and for each format the fields a reference reading
//! gives (serde_json for JSON, `form_urlencoded` for forms, a multipart body built from fuzzed
//! fields for multipart).
//!
//! Input: byte 0 picks the content type (and for 0x80.. a multipart body built from the rest),
//! then the body.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tower_jwt_auth::__fuzz::{BodyError, char_field, parse_body, python_json_error};

const TYPES: [Option<&str>; 8] = [
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/x-www-form-urlencoded"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("multipart/form-data; boundary=\"a b\"; x=1"),
    Some("MULTIPART/FORM-DATA;BOUNDARY="),
    Some("text/plain"),
    None,
];

fn check_fields(m: &Map<String, Value>) {
    for v in m.values() {
        if let Ok(s) = char_field(Some(v)) {
            assert!(!s.is_empty() && !s.contains('\0'));
        }
    }
    assert!(char_field(None).is_err());
}

/// A multipart body built from fuzzed text fields, then parsed: the fields come back (the last
/// value of a repeated name wins).
fn built_multipart(data: &[u8]) {
    let boundary = "----fuzzboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    let mut want = Map::new();
    for (i, chunk) in data.split(|b| *b == 0xff).take(16).enumerate() {
        // Names: base64 of the chunk's head (no quote, `;` or CR/LF); values: the rest.
        let (n, v) = chunk.split_at(chunk.len().min(4));
        let name = format!(
            "f{}{}",
            i % 3,
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(n)
        );
        let value = String::from_utf8_lossy(v).into_owned();
        if value.contains(boundary) {
            return;
        }
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
        want.insert(name, Value::String(value));
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let ct = format!("multipart/form-data; boundary={boundary}");
    let got = parse_body(Some(&ct), &body).expect("a well-formed multipart body");
    assert_eq!(got, want);
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    if sel & 0x80 != 0 {
        built_multipart(body);
        return;
    }
    let ct = TYPES[usize::from(sel) % TYPES.len()];
    let got = parse_body(ct, body);
    if body.is_empty() {
        assert_eq!(got, Ok(Map::new()));
        return;
    }
    match sel as usize % TYPES.len() {
        0 | 1 => match (&got, serde_json::from_slice::<Value>(body)) {
            (Ok(m), Ok(Value::Object(want))) => assert_eq!(m, &want),
            (Err(BodyError::NonField(_)), Ok(v)) => assert!(!v.is_object()),
            (Err(BodyError::Detail(msg)), Err(_)) => {
                assert!(msg.starts_with("JSON parse error - "), "{msg}");
            }
            (got, want) => panic!("parser {got:?} vs serde_json {want:?}"),
        },
        2 => {
            let mut want = Map::new();
            for (k, v) in form_urlencoded::parse(body) {
                want.insert(k.into_owned(), Value::String(v.into_owned()));
            }
            assert_eq!(got, Ok(want));
        }
        6 | 7 => assert!(matches!(got, Err(BodyError::Unsupported(_)))),
        _ => {}
    }
    if let Ok(m) = &got {
        check_fields(m);
    }
    // Python's message for any text serde_json refuses, whatever the content type.
    if let Ok(text) = std::str::from_utf8(body)
        && serde_json::from_str::<Value>(text).is_err()
    {
        assert!(!python_json_error(text).is_empty());
    }
});
