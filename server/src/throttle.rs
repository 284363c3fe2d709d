//! Rate budgets: the [`Rate`] a limit is written as (`30/min`, `off`), a budget per client address
//! ([`PerAddress`], for HTTP endpoints) and one per websocket ([`PerSocket`], for its control
//! messages). Both are GCRA limiters from the `governor` crate: a client may spend its whole budget
//! at once (the burst is the rate's count), then one request each `period / count`.
//!
//! A refusal is [`Refused`], saying when the next request would be taken; `error.rs` (and Open311's
//! renderer) turn it into a 429 with `Retry-After`. Must not know HTTP or routes: the API decides which
//! endpoint spends which budget (`api::limits`), the websocket task when a message spends its own.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How many requests a client may make per period; `off` for no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Off,
    Every { count: NonZeroU32, per: Per },
}

/// The period of a [`Rate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    Second,
    Minute,
    Hour,
}

impl Per {
    fn seconds(self) -> u64 {
        match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3600,
        }
    }
}

impl Rate {
    /// `count` per `per`, or `Off` for a zero count.
    #[must_use]
    pub fn every(count: u32, per: Per) -> Self {
        NonZeroU32::new(count).map_or(Self::Off, |count| Self::Every { count, per })
    }

    /// The governor quota: a burst of `count`, refilled evenly over the period.
    fn quota(self) -> Option<Quota> {
        match self {
            Self::Off => None,
            Self::Every { count, per } => {
                let period = Duration::from_secs(per.seconds()) / count.get();
                Quota::with_period(period).map(|q| q.allow_burst(count))
            }
        }
    }
}

/// A rate that cannot be read: the text and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rate {text:?}: {reason} (write it as <count>/s, <count>/min, <count>/h, or off)")]
pub struct RateError {
    pub text: String,
    pub reason: &'static str,
}

impl FromStr for Rate {
    type Err = RateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let refuse = |reason| RateError {
            text: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        let (count, per) = trimmed
            .split_once('/')
            .ok_or_else(|| refuse("no '/' between the count and the period"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| refuse("the count is not a whole number"))?;
        let count = NonZeroU32::new(count).ok_or_else(|| refuse("a count of 0 (use off)"))?;
        let per = match per.trim() {
            "s" | "sec" | "second" => Per::Second,
            "min" | "minute" => Per::Minute,
            "h" | "hour" => Per::Hour,
            _ => return Err(refuse("the period is not s, min or h")),
        };
        // The refill interval must not round to zero: at most one request a nanosecond.
        if Duration::from_secs(per.seconds()) / count.get() == Duration::ZERO {
            return Err(refuse("too many per period"));
        }
        Ok(Self::Every { count, per })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::Every { count, per } => {
                let per = match per {
                    Per::Second => "s",
                    Per::Minute => "min",
                    Per::Hour => "h",
                };
                write!(f, "{count}/{per}")
            }
        }
    }
}

/// A request over its budget: the next one is taken after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many requests; try again in {} s",
            self.retry_after_s()
        )
    }
}

impl std::error::Error for Refused {}

impl Refused {
    /// Whole seconds to wait, at least 1: what `Retry-After` says.
    #[must_use]
    pub fn retry_after_s(&self) -> u64 {
        retry_after_s(self.retry_after)
    }
}

fn retry_after_s(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0 || wait.is_zero())
}

/// How often [`PerAddress`] forgets addresses whose budget is full again, in checks.
const FORGET_EVERY: u32 = 4096;

/// A budget per client address. An IPv6 client is counted by its /64, the block one host is usually
/// given, so it cannot mint itself a fresh budget per address. Addresses whose budget has refilled are
/// forgotten every [`FORGET_EVERY`] checks, so the table holds only the recently active.
pub struct PerAddress {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU32,
}

impl PerAddress {
    #[must_use]
    pub fn new(rate: Rate) -> Self {
        Self {
            limiter: rate.quota().map(RateLimiter::keyed),
            checks: AtomicU32::new(0),
        }
    }

