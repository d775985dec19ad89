//! Time as the core sees it: milliseconds since the Unix epoch, UTC.
//!
//! Vendors print times in different shapes (Flowable `2025-11-24T13:16:00.123Z`, Astro Zero
//! `2025-11-24 13:16:00`), so the model keeps one integer and offers the conversions here.
//! Hand-written (Howard Hinnant's civil-date algorithms) because the model crate stays free of
//! clock and timezone machinery: parsing and rendering never read the clock.

use serde::{Deserialize, Serialize};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Date and time-of-day fields of a UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl Timestamp {
    pub fn from_civil(c: Civil) -> Timestamp {
        let days = days_from_civil(c.year, c.month, c.day);
        let secs = days * 86_400 + i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second);
        Timestamp(secs * 1000 + i64::from(c.millis))
    }

    pub fn civil(self) -> Civil {
        let ms = self.0.rem_euclid(1000) as u32;
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Civil {
            year,
            month,
            day,
            hour: sod / 3600,
            minute: sod % 3600 / 60,
            second: sod % 60,
            millis: ms,
        }
    }

    /// `2025-11-24T13:16:00.123Z`: always three fraction digits, UTC. Flowable 7.2 prints
    /// this shape and Flowable 8 parses it back, so it is compatible with every version.
    pub fn to_iso_millis(self) -> String {
        let c = self.civil();
        if !(0..=9999).contains(&c.year) {
            return format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
            );
        }
        // Digit by digit: every response carries a few of these, and `format!` cost ~2 % of
        // a list's server CPU (perf).
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut n: u32| {
            for slot in out[at..at + width].iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, c.year as u32);
        put(5, 2, c.month);
        put(8, 2, c.day);
        put(11, 2, c.hour);
        put(14, 2, c.minute);
        put(17, 2, c.second);
        put(20, 3, c.millis);
        out.iter().map(|b| char::from(*b)).collect()
    }

    /// `Mon Nov 24 13:16:00 UTC 2025`: `java.util.Date#toString` in UTC (what Java servers such
    /// as webMethods Integration Server print for a date).
    pub fn to_java_date(self) -> String {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let c = self.civil();
        // 1970-01-01 was a Thursday.
        let weekday = self.0.div_euclid(86_400_000).rem_euclid(7) as usize;
        format!(
            "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
            DAYS[weekday],
            MONTHS[(c.month as usize).saturating_sub(1) % 12],
            c.day,
            c.hour,
            c.minute,
            c.second,
            c.year
        )
    }

    /// `2025-11-24 13:16:00` in UTC (the shape Astro Zero and many Java back-ends print).
    pub fn to_sql_seconds(self) -> String {
        let c = self.civil();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        )
    }

    /// Parses `yyyy-MM-dd['T'HH:mm[:ss[.SSS]][Z | ±HH:mm | ±HHmm | ±HH]]`. A missing time is
    /// midnight, a missing offset is UTC. A space may stand for the `T`.
    pub fn parse_iso(text: &str) -> Option<Timestamp> {
        let b = text.trim().as_bytes();
        let num = |s: &[u8]| -> Option<u32> {
            if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(s).ok()?.parse().ok()
        };
        if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = i64::from(num(&b[0..4])?);
        let month = num(&b[5..7])?;
        let day = num(&b[8..10])?;
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let mut c = Civil {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            millis: 0,
        };
        let mut rest = &b[10..];
        let mut offset_minutes: i64 = 0;
        if !rest.is_empty() {
            if rest[0] != b'T' && rest[0] != b't' && rest[0] != b' ' {
                return None;
            }
            rest = &rest[1..];
            if rest.len() < 5 || rest[2] != b':' {
                return None;
            }
            c.hour = num(&rest[0..2])?;
            c.minute = num(&rest[3..5])?;
            rest = &rest[5..];
            if rest.first() == Some(&b':') {
                if rest.len() < 3 {
                    return None;
                }
                c.second = num(&rest[1..3])?;
                rest = &rest[3..];
                if rest.first() == Some(&b'.') {
                    let digits = rest[1..].iter().take_while(|d| d.is_ascii_digit()).count();
                    if digits == 0 {
                        return None;
                    }
                    let frac = &rest[1..1 + digits];
                    let mut ms = 0u32;
                    for i in 0..3 {
                        ms = ms * 10 + frac.get(i).map_or(0, |d| u32::from(d - b'0'));
                    }
                    c.millis = ms;
                    rest = &rest[1 + digits..];
                }
            }
            if c.hour > 23 || c.minute > 59 || c.second > 59 {
                return None;
            }
            match rest {
                [] | [b'Z'] | [b'z'] => {}
                [sign @ (b'+' | b'-'), tail @ ..] => {
                    let (h, m) = match tail {
                        [h1, h2] => (num(&[*h1, *h2])?, 0),
                        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (num(&[*h1, *h2])?, num(&[*m1, *m2])?),
                        _ => return None,
                    };
                    if h > 23 || m > 59 {
                        return None;
                    }
                    offset_minutes = i64::from(h * 60 + m);
                    if *sign == b'-' {
                        offset_minutes = -offset_minutes;
                    }
                }
                _ => return None,
            }
        }
        Some(Timestamp(Timestamp::from_civil(c).0 - offset_minutes * 60_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_parses_iso() {
        let t = Timestamp::parse_iso("2025-11-24T13:16:00.123Z").expect("parses");
        assert_eq!(t.0, 1_763_990_160_123);
        assert_eq!(t.to_iso_millis(), "2025-11-24T13:16:00.123Z");
        assert_eq!(t.to_sql_seconds(), "2025-11-24 13:16:00");
    }

    /// The digit-by-digit rendering says what `format!` says, inside years 0 to 9999 and at
    /// their edges (outside, it is `format!`).
    #[test]
    fn iso_millis_digits() {
        let formatted = |t: Timestamp| {
            let c = t.civil();
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                c.year, c.month, c.day, c.hour, c.minute, c.second, c.millis
            )
        };
        let year_0 = Timestamp::parse_iso("0000-01-01T00:00:00Z").expect("year 0").0;
        let year_10000 = Timestamp::parse_iso("9999-12-31T23:59:59.999Z").expect("last").0 + 1;
        let mut t = year_0 - 86_400_000;
        while t < year_10000 + 86_400_000 {
            assert_eq!(Timestamp(t).to_iso_millis(), formatted(Timestamp(t)), "{t}");
            t += 3_989_876_543; // ~46 days and an odd number of milliseconds
        }
        for t in [
            year_0 - 1,
            year_0,
            0,
            -1,
            1_763_990_160_123,
            year_10000 - 1,
            year_10000,
        ] {
            assert_eq!(Timestamp(t).to_iso_millis(), formatted(Timestamp(t)), "{t}");
        }
        assert_eq!(
            Timestamp(year_10000 - 1).to_iso_millis(),
            "9999-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn java_dates() {
        assert_eq!(Timestamp(0).to_java_date(), "Thu Jan 01 00:00:00 UTC 1970");
        let t = Timestamp::parse_iso("2026-11-24T22:06:36.630Z").expect("parses");
        assert_eq!(t.to_java_date(), "Tue Nov 24 22:06:36 UTC 2026");
        assert_eq!(Timestamp(-1).to_java_date(), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn offsets_and_partial_forms() {
        let utc = Timestamp::parse_iso("2020-02-29T10:00:00Z").expect("leap day");
        assert_eq!(Timestamp::parse_iso("2020-02-29T11:00:00+01:00"), Some(utc));
        assert_eq!(Timestamp::parse_iso("2020-02-29T11:00:00+0100"), Some(utc));
        assert_eq!(Timestamp::parse_iso("2020-02-29T05:00-05"), Some(utc));
        assert_eq!(
            Timestamp::parse_iso("2020-02-29")
                .map(Timestamp::to_iso_millis)
                .as_deref(),
            Some("2020-02-29T00:00:00.000Z")
        );
        for bad in [
            "2021-02-29",
            "2020-13-01",
            "2020-01-01T25:00",
            "yesterday",
            "2020-01-01X",
            "",
        ] {
            assert_eq!(Timestamp::parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_round_trip_before_epoch() {
        for ms in [-86_400_001i64, -1, 0, 951_782_400_000, 4_102_444_800_999] {
            assert_eq!(Timestamp::from_civil(Timestamp(ms).civil()).0, ms);
        }
    }
}
