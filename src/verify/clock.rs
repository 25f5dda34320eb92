//! Where "now" comes from: the system clock, a stopped clock for tests, or your own function.

use std::fmt;
use std::sync::Arc;

/// Where "now" comes from. [`Clock::system`] by default; tests inject [`Clock::fixed`] or
/// [`Clock::from_fn`].
#[derive(Clone, Default)]
pub struct Clock(ClockKind);

#[derive(Clone, Default)]
enum ClockKind {
    #[default]
    System,
    Fixed(i64),
    Custom(Arc<dyn Fn() -> i64 + Send + Sync>),
}

impl Clock {
    /// The system clock.
    pub const fn system() -> Self {
        Self(ClockKind::System)
    }

    /// A clock stopped at `unix_seconds`.
    pub const fn fixed(unix_seconds: i64) -> Self {
        Self(ClockKind::Fixed(unix_seconds))
    }

    /// A clock reading from a function returning Unix seconds.
    pub fn from_fn(f: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        Self(ClockKind::Custom(Arc::new(f)))
    }

    /// The current time in Unix seconds.
    #[inline]
    pub fn now(&self) -> i64 {
        match &self.0 {
            ClockKind::System => {
                match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
                    Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                    Err(_) => 0,
                }
            }
            ClockKind::Fixed(t) => *t,
            ClockKind::Custom(f) => f(),
        }
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ClockKind::System => f.write_str("Clock::system()"),
            ClockKind::Fixed(t) => write!(f, "Clock::fixed({t})"),
            ClockKind::Custom(_) => f.write_str("Clock::from_fn(..)"),
        }
    }
}
