//! The simplejwt reference transcript (tests/fixtures/simplejwt_transcript.json, recorded from a
//! real Django 5.2 and djangorestframework-simplejwt 5.5.1 server): its exchanges, and the tokens
//! its "protected" exchanges sent, signed with [`super::SECRET`] at [`super::T_IAT`]. Each token's
//! comment quotes the title of the part-1 exchange that sent it; [`recorded`] finds it there.

use http::Request;
use serde_json::Value;

/// The two parts of the transcript.
pub const DEFAULT_SETTINGS: &str = "part1_default_settings";
/// Part 2: `ROTATE_REFRESH_TOKENS` and `BLACKLIST_AFTER_ROTATION` on.
pub const ROTATING: &str = "part2_rotate_and_blacklist_after_rotation";

/// The whole transcript.
pub fn transcript() -> Value {
    serde_json::from_str(include_str!("../fixtures/simplejwt_transcript.json"))
        .expect("the transcript parses")
}

/// The exchanges of one part, in order.
pub fn exchanges(part: &str) -> Vec<Value> {
    transcript()[part]
        .as_array()
        .unwrap_or_else(|| panic!("no part {part:?}"))
        .clone()
}

/// Exchange `n` of `part`.
pub fn exchange(part: &str, n: u64) -> Value {
    exchanges(part)
        .into_iter()
        .find(|e| e["n"] == n)
        .unwrap_or_else(|| panic!("no exchange {n} in {part}"))
}

/// The recorded request of an exchange, as sent.
pub fn request(ex: &Value) -> Request<String> {
    let r = &ex["request"];
    let mut b = Request::builder()
        .method(r["method"].as_str().expect("method"))
        .uri(r["path"].as_str().expect("path"));
    for (k, v) in r["headers"].as_object().expect("headers") {
        b = b.header(k.as_str(), v.as_str().expect("header value"));
    }
    b.body(r["body"].as_str().unwrap_or_default().to_owned())
        .expect("request")
}

/// The `Authorization` value the part-1 exchange titled `title` sent.
pub fn recorded(title: &str) -> String {
    let ex = exchanges(DEFAULT_SETTINGS)
        .into_iter()
        .find(|e| e["title"] == title)
        .unwrap_or_else(|| panic!("no exchange titled {title:?}"));
    ex["request"]["headers"]["Authorization"]
        .as_str()
        .expect("an Authorization header")
        .to_owned()
}

/// The access token of the first login ("obtain: OK (JSON body)"), as sent in "protected:
/// wrong scheme 'JWT <valid access>'", "protected: lower-case 'bearer <valid access>'" and
/// "protected: 'Bearer  <valid access>' (two spaces)".
pub const ACCESS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.3sQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
/// "protected: expired access token".
pub const EXPIRED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1MzYxLCJpYXQiOjE3OTU2NTUwNjEsImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.mpkcEKslMQgorUZuuLBsXiT4c5VFoKKq7gw941-jh2I";
/// "protected: tampered signature".
pub const TAMPERED_SIGNATURE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.AsQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
/// "protected: tampered payload (user_id changed, original signature)".
pub const TAMPERED_PAYLOAD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjIifQ.3sQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
/// "protected: signed with a different secret".
pub const OTHER_SECRET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.8GqMyON3fpNCoe-fcyB7l9rvCjJkN29lVDrl66RNn-U";
/// "protected: alg=none token".
pub const ALG_NONE: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.";
/// "protected: HS512 token signed with the right key (algorithm not allowed)".
pub const HS512_RIGHT_KEY: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.lxuDOO7c0C9QEtLt6FFVXM25O1qi3XRE_MWtll1_iddet0BVFWPHyzuOarImNRs7W5g5fhOtMZA5y30sDUJlmg";
/// "protected: refresh token used as Bearer".
pub const REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTc0MTgxOSwiaWF0IjoxNzk1NjU1NDE5LCJqdGkiOiIyODMxY2UyNGEyOTU0NTQ3YjNhMzA3MDE2YTVkNDMwZSIsInVzZXJfaWQiOiIxIn0.VhfMyWU-4AmJInkYUhzM2YOMcynSLnNg13hMww147s8";
/// "protected: token without jti (valid signature)".
pub const NO_JTI: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksInVzZXJfaWQiOiIxIn0.M7S987KaHG3GkXuB4egcCqQzweeAvXg1ucJwEZA88zo";
/// "protected: token without token_type (valid signature)".
pub const NO_TOKEN_TYPE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTU2NTU3MTksImlhdCI6MTc5NTY1NTQxOSwianRpIjoiZmFjNTM0NGQwMWQzNGRiM2I1NTc1ZDY1ZjVlZThjMGYiLCJ1c2VyX2lkIjoiMSJ9.dE78IBnsPZJv7WE4G2qVhEdBFbp3atuwchL83vFgWcE";
/// "protected: token without exp (valid signature)".
pub const NO_EXP: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiaWF0IjoxNzk1NjU1NDE5LCJqdGkiOiJmYWM1MzQ0ZDAxZDM0ZGIzYjU1NzVkNjVmNWVlOGMwZiIsInVzZXJfaWQiOiIxIn0.RguPehE6Y2jJCIbFgN9ZignxU18J0RmMgAcTaadB1CE";
/// "protected: token without user_id (valid signature)".
pub const NO_USER_ID: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIn0.qr4uSiBzjsZyh2rWI5O93ES8NNAO9O1-8CDd86glrjI";
/// "protected: token for a non-existent user id".
pub const UNKNOWN_USER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6Ijk5OTk5OSJ9.QTqrcnA_4EBglnA2VKK5zP4Wn4uWp-ynRhA9qyx5GmQ";
/// "protected: token for an inactive user".
pub const INACTIVE_USER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjIifQ.yIDXwokPctte1YyJfVAxpSCGA8Who4Jufq4JyqT0ffk";
/// "protected: legacy token with an integer user_id claim (pre-5.5.1 style)".
pub const INTEGER_USER_ID: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6MX0.VoLCibpIEbjMC6LqXucLcG7l0rHWqSpCwcI7XprQcO8";
/// "protected: user_id claim that is not a number ('abc')".
pub const USER_ID_ABC: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6ImFiYyJ9.WcjIkRIXcT586Jctk-Y4gLzFWuD5VtvAYiV4_XxRNZE";
/// "protected: nbf in the future".
pub const NBF_FUTURE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEiLCJuYmYiOjE3OTU2NTkwMjF9.IdeUbwlwPMuLuJRPCJXDIV459bRlDHLO73c2Qw7DUuE";
/// "protected: iat in the future".
pub const IAT_FUTURE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTkwMjEsImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.r6QWemRLOLdZmwCxvRoQhPA7CfpkC6vgrfrvwQmTgJA";
/// "protected: extra unknown claims and aud/iss are ignored with default settings".
pub const AUD_ISS_EXTRA: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEiLCJhdWQiOiJzb21lb25lIiwiaXNzIjoic29tZXdoZXJlIiwiZm9vIjoiYmFyIn0.m1t5nFTqfAFASljf_G5mmPlw-Oy2TF6ApwhEX2adFwo";
