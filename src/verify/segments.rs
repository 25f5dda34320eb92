//! The compact serialization's segments: cutting a token at its dots, and strict base64url
//! decoding (RFC 7515 §2) into a small stack buffer, the heap only for large tokens.

/// A small-buffer-optimised scratch space for base64 decoding: the stack for the common case,
/// the heap only for large tokens.
pub(crate) struct Scratch<const N: usize> {
    stack: [u8; N],
    heap: Vec<u8>,
}

impl<const N: usize> Scratch<N> {
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            stack: [0; N],
            heap: Vec::new(),
        }
    }

    /// Decodes base64url (no padding, canonical trailing bits) into the scratch space.
    #[inline]
    pub(crate) fn decode(&mut self, b64: &[u8]) -> Result<&[u8], ()> {
        let max = b64.len().div_ceil(4) * 3;
        if max <= N {
            let n = b64url_decode(b64, &mut self.stack)?;
            Ok(&self.stack[..n])
        } else {
            self.heap = vec![0; max];
            let n = b64url_decode(b64, &mut self.heap)?;
            self.heap.truncate(n);
            Ok(&self.heap)
        }
    }
}

/// Strict base64url without padding (RFC 7515 §2), as `base64`'s `URL_SAFE_NO_PAD` decodes:
/// the URL-safe alphabet only (no `=`), a length that is not 1 mod 4, and zero trailing bits.
/// Vectorised (`base64-simd`: AVX2/SSE4.1/NEON, chosen at run time): about 3× a table decoder
/// on a JWT's payload, which showed up in profiles at ~8 % of a verification. Returns the number
/// of bytes written to `out`; `Err` for invalid input or an `out` too small.
#[inline]
pub(crate) fn b64url_decode(input: &[u8], out: &mut [u8]) -> Result<usize, ()> {
    let tail = match input.len() % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return Err(()),
    };
    let n = input.len() / 4 * 3 + tail;
    let out = out.get_mut(..n).ok_or(())?;
    base64_simd::URL_SAFE_NO_PAD
        .decode(input, base64_simd::Out::from_slice(out))
        .map(|decoded| decoded.len())
        .map_err(|_| ())
}

/// A compact JWS cut at its two dots (no allocation).
pub(crate) struct Segments<'a> {
    /// The base64url header.
    pub(crate) header: &'a [u8],
    /// The base64url payload.
    pub(crate) payload: &'a [u8],
    /// The base64url signature.
    pub(crate) signature: &'a [u8],
    /// `header.payload`: the bytes the signature is over.
    pub(crate) signing_input: &'a [u8],
}

/// Cuts `token` at its dots: `None` unless there are exactly three segments and the header and
/// payload are not empty.
#[inline]
pub(crate) fn split(token: &[u8]) -> Option<Segments<'_>> {
    let mut dots = memchr::memchr_iter(b'.', token);
    let (d1, d2) = match (dots.next(), dots.next(), dots.next()) {
        (Some(a), Some(b), None) => (a, b),
        _ => return None,
    };
    let seg = Segments {
        header: &token[..d1],
        payload: &token[d1 + 1..d2],
        signature: &token[d2 + 1..],
        signing_input: &token[..d2],
    };
    (!seg.header.is_empty() && !seg.payload.is_empty()).then_some(seg)
}

#[cfg(test)]
mod b64_tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    const B64URL_ALPHABET: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    fn ours(s: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0; s.len() / 4 * 3 + 2];
        b64url_decode(s, &mut out).ok().map(|n| out[..n].to_vec())
    }

    #[test]
    fn known_answers() {
        assert_eq!(ours(b"").as_deref(), Some(&b""[..]));
        assert_eq!(ours(b"Zg").as_deref(), Some(&b"f"[..]));
        assert_eq!(ours(b"Zm8").as_deref(), Some(&b"fo"[..]));
        assert_eq!(ours(b"Zm9v").as_deref(), Some(&b"foo"[..]));
        assert_eq!(ours(b"-_-_").as_deref(), Some(&[0xfb, 0xff, 0xbf][..]));
        for bad in [
            &b"Z"[..],
            b"Zh",
            b"Zm9",
            b"Zg==",
            b"Zm9v=",
            b"Zm+v",
            b"Zm/v",
            b"Zm9v\n",
            b"Z g",
        ] {
            assert_eq!(ours(bad), None, "{bad:?}");
        }
        // An output buffer too small is an error, never a panic.
        let mut small = [0_u8; 2];
        assert_eq!(b64url_decode(b"Zm9v", &mut small), Err(()));
    }

    proptest! {
        #[test]
        fn same_as_the_base64_crate(s in proptest::collection::vec(
            prop_oneof![
                8 => proptest::sample::select(B64URL_ALPHABET.to_vec()),
                1 => any::<u8>(),
            ],
            0..40,
        )) {
            prop_assert_eq!(ours(&s), URL_SAFE_NO_PAD.decode(&s).ok());
        }

        /// Long inputs, mostly valid: the vectorised loops, not only the scalar tail.
        #[test]
        fn same_as_the_base64_crate_long(s in proptest::collection::vec(
            prop_oneof![
                400 => proptest::sample::select(B64URL_ALPHABET.to_vec()),
                1 => any::<u8>(),
            ],
            0..1200,
        )) {
            prop_assert_eq!(ours(&s), URL_SAFE_NO_PAD.decode(&s).ok());
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..900)) {
            let s = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(ours(s.as_bytes()), Some(bytes));
        }
    }
}
