//! Forged and hostile tokens against the verifier: algorithm and key confusion, the compact
//! format (segments, base64url, JSON), and the registered claims. Tokens are forged byte by byte
//! (the attacker's view) and MACed with the reference secret unless the signature itself is under
//! test; a few cases also go through the layer to show the answer is a 401, never a 500.

use http::StatusCode;
use tower::Layer;
use tower_jwt_auth::AuthErrorKind::*;
use tower_jwt_auth::{
    Algorithm, Clock, ConfigError, JwtAuthLayer, Key, Keys, SimpleJwtClaims, Verifier,
};

use crate::support::transcript as t;
use crate::support::*;

/// A token with this header (HS256-MACed with the reference secret) and the standard payload.
fn with_header(header: &str) -> String {
    forge(header, &access_payload())
}

/// A token with the standard header (HS256-MACed with the reference secret) and this payload.
fn with_payload(payload: &str) -> String {
    forge(HS256_HEADER, payload)
}

/// simplejwt's access payload as JSON text, with claims replaced (`""` removes the claim) or
/// appended, in order.
fn payload(over: &[(&str, &str)]) -> String {
    let t_exp = T_EXP.to_string();
    let t_iat = T_IAT.to_string();
    let mut fields: Vec<(String, String)> = [
        ("token_type", "\"access\""),
        ("exp", t_exp.as_str()),
        ("iat", t_iat.as_str()),
        ("jti", "\"fac5344d01d34db3b5575d65f5ee8c0f\""),
        ("user_id", "\"1\""),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in over {
        match fields.iter().position(|(fk, _)| fk == k) {
            Some(i) if v.is_empty() => {
                fields.remove(i);
            }
            Some(i) => fields[i].1 = (*v).to_owned(),
            None => fields.push(((*k).to_owned(), (*v).to_owned())),
        }
    }
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
    format!("{{{}}}", body.join(","))
}

/// A token of these base64url segments exactly as given, with a valid HS256 MAC over them: the
/// format checks are then the only thing that can reject it.
fn mac_segments(h64: &str, p64: &str) -> String {
    let input = format!("{h64}.{p64}");
    let mac = b64(hmac("HS256", SECRET.as_bytes(), input.as_bytes()));
    format!("{input}.{mac}")
}

/// The standard payload with raw JSON members appended (for duplicates).
fn payload_plus(raw: &str) -> String {
    let p = payload(&[]);
    format!("{},{raw}}}", &p[..p.len() - 1])
}

// =============================================================================================
// Algorithms and keys
// =============================================================================================

#[test]
fn only_the_pinned_algorithm_is_accepted() {
    assert_eq!(verify(&with_header(HS256_HEADER)), Ok(()));
    for alg in [
        "HS384",
        "HS512",
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "ES256K",
        "Ed25519",
        "HS256 ",
        " HS256",
        "HS256\\u0000",
        "",
        "HS-256",
    ] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        // MACed with the right secret: only the header's alg is wrong.
        assert_eq!(
            verify(&with_header(&header)),
            Err(AlgorithmNotAllowed),
            "{alg:?}"
        );
    }
    // HS384/HS512 MACed with the same secret under their own algorithm (the recorded "HS512
    // token signed with the right key" attack).
    for alg in ["HS384", "HS512"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let token = forge_raw(
            header.as_bytes(),
            access_payload().as_bytes(),
            alg,
            SECRET.as_bytes(),
        );
        assert_eq!(verify(&token), Err(AlgorithmNotAllowed), "{alg}");
    }
    // No alg, or an alg that is not a string: not a JWS header.
    for header in [
        r#"{"typ":"JWT"}"#,
        r#"{"alg":null}"#,
        r#"{"alg":256}"#,
        r#"{"alg":["HS256"]}"#,
    ] {
        assert_eq!(verify(&with_header(header)), Err(Malformed), "{header}");
    }
}

#[test]
fn alg_none_in_any_spelling_is_rejected() {
    for alg in ["none", "None", "NONE", "nOnE", "NoNe"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
        let input = format!("{header}.{}", b64(access_payload()));
        let mac = b64(hmac("HS256", SECRET.as_bytes(), input.as_bytes()));
        // Empty signature segment, and with a (valid HS256) signature.
        assert_eq!(
            verify(&format!("{input}.")),
            Err(AlgorithmNotAllowed),
            "{alg}"
        );
        assert_eq!(
            verify(&format!("{input}.{mac}")),
            Err(AlgorithmNotAllowed),
            "{alg}"
        );
        // No signature segment at all.
        assert_eq!(verify(&input), Err(Malformed), "{alg}");
    }
    // The recorded simplejwt probe ("protected: alg=none token").
    assert_eq!(verify(t::ALG_NONE), Err(AlgorithmNotAllowed));
}

