//! Real tokens recorded from a Django + simplejwt 5.5.1 server (/work/shared/simplejwt/transcript.json,
//! part 1). They were signed with [`super::SECRET`] at [`super::T_IAT`] (the access token's `iat`).

/// T#50: the valid access token of T#01 (sent as `JWT <token>` in T#50, `bearer` in T#51, two spaces in T#53).
pub const ACCESS: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.3sQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
/// T#55: expired access token.
pub const EXPIRED: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1MzYxLCJpYXQiOjE3OTU2NTUwNjEsImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.mpkcEKslMQgorUZuuLBsXiT4c5VFoKKq7gw941-jh2I";
/// T#56: tampered signature.
pub const TAMPERED_SIGNATURE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.AsQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
/// T#57: tampered payload (user_id changed, original signature).
pub const TAMPERED_PAYLOAD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjIifQ.3sQxRGYrBFJCl5b7XqGnihDsGISBuAktdoU9w-Boqu4";
/// T#58: signed with a different secret.
pub const OTHER_SECRET: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.8GqMyON3fpNCoe-fcyB7l9rvCjJkN29lVDrl66RNn-U";
/// T#59: alg=none token.
pub const ALG_NONE: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.";
/// T#60: HS512 token signed with the right key (algorithm not allowed).
pub const HS512_RIGHT_KEY: &str = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.lxuDOO7c0C9QEtLt6FFVXM25O1qi3XRE_MWtll1_iddet0BVFWPHyzuOarImNRs7W5g5fhOtMZA5y30sDUJlmg";
/// T#61: refresh token used as Bearer.
pub const REFRESH: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc5NTc0MTgxOSwiaWF0IjoxNzk1NjU1NDE5LCJqdGkiOiIyODMxY2UyNGEyOTU0NTQ3YjNhMzA3MDE2YTVkNDMwZSIsInVzZXJfaWQiOiIxIn0.VhfMyWU-4AmJInkYUhzM2YOMcynSLnNg13hMww147s8";
/// T#62: token without jti (valid signature).
pub const NO_JTI: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksInVzZXJfaWQiOiIxIn0.M7S987KaHG3GkXuB4egcCqQzweeAvXg1ucJwEZA88zo";
/// T#63: token without token_type (valid signature).
pub const NO_TOKEN_TYPE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTU2NTU3MTksImlhdCI6MTc5NTY1NTQxOSwianRpIjoiZmFjNTM0NGQwMWQzNGRiM2I1NTc1ZDY1ZjVlZThjMGYiLCJ1c2VyX2lkIjoiMSJ9.dE78IBnsPZJv7WE4G2qVhEdBFbp3atuwchL83vFgWcE";
/// T#64: token without exp (valid signature).
pub const NO_EXP: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiaWF0IjoxNzk1NjU1NDE5LCJqdGkiOiJmYWM1MzQ0ZDAxZDM0ZGIzYjU1NzVkNjVmNWVlOGMwZiIsInVzZXJfaWQiOiIxIn0.RguPehE6Y2jJCIbFgN9ZignxU18J0RmMgAcTaadB1CE";
/// T#65: token without user_id (valid signature).
pub const NO_USER_ID: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIn0.qr4uSiBzjsZyh2rWI5O93ES8NNAO9O1-8CDd86glrjI";
/// T#66: token for a non-existent user id.
pub const UNKNOWN_USER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6Ijk5OTk5OSJ9.QTqrcnA_4EBglnA2VKK5zP4Wn4uWp-ynRhA9qyx5GmQ";
/// T#67: token for an inactive user.
pub const INACTIVE_USER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjIifQ.yIDXwokPctte1YyJfVAxpSCGA8Who4Jufq4JyqT0ffk";
/// T#68: legacy token with an integer user_id claim (pre-5.5.1 style).
pub const INTEGER_USER_ID: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6MX0.VoLCibpIEbjMC6LqXucLcG7l0rHWqSpCwcI7XprQcO8";
/// T#69: user_id claim that is not a number ('abc').
pub const USER_ID_ABC: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6ImFiYyJ9.WcjIkRIXcT586Jctk-Y4gLzFWuD5VtvAYiV4_XxRNZE";
/// T#70: nbf in the future.
pub const NBF_FUTURE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEiLCJuYmYiOjE3OTU2NTkwMjF9.IdeUbwlwPMuLuJRPCJXDIV459bRlDHLO73c2Qw7DUuE";
/// T#71: iat in the future.
pub const IAT_FUTURE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTkwMjEsImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEifQ.r6QWemRLOLdZmwCxvRoQhPA7CfpkC6vgrfrvwQmTgJA";
/// T#72: extra unknown claims and aud/iss are ignored with default settings.
pub const AUD_ISS_EXTRA: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1NjU1NzE5LCJpYXQiOjE3OTU2NTU0MTksImp0aSI6ImZhYzUzNDRkMDFkMzRkYjNiNTU3NWQ2NWY1ZWU4YzBmIiwidXNlcl9pZCI6IjEiLCJhdWQiOiJzb21lb25lIiwiaXNzIjoic29tZXdoZXJlIiwiZm9vIjoiYmFyIn0.m1t5nFTqfAFASljf_G5mmPlw-Oy2TF6ApwhEX2adFwo";
