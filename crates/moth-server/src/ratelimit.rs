//! Flood protection for unauthenticated endpoints: a token bucket per key and per address.

use crate::error::ApiError;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sustained rate and burst of one bucket.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

/// How fast reports may arrive.
#[derive(Debug, Clone, Copy)]
pub struct IntakeRates {
    /// Per intake key: one site cannot starve the others.
    pub per_key: Rate,
    /// Per client address: one browser (or bot) cannot flood a key.
    pub per_address: Rate,
}

impl Default for IntakeRates {
    fn default() -> Self {
        Self {
            per_key: Rate {
                per_second: 100,
                burst: 300,
            },
            per_address: Rate {
                per_second: 5,
                burst: 20,
            },
        }
    }
}

fn limiter<K: std::hash::Hash + Eq + Clone>(rate: Rate) -> DefaultKeyedRateLimiter<K> {
    let per_second = NonZeroU32::new(rate.per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.burst.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
}

/// The buckets of the intake endpoint.
pub struct IntakeLimiter {
    per_key: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

impl IntakeLimiter {
    pub fn new(rates: IntakeRates) -> Self {
        Self {
            per_key: limiter(rates.per_key),
            per_address: limiter(rates.per_address),
            checks: AtomicU64::new(0),
        }
    }

    /// Takes one report's worth from both buckets, or says how long to wait.
    pub fn check(&self, intake_key: &str, address: IpAddr) -> Result<(), ApiError> {
        // Forget idle buckets now and then, so memory stays bounded under many addresses.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 10_000 == 9_999 {
            self.per_key.retain_recent();
            self.per_address.retain_recent();
        }
        let refuse = |not_until: governor::NotUntil<_>, whom: &str| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_secs: wait.as_secs().max(1),
                message: format!("too many reports from {whom}; try again in a moment"),
            }
        };
        self.per_address
            .check_key(&address)
            .map_err(|n| refuse(n, "this address"))?;
        self.per_key
            .check_key(&intake_key.to_string())
            .map_err(|n| refuse(n, "this site"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_from_one_address_is_limited_while_others_pass() {
        let limiter = IntakeLimiter::new(IntakeRates {
            per_key: Rate {
                per_second: 1000,
                burst: 1000,
            },
            per_address: Rate {
                per_second: 1,
                burst: 3,
            },
        });
        let flood: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let passed = (0..100)
            .filter(|_| limiter.check("key", flood).is_ok())
            .count();
        assert_eq!(passed, 3);
        assert!(limiter.check("key", other).is_ok());
        match limiter.check("key", flood) {
            Err(ApiError::RateLimited {
                retry_after_secs, ..
            }) => assert!(retry_after_secs >= 1),
            other => panic!("{other:?}"),
        }
    }
}