#[test]
fn alg_names_are_case_sensitive() {
    for alg in ["hs256", "Hs256", "hS256", "hs512", "rs256"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        assert_eq!(
            verify(&with_header(&header)),
            Err(AlgorithmNotAllowed),
            "{alg}"
        );
    }
}

#[test]
fn short_hmac_secrets_are_refused_at_construction() {
    assert_eq!(
        Keys::hs256([7u8; 31]).err(),
        Some(ConfigError::WeakSecret {
            min_bytes: 32,
            got_bytes: 31
        })
    );
    assert_eq!(
        Keys::hs256(b"").err(),
        Some(ConfigError::WeakSecret {
            min_bytes: 32,
            got_bytes: 0
        })
    );
    assert!(Keys::hs256(b"password").is_err());
    assert!(Keys::hs256([7u8; 32]).is_ok());
    assert_eq!(
        Key::hmac(Algorithm::HS384, [7u8; 47]).err(),
        Some(ConfigError::WeakSecret {
            min_bytes: 48,
            got_bytes: 47
        })
    );
    assert!(Key::hmac(Algorithm::HS384, [7u8; 48]).is_ok());
    assert_eq!(
        Key::hmac(Algorithm::HS512, [7u8; 63]).err(),
        Some(ConfigError::WeakSecret {
            min_bytes: 64,
            got_bytes: 63
        })
    );
    assert!(Key::hmac(Algorithm::HS512, [7u8; 64]).is_ok());
    // The error message never echoes the secret.
    let msg = Keys::hs256(b"hunter2-hunter2")
        .expect_err("weak")
        .to_string();
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn the_mac_covers_the_received_bytes_not_a_reserialisation() {
    // A non-canonical header (spaces, other key order) MACed as received verifies: the MAC is
    // never computed over a re-serialisation.
    let header = "{ \"typ\" : \"JWT\",\n \"alg\" : \"HS256\" }";
    assert_eq!(verify(&with_header(header)), Ok(()));
    let spaced = format!(" {} ", access_payload().replace(',', " , "));
    assert_eq!(verify(&with_payload(&spaced)), Ok(()));
    // And the same JSON re-encoded differently under the original MAC does not.
    let (_, rest) = t::ACCESS.split_once('.').expect("dot");
    let canonical_sig = rest.split_once('.').expect("dot").1;
    let reencoded = format!(
        "{}.{}.{canonical_sig}",
        b64(header),
        rest.split_once('.').expect("dot").0
    );
    assert_eq!(verify(&reencoded), Err(BadSignature));
}

#[test]
fn truncated_extended_or_flipped_signatures_are_rejected() {
    let (input, sig) = t::ACCESS.rsplit_once('.').expect("dot");
    let raw = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .expect("b64")
    };
    // Prefixes of the right MAC (a prefix compare would accept these).
    for n in [0, 1, 16, 31] {
        assert_eq!(
            verify(&format!("{input}.{}", b64(&raw[..n]))),
            Err(BadSignature),
            "{n}"
        );
    }
    // The MAC with a byte appended.
    let mut longer = raw.clone();
    longer.push(0);
    assert_eq!(
        verify(&format!("{input}.{}", b64(&longer))),
        Err(BadSignature)
    );
    // Every single-bit flip of the last byte.
    for bit in 0..8 {
        let mut flipped = raw.clone();
        flipped[31] ^= 1 << bit;
        assert_eq!(
            verify(&format!("{input}.{}", b64(&flipped))),
            Err(BadSignature)
        );
    }
}

