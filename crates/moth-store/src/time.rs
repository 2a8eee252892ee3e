//! Times are stored as unix microseconds so one SQL text serves both databases.

use crate::error::StoreError;
use time::OffsetDateTime;

/// A time as stored.
pub fn to_micros(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1000) as i64
}

/// A stored time, read back.
pub fn from_micros(micros: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .map_err(|e| StoreError::Corrupt(format!("time {micros}: {e}")))
}

/// Now, as stored.
pub fn now_micros() -> i64 {
    to_micros(OffsetDateTime::now_utc())
}
