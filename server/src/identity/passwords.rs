//! Passwords: the Argon2id hash kept for each account, the rules a new password must meet, and
//! one-time passwords for new and reset accounts.
//!
//! The cost is OWASP's Argon2id baseline (19 MiB, 2 passes, 1 lane), measured by
//! `server/benches/passwords.rs` at well under the 50 ms a verification may take on this project's
//! 2-core machine (`BENCHMARKS.md`). Hashing and verifying are CPU work: callers run them off the async
//! threads (`spawn_blocking`), at most [`CONCURRENT`] at once, so guesses cannot starve other requests
//! or exhaust memory. Must not store anything or know who a password belongs to.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use tokio::sync::Semaphore;

/// Memory cost, KiB.
pub const M_COST_KIB: u32 = 19 * 1024;
/// Passes over the memory.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;
/// Hashes computed at once, process-wide: each holds [`M_COST_KIB`] of memory for its duration.
pub const CONCURRENT: usize = 2;
/// Characters of a generated one-time password.
pub const ONE_TIME_CHARS: usize = 16;

static HASHING: Semaphore = Semaphore::const_new(CONCURRENT);

/// The rules a password must meet (GB/T 22239-2019 §8.1.4.1 a: complexity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    pub min_chars: usize,
    /// Of the four classes: lower case, upper case, digits, anything else.
    pub min_classes: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            min_chars: 8,
            min_classes: 3,
        }
    }
}

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password needs at least {min} characters")]
    TooShort { min: usize },
    #[error(
        "a password needs characters from at least {min} of: lower case, upper case, digits, others"
    )]
    TooSimple { min: usize },
    #[error("a password may not contain the login name")]
    ContainsName,
    #[error("a password has at most 1024 characters")]
    TooLong,
    #[error("the new password must differ from the current one")]
    Unchanged,
}

impl Rules {
    /// Checks `password` for the account `name`.
    pub fn check(&self, password: &str, name: &str) -> Result<(), PasswordError> {
        let chars = password.chars().count();
        if chars > 1024 {
            return Err(PasswordError::TooLong);
        }
        if chars < self.min_chars {
            return Err(PasswordError::TooShort {
                min: self.min_chars,
            });
        }
        if classes(password) < self.min_classes {
            return Err(PasswordError::TooSimple {
                min: self.min_classes,
            });
        }
        if !name.is_empty() && password.to_lowercase().contains(&name.to_lowercase()) {
            return Err(PasswordError::ContainsName);
        }
        Ok(())
    }
}

/// How many of the four classes `password` draws from.
fn classes(password: &str) -> usize {
    let has = |f: fn(&char) -> bool| password.chars().any(|c| f(&c));
    [
        has(|c| c.is_lowercase()),
        has(|c| c.is_uppercase()),
        has(char::is_ascii_digit),
        has(|c| !c.is_alphanumeric()),
    ]
    .into_iter()
    .filter(|b| *b)
    .count()
}

fn argon2() -> Argon2<'static> {
    // The constants are within Argon2's limits.
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of a new salted hash of `password` (blocking: see the module docs).
#[must_use]
pub fn hash_blocking(password: &str) -> String {
    // Hashing into a fresh salt cannot fail for these parameters and a password under the length cap.
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `password` matches the PHC string `phc` (blocking). The cost is read from `phc`, so a hash
/// made under an older cost still verifies.
#[must_use]
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    argon2().verify_password(password.as_bytes(), phc).is_ok()
}

/// A hash no password matches, verified for a name no account has, so the answer takes as long as for
/// a real account and does not tell which names exist.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_blocking(&one_time()))
}

/// [`hash_blocking`] off the async threads, at most [`CONCURRENT`] at once.
pub async fn hash(password: String) -> String {
    let _permit = HASHING.acquire().await;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .unwrap_or_default()
}

/// [`verify_blocking`] off the async threads, at most [`CONCURRENT`] at once; `None` verifies against
/// the decoy (and is always `false`).
pub async fn verify(password: String, phc: Option<String>) -> bool {
    let _permit = HASHING.acquire().await;
    tokio::task::spawn_blocking(move || {
        if let Some(phc) = phc {
            verify_blocking(&password, &phc)
        } else {
            let _ = verify_blocking(&password, decoy());
            false
        }
    })
    .await
    .unwrap_or(false)
}

/// A random one-time password of [`ONE_TIME_CHARS`] characters with all four classes (no look-alike
/// characters), for a new or reset account.
#[must_use]
pub fn one_time() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    const OTHER: &[u8] = b"-_.!@#%+=";
    let mut rng = rand::rng();
    let sets = [LOWER, UPPER, DIGIT, OTHER];
    let mut chars: Vec<u8> = sets
        .iter()
        .map(|set| set[rng.random_range(0..set.len())])
        .collect();
    let all: Vec<u8> = sets.concat();
    while chars.len() < ONE_TIME_CHARS {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    // Fisher–Yates, so the first four characters are not always one of each class in order.
    for i in (1..chars.len()).rev() {
        chars.swap(i, rng.random_range(0..=i));
    }
    chars.into_iter().map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_length_and_classes() {
        let rules = Rules::default();
        assert_eq!(
            rules.check("Ab1!", "x"),
            Err(PasswordError::TooShort { min: 8 })
        );
        assert_eq!(
            rules.check("abcdefgh1", "x"),
            Err(PasswordError::TooSimple { min: 3 })
        );
        assert_eq!(rules.check("abcdefG1", "x"), Ok(()));
        assert_eq!(rules.check("abcdefg!1", "x"), Ok(()));
        assert_eq!(
            rules.check("网格管理Ab1x", "someone"),
            Ok(()),
            "characters, not bytes"
        );
        assert_eq!(
            rules.check("Li.Lei-2026", "li.lei"),
            Err(PasswordError::ContainsName)
        );
        for _ in 0..20 {
            let p = one_time();
            assert_eq!(p.chars().count(), ONE_TIME_CHARS);
            assert_eq!(classes(&p), 4, "{p}");
            assert_eq!(rules.check(&p, "someone"), Ok(()));
        }
    }

    #[test]
    fn a_hash_verifies_its_password_only_and_is_argon2id() {
        let phc = hash_blocking("Correct-Horse-9");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("Correct-Horse-9", &phc));
        assert!(!verify_blocking("correct-horse-9", &phc));
        assert!(!verify_blocking("Correct-Horse-9", "not a phc string"));
        assert_ne!(phc, hash_blocking("Correct-Horse-9"), "salted");
    }
}
