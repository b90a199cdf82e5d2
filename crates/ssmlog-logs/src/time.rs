//! Times as Unix seconds (UTC): parsing the `script` and PowerShell headers, user-given
//! `--since`/`--until` values, and RFC 3339 output. No time-zone database: named zones in old
//! `script` headers are read as UTC.

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Unix seconds of a UTC calendar time, or `None` when a field is out of range.
pub fn unix_from_parts(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s))
}

/// RFC 3339 in UTC (`2026-11-23T10:15:00Z`): the one time format of every output.
pub fn format_rfc3339(t: i64) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `HH:MM[:SS]`.
fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split(':');
    let h = num(it.next()?)?;
    let m = num(it.next()?)?;
    let sec = match it.next() {
        Some(x) => num(x.split('.').next().unwrap_or(x))?,
        None => 0,
    };
    Some((h, m, sec))
}

/// `+HH:MM`, `-HHMM`, `Z` as seconds east of UTC.
fn offset(s: &str) -> Option<i64> {
    if s == "Z" || s == "z" || s.is_empty() {
        return Some(0);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 {
        return None;
    }
    let h = i64::from(num(&digits[..2])?);
    let m = i64::from(num(&digits[2..])?);
    Some(sign * (h * 3600 + m * 60))
}

/// ISO-like `YYYY-MM-DD[( |T)HH:MM[:SS][offset]]`, as new `script` and users write it.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let date = s.get(..10)?;
    let mut dp = date.split('-');
    let y = i64::from(num(dp.next()?)?);
    let mo = num(dp.next()?)?;
    let d = num(dp.next()?)?;
    let rest = &s[10..];
    if rest.is_empty() {
        return unix_from_parts(y, mo, d, 0, 0, 0);
    }
    let rest = rest.strip_prefix(['T', ' '])?;
    let split = rest.find(['+', '-', 'Z', 'z']).unwrap_or(rest.len());
    let (h, mi, sec) = hms(rest[..split].trim())?;
    let off = offset(rest[split..].trim())?;
    Some(unix_from_parts(y, mo, d, h, mi, sec)? - off)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The forms `script` has written: `2026-11-23 10:15:00+00:00`, `Mon 23 Nov 2026 10:15:00 AM
/// UTC`, `Mon Nov 23 10:15:00 2026`. Named zones are read as UTC.
pub fn parse_script_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let first_two = s.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    if let Some(v) = parse_iso(&first_two) {
        return Some(v);
    }
    let (mut y, mut mo, mut d, mut time, mut pm, mut am) = (None, None, None, None, false, false);
    for w in s.split_whitespace() {
        let lw = w.to_ascii_lowercase();
        let lw = lw.trim_end_matches(',');
        if let Some(i) = MONTHS.iter().position(|m| lw.starts_with(m)) {
            mo = Some(i as u32 + 1);
        } else if w.contains(':') {
            time = hms(w);
        } else if let Some(n) = num(lw) {
            if n > 31 {
                y = Some(i64::from(n));
            } else {
                d = Some(n);
            }
        } else if lw == "pm" {
            pm = true;
        } else if lw == "am" {
            am = true;
        }
    }
    let (mut h, mi, sec) = time?;
    if pm && h < 12 {
        h += 12;
    }
    if am && h == 12 {
        h = 0;
    }
    unix_from_parts(y?, mo?, d?, h, mi, sec)
}

/// PowerShell's `Start time: 20261123101500` (local time of the instance, read as UTC).
pub fn parse_compact(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() != 14 {
        return None;
    }
    let n = |a: usize, b: usize| s.get(a..b).and_then(num);
    unix_from_parts(
        i64::from(n(0, 4)?),
        n(4, 6)?,
        n(6, 8)?,
        n(8, 10)?,
        n(10, 12)?,
        n(12, 14)?,
    )
}

/// A `--since`/`--until` value: an RFC 3339 or `YYYY-MM-DD[ HH:MM[:SS]]` time (UTC unless it
/// has an offset), or an age before `now` such as `90m`, `24h`, `7d`, `2w`.
pub fn parse_user_time(s: &str, now: i64) -> Result<i64, String> {
    let t = s.trim();
    if let Some(v) = parse_iso(t) {
        return Ok(v);
    }
    let unit = t.chars().last().unwrap_or(' ');
    let per = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => 0,
    };
    if per > 0 {
        if let Some(n) = num(&t[..t.len() - 1]) {
            return Ok(now - i64::from(n) * per);
        }
    }
    Err(format!(
        "`{s}` is not a time: use `2026-11-23`, `2026-11-23T10:15:00Z` or an age such as `24h`, `7d`"
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_formats() {
        let t = unix_from_parts(2026, 11, 23, 10, 15, 0).unwrap();
        assert_eq!(format_rfc3339(t), "2026-11-23T10:15:00Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_iso("2026-11-23T10:15:00Z"), Some(t));
        assert_eq!(parse_iso("2026-11-23 12:15:00+02:00"), Some(t));
        assert_eq!(parse_iso("2026-11-23 10:15"), Some(t));
    }

    #[test]
    fn script_forms() {
        let t = unix_from_parts(2026, 11, 23, 22, 15, 0).unwrap();
        assert_eq!(parse_script_time("2026-11-23 22:15:00+00:00"), Some(t));
        assert_eq!(
            parse_script_time("Mon 23 Nov 2026 10:15:00 PM UTC"),
            Some(t)
        );
        assert_eq!(parse_script_time("Mon Nov 23 22:15:00 2026"), Some(t));
        assert_eq!(parse_compact("20261123221500"), Some(t));
    }

    #[test]
    fn user_times() {
        assert_eq!(parse_user_time("7d", 1_000_000), Ok(1_000_000 - 7 * 86_400));
        assert!(parse_user_time("yesterday", 0).is_err());
    }
}
