//! Structure-aware token verification: the fuzzed header and payload are signed with the
//! verifier's HS256 secret, so every input gets past the signature. The verifier's verdict, error
//! kind, claims and registered claims must be those of an independent model (fuzz/src/lib.rs:
//! serde_json, the documented claim rules and policy), and a `TokenCache` must answer as the
//! verifier does.
//!
//! Input: byte 0 picks the header (or, with its high bit set, the rest is `header \0 payload`),
//! byte 1 the verifier; the rest is the payload.
#![no_main]

use std::sync::LazyLock;

use fuzz_support::{NOW, PolicyModel, SECRET, reference_registered, sign_hs256};
use libfuzzer_sys::fuzz_target;
use tower_jwt_auth::__fuzz::Names;
use tower_jwt_auth::{AuthErrorKind, Clock, Keys, TokenCache, TokenType, Verifier};

const HEADERS: [&[u8]; 4] = [
    br#"{"alg":"HS256","typ":"JWT"}"#,
    br#"{"typ":"JWT","alg":"HS256"}"#,
    br#"{"alg":"HS256"}"#,
    b" {\"alg\" : \"HS256\" , \"kid\":null}",
];

struct Case {
    verifier: Verifier,
    names: Names,
    model: PolicyModel,
    cache: TokenCache<serde_json::Value>,
}

static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
    let keys = Keys::hs256(SECRET).expect("secret");
    let clock = Clock::fixed(NOW);
    let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let simple = Verifier::simplejwt(keys.clone()).clock(clock.clone());
    let custom = Verifier::simplejwt(keys.clone())
        .clock(clock.clone())
        .user_id_claim("uid")
        .token_type_claim("typ")
        .jti_claim("id")
        .audience(["api", "web"])
        .issuer(["me"])
        .token_types([TokenType::ACCESS, TokenType::SLIDING])
        .leeway(5)
        .expect("leeway");
    let jwt = Verifier::jwt(keys).clock(clock);
    let simple_model = PolicyModel {
        require_jti: true,
        types: Some(s(&["access"])),
        require_user_id: true,
        ..PolicyModel::default()
    };
    let case = |verifier: Verifier, names: Names, model: PolicyModel| Case {
        cache: TokenCache::new(verifier.clone(), 64),
        verifier,
        names,
        model,
    };
    vec![
        case(simple, Names::default(), simple_model.clone()),
        case(
            custom,
            Names {
                user_id: "uid".into(),
                token_type: "typ".into(),
                jti: "id".into(),
            },
            PolicyModel {
                leeway: 5,
                audience: Some(s(&["api", "web"])),
                issuer: Some(s(&["me"])),
                types: Some(s(&["access", "sliding"])),
                ..simple_model
            },
        ),
        case(
            jwt,
            Names {
                user_id: "sub".into(),
                ..Names::default()
            },
            PolicyModel::default(),
        ),
    ]
});

fuzz_target!(|data: &[u8]| {
    let [h, v, rest @ ..] = data else {
        return;
    };
    let (header, payload, known_header) = if h & 0x80 == 0 {
        (HEADERS[usize::from(*h) % HEADERS.len()], rest, true)
    } else {
        match rest.iter().position(|b| *b == 0) {
            Some(i) => (&rest[..i], &rest[i + 1..], false),
            None => return,
        }
    };
    let case = &CASES[usize::from(*v) % CASES.len()];
    let token = sign_hs256(SECRET.as_bytes(), header, payload);
    let got = case.verifier.verify::<serde_json::Value>(&token);

    // The cache answers as the verifier does, on a miss and on a hit.
    for _ in 0..2 {
        let cached = case.cache.verify(token.as_bytes());
        match (&got, &cached) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.claims, *b.claims);
                assert_eq!((a.exp, a.iat, &a.jti), (b.exp, b.iat, &b.jti));
            }
            (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
            _ => panic!(
                "cache {:?} vs verifier {:?}",
                cached.map(|_| ()),
                got.map(|_| ())
            ),
        }
    }

    let reference = reference_registered(payload, &case.names);
    let expected: Option<Result<serde_json::Value, AuthErrorKind>> = match &reference {
        Err(None) => None,
        Err(Some(k)) => Some(Err(*k)),
        Ok(r) => Some(match case.model.check(r, NOW) {
            Err(k) => Err(k),
            // Only serde_json's limits (nesting depth, …) can refuse the payload now.
            Ok(()) => serde_json::from_slice(payload).map_err(|_| AuthErrorKind::InvalidClaim),
        }),
    };
    match (&got, expected) {
        (Ok(ok), _) => {
            // Soundness, whatever the header: accepted only what the model accepts.
            let r = reference
                .as_ref()
                .expect("accepted a payload the reference refuses");
            case.model
                .check(r, NOW)
                .expect("accepted what the policy refuses");
            let claims: serde_json::Value =
                serde_json::from_slice(payload).expect("accepted claims serde_json refuses");
            assert_eq!(ok.claims, claims);
            assert_eq!(Some(ok.exp), r.exp);
            assert_eq!(ok.iat, r.iat);
            assert_eq!(ok.refresh_exp, r.refresh_exp);
            assert_eq!(ok.jti, r.jti);
            assert_eq!(ok.token_type, r.token_type);
            assert_eq!(
                ok.user_id.as_ref().map(|u| u.as_str().to_owned()),
                r.user_id
            );
        }
        (Err(e), Some(want)) if known_header => {
            assert_eq!(
                Err(e.kind()),
                want.map(|_| ()),
                "verdict differs from the model"
            );
        }
        (Err(_), _) => {}
    }
});
