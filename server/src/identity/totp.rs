//! Time-based one-time passwords (TOTP, RFC 6238) over HOTP (RFC 4226) with HMAC-SHA1, 30-second steps
//! and 6 digits — what every authenticator app speaks — and the base32 (RFC 4648) form their secrets
//! are shared in. Checked against the RFCs' own test vectors below.
//!
//! Owns codes and secrets; must not know who holds them or store anything (`identity::login` keeps the
//! last accepted step so a code is never accepted twice).

use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha1::Sha1;

/// Seconds per time step (RFC 6238's default X).
pub const STEP_S: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps either side of now a code may come from: clocks drift, and typing takes time.
pub const SKEW_STEPS: i64 = 1;
/// Bytes of a new secret: 160 bits, HMAC-SHA1's output length (RFC 4226 §4 R6 asks for at least 128).
const SECRET_BYTES: usize = 20;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new random secret, base32 without padding.
#[must_use]
pub fn new_secret() -> String {
    let mut bytes = [0_u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    base32_encode(&bytes)
}

/// RFC 4648 base32, upper case, without `=` padding (as `otpauth://` URIs carry secrets).
#[must_use]
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (either case, spaces and padding ignored); `None` for any other character.
#[must_use]
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0_u32, 0_u32);
    for c in text.chars().filter(|c| !c.is_whitespace() && *c != '=') {
        let c = c.to_ascii_uppercase();
        let value = ALPHABET.iter().position(|&a| char::from(a) == c)?;
        buffer = (buffer << 5) | u32::try_from(value).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// HOTP (RFC 4226 §5.3): the `digits`-digit code of `key` at `counter`.
#[must_use]
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    binary % 10_u32.pow(digits)
}

/// The time step of `unix_s` (RFC 6238 §4.2, T0 = 0).
#[must_use]
pub fn step_at(unix_s: i64) -> i64 {
    unix_s.div_euclid(STEP_S)
}

/// Checks a typed `code` against the base32 `secret` at `unix_s`: the step it matches (within
/// [`SKEW_STEPS`]), if that step is later than `last_step` — a code is accepted once.
#[must_use]
pub fn verify(secret: &str, code: &str, unix_s: i64, last_step: Option<i64>) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = code.parse().ok()?;
    let key = base32_decode(secret)?;
    let now = step_at(unix_s);
    (now - SKEW_STEPS..=now + SKEW_STEPS)
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| u64::try_from(*step).is_ok_and(|counter| hotp(&key, counter, DIGITS) == typed))
}

/// The code of `secret` at `unix_s`, zero-padded (for tests and the demo's printout).
#[must_use]
pub fn code_at(secret: &str, unix_s: i64) -> Option<String> {
    let key = base32_decode(secret)?;
    let counter = u64::try_from(step_at(unix_s)).ok()?;
    Some(format!(
        "{:0width$}",
        hotp(&key, counter, DIGITS),
        width = DIGITS as usize
    ))
}

/// The `otpauth://` URI an authenticator app reads (as a QR code or typed in).
#[must_use]
pub fn uri(secret: &str, account: &str) -> String {
    let label: String = form_urlencoded::byte_serialize(format!("gridwatch:{account}").as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer=gridwatch&algorithm=SHA1&digits=6&period=30"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hotp_matches_rfc_4226_appendix_d() {
        let key = b"12345678901234567890";
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(key, counter as u64, 6), code, "counter {counter}");
        }
    }

    #[test]
    fn totp_matches_rfc_6238_appendix_b_sha1() {
        let key = b"12345678901234567890";
        for (time, code) in [
            (59_i64, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let counter = u64::try_from(step_at(time)).expect("positive");
            assert_eq!(hotp(key, counter, 8), code, "T = {time}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648_section_10() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(
                base32_decode(&format!("{encoded}==")).as_deref(),
                Some(plain.as_bytes())
            );
        }
        assert_eq!(base32_decode("mzxw6ytboi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("MZ1"), None, "1 is not base32");
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(base32_decode(&secret).map(|b| b.len()), Some(20));
    }

    #[test]
    fn a_code_is_accepted_within_one_step_and_only_once() {
        let secret = base32_encode(b"12345678901234567890");
        let t = 1_111_111_111;
        let code = code_at(&secret, t).expect("a code");
        assert_eq!(
            code, "050471",
            "the RFC's 8-digit 14050471, last six digits"
        );
        let step = step_at(t);
        assert_eq!(verify(&secret, &code, t, None), Some(step));
        assert_eq!(verify(&secret, &code, t + STEP_S, None), Some(step));
        assert_eq!(verify(&secret, &code, t + 2 * STEP_S, None), None);
        assert_eq!(verify(&secret, &code, t, Some(step)), None, "replayed");
        assert_eq!(verify(&secret, "12345", t, None), None);
        assert_eq!(verify(&secret, "abcdef", t, None), None);
        assert!(uri(&secret, "li lei").starts_with("otpauth://totp/gridwatch%3Ali%20lei?secret="));
    }
}