    /// Spends one request of `peer`'s budget. `None` (no address known, as in a test that calls the
    /// router directly) shares one budget.
    pub fn check(&self, peer: Option<SocketAddr>) -> Result<(), Refused> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let key = peer.map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |p| {
            client_key(p.ip())
        });
        limiter.check_key(&key).map_err(|not_until| Refused {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }

    /// Addresses with a budget in use (for tests).
    #[must_use]
    pub fn len(&self) -> usize {
        self.limiter.as_ref().map_or(0, RateLimiter::len)
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The key a client is counted under: IPv4 as is (and IPv4-mapped IPv6 as IPv4), IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(segments))
        }
    }
}

/// One websocket's budget of control messages.
pub struct PerSocket(Option<DefaultDirectRateLimiter>);

impl PerSocket {
    #[must_use]
    pub fn new(rate: Rate) -> Self {
        Self(rate.quota().map(RateLimiter::direct))
    }

    /// Spends one message of the budget.
    pub fn check(&self) -> Result<(), Refused> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| Refused {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_and_print_back() {
        for (text, rate) in [
            ("30/min", Rate::every(30, Per::Minute)),
            ("5/s", Rate::every(5, Per::Second)),
            ("100/h", Rate::every(100, Per::Hour)),
            ("off", Rate::Off),
        ] {
            assert_eq!(text.parse::<Rate>(), Ok(rate));
            assert_eq!(rate.to_string(), text);
        }
        assert_eq!(" 7 / minute ".parse(), Ok(Rate::every(7, Per::Minute)));
        assert_eq!("OFF".parse(), Ok(Rate::Off));
        for bad in ["", "30", "0/min", "-1/s", "x/s", "3/day", "2000000000/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad:?} was read");
        }
        assert_eq!(Rate::every(0, Per::Second), Rate::Off);
    }

    #[test]
    fn a_burst_is_the_count_then_one_per_interval() {
        let quota = Rate::every(30, Per::Minute).quota().unwrap();
        assert_eq!(quota.burst_size().get(), 30);
        assert_eq!(quota.replenish_interval(), Duration::from_secs(2));
        assert!(Rate::Off.quota().is_none());
    }

    #[test]
    fn an_address_over_its_budget_is_refused_with_the_wait_and_others_are_not() {
        let limits = PerAddress::new(Rate::every(3, Per::Minute));
        let a: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:5000".parse().unwrap();
        for _ in 0..3 {
            limits.check(Some(a)).unwrap();
        }
        let refused = limits.check(Some(a)).unwrap_err();
        // One request every 20 s: the next is taken within 20 s, and Retry-After rounds up.
        assert!(refused.retry_after <= Duration::from_secs(20));
        assert!((19..=20).contains(&refused.retry_after_s()));
        // Another port of the same address shares the budget; another address has its own.
        assert!(
            limits
                .check(Some("192.0.2.1:6000".parse().unwrap()))
                .is_err()
        );
        limits.check(Some(b)).unwrap();
        assert_eq!(limits.len(), 2);
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let key = |s: &str| client_key(s.parse().unwrap());
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7"), key("192.0.2.7"));
    }

    #[test]
    fn off_never_refuses_and_keeps_nothing() {
        let limits = PerAddress::new(Rate::Off);
        for _ in 0..10_000 {
            limits.check(None).unwrap();
        }
        assert!(limits.is_empty());
        let socket = PerSocket::new(Rate::Off);
        for _ in 0..10_000 {
            socket.check().unwrap();
        }
    }

    #[test]
    fn a_socket_budget_refuses_past_its_burst() {
        let socket = PerSocket::new(Rate::every(5, Per::Second));
        for _ in 0..5 {
            socket.check().unwrap();
        }
        let refused = socket.check().unwrap_err();
        assert!(refused.retry_after <= Duration::from_millis(200));
        assert_eq!(refused.retry_after_s(), 1);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_s(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_s(Duration::ZERO), 1);
        assert_eq!(retry_after_s(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_s(Duration::from_millis(2001)), 3);
    }
}
