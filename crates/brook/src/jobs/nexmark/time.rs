//! Calendar helpers for `DATE_FORMAT` and `HOUR` on `TIMESTAMP(3)` values
//! (epoch milliseconds read as UTC wall-clock time, as Flink reads a
//! `TIMESTAMP` without time zone).

pub const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of an epoch-millisecond time.
pub fn day_number(ms: i64) -> i64 {
    ms.div_euclid(MS_PER_DAY)
}

/// `yyyy-MM-dd` of a day number (Howard Hinnant's civil-from-days).
pub fn format_day(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `DATE_FORMAT(t, 'yyyy-MM-dd')`.
pub fn date(ms: i64) -> String {
    format_day(day_number(ms))
}

/// Minutes since midnight.
pub fn minute_of_day(ms: i64) -> i64 {
    ms.rem_euclid(MS_PER_DAY) / 60_000
}

/// `HH:mm` of minutes since midnight.
pub fn format_minute(minute: i64) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// `DATE_FORMAT(t, 'HH:mm')`.
pub fn hour_minute(ms: i64) -> String {
    format_minute(minute_of_day(ms))
}

/// `HOUR(t)`.
pub fn hour(ms: i64) -> i64 {
    minute_of_day(ms) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_utc_wall_clock() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(-1), "1969-12-31");
        // 2015-07-15 00:00:00 UTC, RisingWave's base time.
        assert_eq!(date(1_436_918_400_000), "2015-07-15");
        assert_eq!(date(951_782_400_000), "2000-02-29");
        assert_eq!(hour_minute(1_436_918_400_000 + 13 * 3_600_000 + 7 * 60_000 + 59_999), "13:07");
        assert_eq!(hour(1_436_918_400_000 + 23 * 3_600_000), 23);
    }
}