#[test]
fn embedded_or_remote_key_headers_are_rejected() {
    for (param, value) in [
        ("jwk", r#"{"kty":"oct","k":"AAAA"}"#),
        ("jku", r#""https://attacker.example/jwks.json""#),
        ("x5u", r#""https://attacker.example/cert.pem""#),
        ("x5c", r#"["MIIB"]"#),
        // Even an empty or null value: the parameter is never honoured.
        ("jwk", "null"),
        ("x5c", "[]"),
        ("jku", r#""""#),
    ] {
        let header = format!(r#"{{"alg":"HS256","{param}":{value},"typ":"JWT"}}"#);
        assert_eq!(
            verify(&with_header(&header)),
            Err(ForbiddenHeader),
            "{param}: {value}"
        );
    }
}

#[test]
fn kid_paths_and_sql_are_never_looked_up() {
    for kid in [
        "../../../../../../dev/null",
        "/etc/passwd",
        "' UNION SELECT 'k' --",
        "1; DROP TABLE keys",
        "https://attacker.example/jwks.json",
        "$(id)",
        "",
    ] {
        let header = format!(r#"{{"alg":"HS256","kid":{},"typ":"JWT"}}"#, json_str(kid));
        // MACed with an empty key, as `/dev/null` would give, and with the real secret. The
        // ring has no kids, so the token's kid is not used at all: its alg picks the one key.
        let payload = access_payload();
        let token = forge_raw(header.as_bytes(), payload.as_bytes(), "HS256", b"");
        assert_eq!(verify(&token), Err(BadSignature), "{kid:?}");
        let token = forge_raw(
            header.as_bytes(),
            payload.as_bytes(),
            "HS256",
            SECRET.as_bytes(),
        );
        assert_eq!(verify(&token), Ok(()), "{kid:?}");
    }
    // Against a ring that has kids they are just unknown keys.
    let ring = Keys::new(
        Key::hmac(Algorithm::HS256, SECRET)
            .expect("key")
            .with_kid("k1"),
    );
    let v = Verifier::new(ring).clock(Clock::fixed(T_IAT));
    let header = r#"{"alg":"HS256","kid":"../k1","typ":"JWT"}"#;
    assert_eq!(verify_with(&v, &with_header(header)), Err(UnknownKey));
    let header = r#"{"alg":"HS256","kid":"k1","typ":"JWT"}"#;
    assert_eq!(verify_with(&v, &with_header(header)), Ok(()));
    // A kid that is not a string is not a JWS header.
    let header = r#"{"alg":"HS256","kid":1,"typ":"JWT"}"#;
    assert_eq!(verify_with(&v, &with_header(header)), Err(Malformed));
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

#[test]
fn public_key_pem_used_as_hmac_secret_is_refused() {
    let public_pem = fixture("keys/rsa.public.pem");
    let ring = Keys::new(Key::rsa_pem(Algorithm::RS256, &public_pem).expect("pem"));
    let v = Verifier::new(ring).clock(Clock::fixed(T_IAT));
    let token = forge_raw(
        HS256_HEADER.as_bytes(),
        access_payload().as_bytes(),
        "HS256",
        &public_pem,
    );
    assert_eq!(verify_with(&v, &token), Err(AlgorithmNotAllowed));
    // Through the layer too.
    let svc = JwtAuthLayer::<SimpleJwtClaims>::new(v).layer(echo());
    let r = block_on(send(svc, bearer(&token)));
    assert_rejected(&r, "Token is invalid", AlgorithmNotAllowed);
}

#[test]
fn crit_header_is_rejected() {
    for crit in [r#"["exp"]"#, r#"["b64"]"#, "[]", r#""x""#] {
        let header = format!(r#"{{"alg":"HS256","crit":{crit},"typ":"JWT"}}"#);
        assert_eq!(
            verify(&with_header(&header)),
            Err(ForbiddenHeader),
            "{crit}"
        );
    }
    let header = r#"{"alg":"HS256","b64":false,"crit":["b64"],"typ":"JWT"}"#;
    assert_eq!(verify(&with_header(header)), Err(ForbiddenHeader));
}

// =============================================================================================
// Parsing and format
// =============================================================================================

#[test]
fn wrong_segment_counts_are_rejected() {
    let (h, rest) = t::ACCESS.split_once('.').expect("dot");
    let (p, s) = rest.split_once('.').expect("dot");
    for token in [
        String::new(),
        h.to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{h}.{p}.{s}"),
        format!("{h}..{p}.{s}"),
        format!("{h}..{s}"),
        format!(".{p}.{s}"),
        "..".to_owned(),
        "...".to_owned(),
        ".".to_owned(),
    ] {
        assert_eq!(verify(&token), Err(Malformed), "{token:?}");
    }
}

#[test]
fn base64_padding_is_rejected() {
    // A header and a payload whose base64url lengths are not multiples of 4 (so that a
    // standard encoder would pad them).
    let (h, p) = (0..)
        .map(|n| {
            let x = json_str(&"a".repeat(n));
            (
                format!(r#"{{"alg":"HS256","typ":"JWT","x":{x}}}"#),
                payload(&[("x", &x)]),
            )
        })
        .find(|(h, p)| b64(h).len() % 4 != 0 && b64(p).len() % 4 != 0)
        .expect("some length needs padding");
    let token = forge(&h, &p);
    assert_eq!(verify(&token), Ok(()));
    let parts: Vec<&str> = token.split('.').collect();
    let pad = |s: &str| format!("{s}{}", "=".repeat(4 - s.len() % 4));
    let (h64, p64, s64) = (parts[0], parts[1], parts[2]);
    assert_eq!(verify(&mac_segments(&pad(h64), p64)), Err(Malformed));
    assert_eq!(verify(&mac_segments(h64, &pad(p64))), Err(Malformed));
    // Without a valid MAC over the padded bytes, the signature fails first.
    assert_eq!(
        verify(&format!("{h64}.{}.{s64}", pad(p64))),
        Err(BadSignature)
    );
    // An HS256 MAC is 32 bytes: 43 characters, padded to 44.
    assert_eq!(s64.len(), 43);
    assert_eq!(
        verify(&format!("{h64}.{p64}.{}", pad(s64))),
        Err(BadSignature)
    );
    // A stray '=' anywhere else.
    assert_eq!(
        verify(&mac_segments(&format!("={h64}"), p64)),
        Err(Malformed)
    );
    assert_eq!(
        verify(&mac_segments(h64, &format!("={p64}"))),
        Err(Malformed)
    );
}

#[test]
fn standard_base64_alphabet_is_rejected() {
    // A payload whose base64url has '-' and '_', then the same in the standard alphabet.
    let payload = payload(&[("note", "\"\u{fb}\u{ff}>>>???~~~\"")]);
    let token = with_payload(&payload);
    assert_eq!(verify(&token), Ok(()));
    let p64 = token.split('.').nth(1).expect("payload");
    assert!(p64.contains('-') || p64.contains('_'), "{p64}");
    let standard = token.replace('-', "+").replace('_', "/");
    assert_ne!(standard, token);
    assert!(verify(&standard).is_err());
    let (h, rest) = token.split_once('.').expect("dot");
    let (p, s) = rest.split_once('.').expect("dot");
    let p_std = p.replace('-', "+").replace('_', "/");
    assert_eq!(verify(&mac_segments(h, &p_std)), Err(Malformed));
    assert_eq!(verify(&format!("{h}.{p_std}.{s}")), Err(BadSignature));
    // The signature of the transcript's first access token contains '-'.
    let (input, sig) = t::ACCESS.rsplit_once('.').expect("dot");
    assert!(sig.contains('-'));
    assert_eq!(
        verify(&format!("{input}.{}", sig.replace('-', "+"))),
        Err(BadSignature)
    );
}

#[test]
fn percent_encoded_dots_and_whitespace_are_rejected() {
    assert_eq!(verify(&t::ACCESS.replace('.', "%2E")), Err(Malformed));
    assert_eq!(verify(&t::ACCESS.replace('.', "%2e")), Err(Malformed));
    let first_dot = t::ACCESS.find('.').expect("dot");
    let mut one = t::ACCESS.to_owned();
    one.replace_range(first_dot..=first_dot, "%2E");
    assert_eq!(verify(&one), Err(Malformed));
    for ws in [" ", "\t", "\n", "\r\n"] {
        let mut token = t::ACCESS.to_owned();
        token.insert_str(10, ws);
        assert_eq!(verify(&token), Err(Malformed), "{ws:?}");
        assert!(verify(&format!("{}{ws}", t::ACCESS)).is_err(), "{ws:?}");
        assert!(verify(&format!("{ws}{}", t::ACCESS)).is_err(), "{ws:?}");
    }
}

#[test]
fn header_that_is_not_a_json_object_is_rejected() {
    for header in [
        "[]",
        // serde maps arrays onto struct fields by position: this one used to verify.
        r#"["HS256"]"#,
        r#"["HS256",null]"#,
        r#"["alg","HS256"]"#,
        r#""HS256""#,
        "1",
        "null",
        "true",
        "",
        r#"{"alg":"HS256""#,
        r#"{"alg":"HS256","typ":"JWT"} x"#,
        r#"{"alg":"HS256","typ":"JWT"}{}"#,
        r#"{"alg":"HS256",/*c*/"typ":"JWT"}"#,
        r#"{"alg":"HS256","typ":NaN}"#,
        r#"{"alg":"HS256","typ":Infinity}"#,
        r#"{'alg':'HS256'}"#,
    ] {
        assert_eq!(verify(&with_header(header)), Err(Malformed), "{header:?}");
    }
    // Not UTF-8.
    let token = forge_raw(
        b"{\"alg\":\"HS256\",\"typ\":\"\xff\"}",
        access_payload().as_bytes(),
        "HS256",
        SECRET.as_bytes(),
    );
    assert_eq!(verify(&token), Err(Malformed));
}

#[test]
fn payload_that_is_not_a_json_object_is_rejected() {
    let full = access_payload();
    for p in [
        "[]".to_owned(),
        format!("[{full}]"),
        r#""access""#.to_owned(),
        "1".to_owned(),
        "null".to_owned(),
        "true".to_owned(),
        String::new(),
        full[..full.len() - 1].to_owned(),
        format!("{full} x"),
        format!("{full}{{}}"),
        format!("{full}\u{0}"),
        full.replacen('{', "{/*c*/", 1),
        payload(&[("x", "NaN")]),
        payload(&[("x", "Infinity")]),
        payload(&[("x", "-Infinity")]),
        payload(&[("exp", "NaN")]),
        payload(&[("x", "'single'")]),
    ] {
        assert_eq!(verify(&with_payload(&p)), Err(Malformed), "{p:?}");
    }
    // Not UTF-8.
    let mut bytes = payload(&[("x", "\"\u{e9}\"")]).into_bytes();
    let at = bytes.iter().position(|b| *b == 0xc3).expect("é");
    bytes[at] = 0xff;
    let token = forge_raw(HS256_HEADER.as_bytes(), &bytes, "HS256", SECRET.as_bytes());
    assert_eq!(verify(&token), Err(Malformed));
}

#[test]
fn duplicate_registered_claims_and_header_parameters_are_rejected() {
    for raw in [
        format!(r#""exp":{}"#, T_EXP + 1000),
        format!(r#""iat":{T_IAT}"#),
        r#""jti":"other""#.to_owned(),
        r#""token_type":"access""#.to_owned(),
        r#""user_id":"2""#.to_owned(),
        // Escaped spellings of the same names are the same names.
        format!(r#""\u0065xp":{}"#, T_EXP + 1000),
        r#""user\u005fid":"2""#.to_owned(),
    ] {
        assert_eq!(
            verify(&with_payload(&payload_plus(&raw))),
            Err(InvalidClaim),
            "{raw}"
        );
    }
    for p in [
        payload(&[("nbf", "1"), ("x", "0")]).replace(r#""x":0"#, r#""nbf":1"#),
        payload(&[("iss", "\"a\""), ("x", "0")]).replace(r#""x":0"#, r#""iss":"a""#),
    ] {
        assert!(verify(&with_payload(&p)).is_err(), "{p}");
    }
    let v = ref_verifier().audience(["api"]);
    let p = payload(&[("aud", "\"api\""), ("x", "0")]).replace(r#""x":0"#, r#""aud":"api""#);
    assert_eq!(verify_with(&v, &with_payload(&p)), Err(InvalidClaim));
    // Duplicate header parameters.
    for header in [
        r#"{"alg":"none","alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256","alg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS256","kid":"a","kid":"b","typ":"JWT"}"#,
    ] {
        assert_eq!(verify(&with_header(header)), Err(Malformed), "{header}");
    }
}

#[test]
fn duplicate_unregistered_claims_take_the_last_value() {
    // RFC 7519 section 4 allows "reject or last wins"; never first-wins. Claims the verifier does not
    // check (`sub` is only type-checked) reach `SimpleJwtClaims::extra` last-wins.
    for (raw, key, last) in [
        (r#""role":"user","role":"admin""#, "role", "admin"),
        (r#""sub":"a","sub":"b""#, "sub", "b"),
    ] {
        let p = payload_plus(raw);
        let v = ref_verifier()
            .verify::<SimpleJwtClaims>(&with_payload(&p))
            .expect("valid");
        assert_eq!(v.claims.extra[key], last);
    }
}

#[test]
fn nested_compressed_or_unencoded_payloads_are_rejected() {
    for header in [
        r#"{"alg":"HS256","cty":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS256","cty":"jwt","typ":"JWT"}"#,
        r#"{"alg":"HS256","typ":"JWT","zip":"DEF"}"#,
        r#"{"alg":"HS256","typ":"JWT","zip":null}"#,
        r#"{"alg":"HS256","b64":false,"typ":"JWT"}"#,
    ] {
        assert_eq!(
            verify(&with_header(header)),
            Err(ForbiddenHeader),
            "{header}"
        );
    }
    // A nested JWT as the payload, even validly signed inside, is not claims.
    let inner = t::ACCESS;
    let header = r#"{"alg":"HS256","cty":"JWT","typ":"JWT"}"#;
    let token = forge(header, &json_str(inner));
    assert_eq!(verify(&token), Err(ForbiddenHeader));
    // Another content type is just a header parameter.
    let header = r#"{"alg":"HS256","cty":"application/json","typ":"JWT"}"#;
    assert_eq!(verify(&with_header(header)), Ok(()));
}

#[test]
fn over_long_tokens_are_rejected_before_decoding() {
    // 8 KiB + 1 bytes: too long, whatever it holds.
    let over = "A".repeat(8 * 1024 + 1);
    assert_eq!(verify(&over), Err(TooLong));
    // A validly signed token just under the cap verifies; one pad byte more and it is too long.
    let signed = |n: usize| with_payload(&payload(&[("pad", &json_str(&"x".repeat(n)))]));
    // The largest pad that fits (binary search: the length grows with the pad).
    let (mut lo, mut hi) = (0, 8 * 1024);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        if signed(mid).len() <= 8 * 1024 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let n = lo;
    assert!(signed(n).len() <= 8 * 1024);
    assert_eq!(verify(&signed(n)), Ok(()));
    let over = signed(n + 1);
    assert!(
        (8 * 1024 + 1..=8 * 1024 + 2).contains(&over.len()),
        "{}",
        over.len()
    );
    assert_eq!(verify(&over), Err(TooLong));
    // Exactly at the cap: not TooLong.
    assert_eq!(verify(&"A".repeat(8 * 1024)), Err(Malformed));
}

#[test]
fn a_hundred_thousand_dots_are_too_long_not_a_hang() {
    let dots = ".".repeat(100_000);
    assert_eq!(verify(&dots), Err(TooLong));
    // With the cap lifted, the dots are still just malformed (no split into a huge vector).
    let v = ref_verifier().max_token_len(1 << 20);
    assert_eq!(verify_with(&v, &dots), Err(Malformed));
    assert_eq!(verify_with(&v, &format!("a{dots}b")), Err(Malformed));
    // Through the layer: a 401, not a hang or a 500.
    let r = block_on(call(bearer(&dots)));
    assert_rejected(&r, "Token is invalid", TooLong);
}

#[test]
fn deeply_nested_json_is_rejected_not_a_stack_overflow() {
    let v = ref_verifier().max_token_len(4 << 20);
    for depth in [200, 100_000] {
        let nest = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let p = payload(&[("deep", &nest)]);
        assert!(verify_with(&v, &with_payload(&p)).is_err(), "{depth}");
        let objs = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        let p = payload(&[("deep", &objs)]);
        assert!(verify_with(&v, &with_payload(&p)).is_err(), "{depth}");
        // An unknown header parameter is skipped (iteratively: no recursion at all).
        let header = format!(r#"{{"alg":"HS256","x":{nest}}}"#);
        assert_eq!(verify_with(&v, &with_header(&header)), Ok(()));
    }
    // Moderate nesting in an unregistered claim is fine.
    let p = payload(&[("deep", "[[[[[[[[[[1]]]]]]]]]]")]);
    assert_eq!(verify(&with_payload(&p)), Ok(()));
}

// =============================================================================================
// Claims
// =============================================================================================

fn at(now: i64) -> Verifier {
    ref_verifier().clock(Clock::fixed(now))
}

#[test]
fn exp_is_required_and_enforced() {
    assert_eq!(
        verify(&with_payload(&payload(&[("exp", "")]))),
        Err(MissingExp)
    );
    let token = with_payload(&payload(&[]));
    assert_eq!(verify_with(&at(T_EXP - 1), &token), Ok(()));
    // Rejected on or after exp.
    assert_eq!(verify_with(&at(T_EXP), &token), Err(Expired));
    assert_eq!(verify_with(&at(T_EXP + 1), &token), Err(Expired));
    // Negative and zero exp.
    for exp in ["0", "-1", "-9223372036854775808"] {
        assert_eq!(
            verify(&with_payload(&payload(&[("exp", exp)]))),
            Err(Expired),
            "{exp}"
        );
    }
    // The largest exp is not an overflow.
    let far = payload(&[("exp", "9223372036854775807")]);
    assert_eq!(verify(&with_payload(&far)), Ok(()));
    let lenient = at(T_EXP).leeway(300).expect("leeway");
    assert_eq!(verify_with(&lenient, &with_payload(&far)), Ok(()));
}

#[test]
fn leeway_is_applied_and_capped() {
    let token = with_payload(&payload(&[]));
    let v = at(T_EXP + 59).leeway(60).expect("leeway");
    assert_eq!(verify_with(&v, &token), Ok(()));
    let v = at(T_EXP + 60).leeway(60).expect("leeway");
    assert_eq!(verify_with(&v, &token), Err(Expired));
    assert!(ref_verifier().leeway(300).is_ok());
    assert_eq!(
        ref_verifier().leeway(301).err(),
        Some(ConfigError::LeewayTooLarge { max_seconds: 300 })
    );
    assert!(ref_verifier().leeway(u64::MAX).is_err());
}

#[test]
fn nbf_and_a_future_iat_are_enforced() {
    let nbf = |n: i64| with_payload(&payload(&[("nbf", &n.to_string())]));
    assert_eq!(verify(&nbf(T_IAT)), Ok(()));
    assert_eq!(verify(&nbf(T_IAT - 1)), Ok(()));
    assert_eq!(verify(&nbf(T_IAT + 1)), Err(NotYetValid));
    let v = ref_verifier().leeway(10).expect("leeway");
    assert_eq!(verify_with(&v, &nbf(T_IAT + 10)), Ok(()));
    assert_eq!(verify_with(&v, &nbf(T_IAT + 11)), Err(NotYetValid));
    // The recorded probe ("protected: nbf in the future") and an nbf at the end of time.
    assert_eq!(verify(t::NBF_FUTURE), Err(NotYetValid));
    assert_eq!(verify(&nbf(i64::MAX)), Err(NotYetValid));
    // iat in the future likewise (PyJWT >= 2.10).
    let iat = with_payload(&payload(&[("iat", &(T_IAT + 1).to_string())]));
    assert_eq!(verify(&iat), Err(IssuedInFuture));
}

#[test]
fn wrong_json_types_for_dates_are_invalid_not_absent() {
    for claim in ["exp", "nbf", "iat"] {
        for value in [
            // A string far in the future or past: the CVE-2026-25537 shape.
            r#""1795655719""#,
            r#""9999999999""#,
            r#""0""#,
            "null",
            "true",
            "false",
            "[1795655719]",
            "[]",
            r#"{"v":1795655719}"#,
            "{}",
        ] {
            let p = payload(&[(claim, value)]);
            assert_eq!(
                verify(&with_payload(&p)),
                Err(InvalidClaim),
                "{claim}: {value}"
            );
        }
    }
    // Other registered claims are typed too.
    for (claim, value) in [
        ("jti", "1"),
        ("jti", "null"),
        ("token_type", "1"),
        ("token_type", r#"["access"]"#),
        ("sub", "1"),
        ("iss", "1"),
        ("aud", "1"),
        ("aud", r#"["a",1]"#),
    ] {
        let p = payload(&[(claim, value)]);
        assert_eq!(
            verify(&with_payload(&p)),
            Err(InvalidClaim),
            "{claim}: {value}"
        );
    }
}

#[test]
fn out_of_range_dates_are_rejected() {
    for claim in ["exp", "nbf", "iat"] {
        for value in [
            "9223372036854775808",
            "18446744073709551616",
            "1e19",
            "-1e300",
            "1.8446744073709552e19",
        ] {
            let p = payload(&[(claim, value)]);
            assert_eq!(
                verify(&with_payload(&p)),
                Err(InvalidClaim),
                "{claim}: {value}"
            );
        }
        // serde_json cannot even represent 1e400: a syntax error, still a rejection.
        let p = payload(&[(claim, "1e400")]);
        assert_eq!(verify(&with_payload(&p)), Err(Malformed), "{claim}");
    }
}

#[test]
fn fractional_dates_are_accepted_and_rounded_the_safe_way() {
    let p = payload(&[
        ("exp", &format!("{T_EXP}.5")),
        ("iat", &format!("{T_IAT}.25")),
    ]);
    assert_eq!(verify(&with_payload(&p)), Ok(()));
    let p = payload(&[
        ("exp", &format!("{}e0", T_EXP)),
        ("nbf", &format!("{}.9", T_IAT - 1)),
    ]);
    assert_eq!(verify(&with_payload(&p)), Ok(()));
    // A fractional nbf is rounded up (RFC 7519 section 4.1.5: never accepted early).
    let p = payload(&[("nbf", &format!("{}.9", T_IAT))]);
    assert_eq!(verify(&with_payload(&p)), Err(NotYetValid));
    // Fractions are floored: exp = now + 0.5 is `now`, hence expired; now + 1.5 is not.
    let p = payload(&[("exp", &format!("{T_IAT}.5"))]);
    assert_eq!(verify(&with_payload(&p)), Err(Expired));
    let p = payload(&[("exp", &format!("{}.5", T_IAT + 1))]);
    assert_eq!(verify(&with_payload(&p)), Ok(()));
    // The verified exp is the floored integer.
    let p = payload(&[("exp", &format!("{T_EXP}.999"))]);
    let token = with_payload(&p);
    let v = ref_verifier()
        .verify::<serde_json::Value>(&token)
        .expect("valid");
    assert_eq!(v.exp, T_EXP);
}

#[test]
fn aud_as_a_string_an_array_or_empty_is_checked() {
    let v = ref_verifier().audience(["api", "other"]);
    let aud = |a: &str| with_payload(&payload(&[("aud", a)]));
    assert_eq!(verify_with(&v, &aud(r#""api""#)), Ok(()));
    assert_eq!(verify_with(&v, &aud(r#""other""#)), Ok(()));
    assert_eq!(verify_with(&v, &aud(r#"["x","api"]"#)), Ok(()));
    for bad in [
        "[]",
        r#""""#,
        r#""apix""#,
        r#""ap""#,
        r#""_api_""#,
        r#""API""#,
        r#"["x","y"]"#,
        r#"[""]"#,
    ] {
        assert_eq!(verify_with(&v, &aud(bad)), Err(InvalidAudience), "{bad}");
    }
    // An audience is required when configured.
    assert_eq!(
        verify_with(&v, &with_payload(&payload(&[]))),
        Err(InvalidAudience)
    );
    // Wrong types are invalid claims.
    assert_eq!(verify_with(&v, &aud("1")), Err(InvalidClaim));
    assert_eq!(verify_with(&v, &aud(r#"{"api":1}"#)), Err(InvalidClaim));
    // No audience configured: any aud (even empty) is rejected (RFC 7519 section 4.1.3).
    for a in [r#""api""#, "[]", r#"["api"]"#] {
        assert_eq!(verify(&aud(a)), Err(InvalidAudience), "{a}");
    }
}

#[test]
fn iss_is_checked_only_when_configured() {
    let v = ref_verifier().issuer(["https://auth.example"]);
    let iss = |i: &str| with_payload(&payload(&[("iss", i)]));
    assert_eq!(verify_with(&v, &iss(r#""https://auth.example""#)), Ok(()));
    for bad in [
        r#""https://auth.example/""#,
        r#""https://auth.exampl""#,
        r#""auth.example""#,
        r#""""#,
    ] {
        assert_eq!(verify_with(&v, &iss(bad)), Err(InvalidIssuer), "{bad}");
    }
    assert_eq!(
        verify_with(&v, &with_payload(&payload(&[]))),
        Err(InvalidIssuer)
    );
    assert_eq!(
        verify_with(&v, &iss(r#"["https://auth.example"]"#)),
        Err(InvalidClaim)
    );
    // No issuer configured: any string iss is ignored (as simplejwt does with default settings).
    assert_eq!(verify(&iss(r#""somewhere""#)), Ok(()));
}

#[test]
fn user_id_that_is_null_an_object_or_missing_is_rejected() {
    for value in [
        "null",
        "{}",
        r#"{"id":1}"#,
        "[]",
        "[1]",
        "true",
        "1.5",
        r#""""#,
        "",
    ] {
        let p = payload(&[("user_id", value)]);
        assert_eq!(verify(&with_payload(&p)), Err(MissingUserId), "{value:?}");
    }
    // Strings and integers are user ids.
    for (value, id) in [
        (r#""1""#, "1"),
        ("1", "1"),
        ("0", "0"),
        ("-7", "-7"),
        (r#""abc""#, "abc"),
    ] {
        let p = payload(&[("user_id", value)]);
        let v = ref_verifier()
            .verify::<SimpleJwtClaims>(&with_payload(&p))
            .expect("valid");
        assert_eq!(v.user_id.expect("user id").as_str(), id);
    }
    // Through the layer: a 401 with simplejwt's body, never a 500.
    for value in ["null", "{}"] {
        let token = with_payload(&payload(&[("user_id", value)]));
        let r = block_on(call(bearer(&token)));
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            r.body,
            r#"{"detail":"Token contained no recognizable user identification","code":"token_not_valid"}"#
        );
        assert_eq!(r.kind(), MissingUserId);
    }
}
