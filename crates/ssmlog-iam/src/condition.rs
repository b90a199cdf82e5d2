//! Condition operators and their evaluation, with the missing-key and set-operator rules
//! of the IAM documentation.

use std::net::IpAddr;

use crate::context::Context;
use crate::template::Template;

/// The operator families; each has a positive and (for most) a negated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String,
    StringIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Ordering comparisons for numbers and dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Every operator name IAM accepts (without `IfExists` and set prefixes), with its family
/// and whether it is negated.
pub(crate) const OPERATORS: &[(&str, Family, bool)] = &[
    ("StringEquals", Family::String, false),
    ("StringNotEquals", Family::String, true),
    ("StringEqualsIgnoreCase", Family::StringIgnoreCase, false),
    ("StringNotEqualsIgnoreCase", Family::StringIgnoreCase, true),
    ("StringLike", Family::StringLike, false),
    ("StringNotLike", Family::StringLike, true),
    ("NumericEquals", Family::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", Family::Numeric(Cmp::Eq), true),
    ("NumericLessThan", Family::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", Family::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", Family::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Family::Numeric(Cmp::Ge), false),
    ("DateEquals", Family::Date(Cmp::Eq), false),
    ("DateNotEquals", Family::Date(Cmp::Eq), true),
    ("DateLessThan", Family::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Family::Date(Cmp::Le), false),
    ("DateGreaterThan", Family::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Family::Date(Cmp::Ge), false),
    ("Bool", Family::Bool, false),
    ("BinaryEquals", Family::Binary, false),
    ("IpAddress", Family::Ip, false),
    ("NotIpAddress", Family::Ip, true),
    ("ArnEquals", Family::Arn, false),
    ("ArnLike", Family::Arn, false),
    ("ArnNotEquals", Family::Arn, true),
    ("ArnNotLike", Family::Arn, true),
    ("Null", Family::Null, false),
];

/// How a multi-valued request key is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SetMode {
    /// No prefix.
    Single,
    /// `ForAllValues:`: every request value must match; a missing key matches.
    ForAll,
    /// `ForAnyValue:`: some request value must match; a missing key does not.
    ForAny,
}

/// A parsed operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub(crate) family: Family,
    pub(crate) negated: bool,
    pub(crate) set: SetMode,
    pub(crate) if_exists: bool,
}

/// Why an operator name is not valid.
pub(crate) enum OperatorError {
    /// Not an operator at all; carries the closest real name.
    Unknown(Option<&'static str>),
    /// `NullIfExists` and the like.
    NullIfExists,
}

impl Operator {
    /// Reads an operator name; operator names are case-sensitive in IAM.
    pub(crate) fn parse(name: &str) -> Result<Self, OperatorError> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (SetMode::ForAll, r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (SetMode::ForAny, r)
        } else {
            (SetMode::Single, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let Some(&(_, family, negated)) = OPERATORS.iter().find(|(n, _, _)| *n == base) else {
            let names: Vec<&str> = OPERATORS.iter().map(|(n, _, _)| *n).collect();
            return Err(OperatorError::Unknown(crate::diagnostic::did_you_mean(
                base, &names,
            )));
        };
        if family == Family::Null && if_exists {
            return Err(OperatorError::NullIfExists);
        }
        Ok(Operator {
            family,
            negated,
            set,
            if_exists,
        })
    }
}

/// One `operator: { key: values }` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    pub(crate) operator_name: String,
    pub(crate) op: Operator,
    /// The key as written, for explanations.
    pub(crate) key: String,
    /// The key lowercased, for lookup.
    pub(crate) key_lower: String,
    pub(crate) values: Vec<Template>,
}

impl Condition {
    /// Is the condition true for this request context?
    pub(crate) fn holds(&self, ctx: &Context) -> bool {
        let request = ctx.get(&self.key_lower);
        if self.op.family == Family::Null {
            // `Null: true` asks that the key be absent; `false` that it be present.
            let absent = request.is_none_or(|v| v.is_empty());
            return self.values.iter().any(|t| {
                t.resolve(ctx)
                    .is_some_and(|v| v.eq_ignore_ascii_case("true") == absent)
            });
        }
        let Some(values) = request else {
            return match self.op.set {
                SetMode::ForAll => true,
                SetMode::ForAny => false,
                SetMode::Single => self.op.if_exists || self.op.negated,
            };
        };
        match self.op.set {
            SetMode::ForAll => values.iter().all(|v| self.one_value(ctx, v)),
            SetMode::ForAny => values.iter().any(|v| self.one_value(ctx, v)),
            // A single-valued operator on several values: a positive operator needs one
            // value to match, a negated one needs every value to avoid every policy value.
            SetMode::Single if self.op.negated => values.iter().all(|v| self.one_value(ctx, v)),
            SetMode::Single => values.iter().any(|v| self.one_value(ctx, v)),
        }
    }

    /// One request value against the policy values: positive operators need one policy
    /// value to match; negated ones need none to.
    fn one_value(&self, ctx: &Context, request: &str) -> bool {
        let any = self
            .values
            .iter()
            .any(|t| matches_value(self.op.family, t, ctx, request));
        any != self.op.negated
    }
}

fn matches_value(family: Family, policy: &Template, ctx: &Context, request: &str) -> bool {
    match family {
        Family::StringLike => policy.matches(ctx, request),
        Family::Arn => policy.resolve(ctx).is_some_and(|p| arn_like(&p, request)),
        _ => {
            let Some(p) = policy.resolve(ctx) else {
                return false;
            };
            let p = p.as_ref();
            match family {
                Family::String => p == request,
                Family::StringIgnoreCase => p.eq_ignore_ascii_case(request),
                Family::Numeric(cmp) => match (parse_number(request), parse_number(p)) {
                    (Some(r), Some(p)) => compare(cmp, r.partial_cmp(&p)),
                    _ => false,
                },
                Family::Date(cmp) => match (parse_date(request), parse_date(p)) {
                    (Some(r), Some(p)) => compare(cmp, Some(r.cmp(&p))),
                    _ => false,
                },
                Family::Bool => {
                    (p.eq_ignore_ascii_case("true") || p.eq_ignore_ascii_case("false"))
                        && p.eq_ignore_ascii_case(request)
                }
                Family::Binary => p == request,
                Family::Ip => match (parse_cidr(p), request.trim().parse::<IpAddr>()) {
                    (Some(net), Ok(ip)) => net.contains(ip),
                    _ => false,
                },
                Family::StringLike | Family::Arn | Family::Null => false,
            }
        }
    }
}

fn compare(cmp: Cmp, ord: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    matches!(
        (cmp, ord),
        (Cmp::Eq, Some(Equal))
            | (Cmp::Lt, Some(Less))
            | (Cmp::Le, Some(Less | Equal))
            | (Cmp::Gt, Some(Greater))
            | (Cmp::Ge, Some(Greater | Equal))
    )
}

/// `Arn*` operators compare the six colon-separated parts one by one, each a wildcard
/// pattern; the resource part keeps any further colons.
pub(crate) fn arn_like(pattern: &str, arn: &str) -> bool {
    let (Some(p), Some(a)) = (split_arn(pattern), split_arn(arn)) else {
        return false;
    };
    p.iter()
        .zip(a.iter())
        .all(|(p, a)| crate::pattern::Pattern::wildcard(p).matches(a))
}

/// Splits an ARN into its six parts, or `None` when it has fewer than five colons.
pub(crate) fn split_arn(s: &str) -> Option<[&str; 6]> {
    let mut it = s.splitn(6, ':');
    let parts = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    (parts[0] == "arn").then_some(parts)
}

/// Numbers as IAM writes them: integers and decimals.
pub(crate) fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '+');
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// Dates as ISO 8601 (date, or date-time with `Z` or an offset, optional fractions) or
/// epoch seconds; returned as milliseconds since the epoch.
///
/// The forms are read here; whether the fields make a date (`2026-02-30` does not, 29
/// February only in leap years) and the arithmetic are the `time` crate's.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok()?.checked_mul(1000);
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    // `2026-02-30` is no date: IAM rejects it rather than rolling it over.
    let month = time::Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(millis(date.midnight().assume_utc()));
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let rb = rest.as_bytes();
    if rb.len() < 5 || rb[2] != b':' {
        return None;
    }
    let h = num(11..13)?;
    let mi = num(14..16)?;
    let mut i = 16;
    let mut sec = 0;
    if rb.get(5) == Some(&b':') {
        sec = num(17..19)?;
        i = 19;
    }
    // A leap second (`23:59:60`) is the second after `:59`, as ISO 8601 reads it.
    let leap = i64::from(sec == 60);
    let clock = time::Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(sec - leap).ok()?,
    )
    .ok()?;
    let mut frac_ms = 0;
    if s.as_bytes().get(i) == Some(&b'.') {
        let frac_start = i + 1;
        let mut j = frac_start;
        while s.as_bytes().get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j == frac_start {
            return None;
        }
        let frac = &s[frac_start..j.min(frac_start + 3)];
        let scale = 10_i64.pow(3 - frac.len() as u32);
        frac_ms = frac.parse::<i64>().ok()? * scale;
        i = j;
    }
    let offset = match &s[i..] {
        "" | "Z" | "z" => time::UtcOffset::UTC,
        off if off.len() == 6 && (off.starts_with('+') || off.starts_with('-')) => {
            if off.as_bytes()[3] != b':' {
                return None;
            }
            let sign = if off.starts_with('-') { -1 } else { 1 };
            let oh = i8::try_from(num(i + 1..i + 3)?).ok()?;
            let om = i8::try_from(num(i + 4..i + 6)?).ok()?;
            time::UtcOffset::from_hms(sign * oh, sign * om, 0).ok()?
        }
        _ => return None,
    };
    let at = time::PrimitiveDateTime::new(date, clock).assume_offset(offset);
    Some(millis(at) + leap * 1000 + frac_ms)
}

/// Milliseconds since the epoch.
fn millis(at: time::OffsetDateTime) -> i64 {
    at.unix_timestamp() * 1000
}

/// An IP network from a CIDR or a bare address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

pub(crate) fn parse_cidr(s: &str) -> Option<Cidr> {
    let s = s.trim();
    let (a, p) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match p {
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
        None => max,
    };
    Some(Cidr { addr, prefix })
}

impl Cidr {
    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) if self.addr.is_ipv4() => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            other => other,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

fn prefix_eq(net: &[u8], addr: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let bits = prefix % 8;
    if net.get(..full) != addr.get(..full) {
        return false;
    }
    if bits == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - bits);
    match (net.get(full), addr.get(full)) {
        (Some(n), Some(a)) => n & mask == a & mask,
        _ => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator_name: op.into(),
            op: Operator::parse(op).ok().unwrap(),
            key: key.into(),
            key_lower: key.to_ascii_lowercase(),
            values: values
                .iter()
                .map(|v| Template::parse(v, true).unwrap())
                .collect(),
        }
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::default();
        for (k, vs) in pairs {
            c.insert(k, vs.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    #[test]
    fn missing_keys_follow_the_documented_rules() {
        let empty = Context::default();
        assert!(!cond("StringEquals", "k", &["a"]).holds(&empty));
        assert!(cond("StringNotEquals", "k", &["a"]).holds(&empty));
        assert!(cond("StringEqualsIfExists", "k", &["a"]).holds(&empty));
        assert!(cond("ForAllValues:StringEquals", "k", &["a"]).holds(&empty));
        assert!(!cond("ForAnyValue:StringEquals", "k", &["a"]).holds(&empty));
        assert!(cond("Null", "k", &["true"]).holds(&empty));
        assert!(!cond("Null", "k", &["false"]).holds(&empty));
    }

    #[test]
    fn negated_operators_need_every_value_to_differ() {
        let c = ctx(&[("k", &["b"])]);
        assert!(!cond("StringNotEquals", "k", &["a", "b"]).holds(&c));
        assert!(cond("StringNotEquals", "k", &["a", "c"]).holds(&c));
        assert!(cond("StringEquals", "k", &["a", "b"]).holds(&c));
    }

    #[test]
    fn set_operators_on_multivalued_keys() {
        let c = ctx(&[("tags", &["a", "b"])]);
        assert!(cond("ForAllValues:StringEquals", "tags", &["a", "b", "c"]).holds(&c));
        assert!(!cond("ForAllValues:StringEquals", "tags", &["a"]).holds(&c));
        assert!(cond("ForAnyValue:StringEquals", "tags", &["b"]).holds(&c));
        assert!(!cond("ForAnyValue:StringEquals", "tags", &["z"]).holds(&c));
        assert!(cond("ForAllValues:StringNotEquals", "tags", &["z"]).holds(&c));
        assert!(!cond("ForAllValues:StringNotEquals", "tags", &["a"]).holds(&c));
    }

    #[test]
    fn keys_are_case_insensitive_values_are_not() {
        let c = ctx(&[("aws:PrincipalOrgID", &["o-abc"])]);
        assert!(cond("StringEquals", "aws:principalorgid", &["o-abc"]).holds(&c));
        assert!(!cond("StringEquals", "aws:PrincipalOrgID", &["O-ABC"]).holds(&c));
        assert!(cond("StringEqualsIgnoreCase", "aws:PrincipalOrgID", &["O-ABC"]).holds(&c));
    }

    #[test]
    fn like_numeric_date_bool_ip_arn() {
        let c = ctx(&[
            ("s", &["alice-0a1b"]),
            ("n", &["20"]),
            ("d", &["2026-11-23T10:00:00Z"]),
            ("b", &["TRUE"]),
            ("ip", &["203.0.113.7"]),
            ("arn", &["arn:aws:iam::222233334444:role/SSMInstanceRole"]),
        ]);
        assert!(cond("StringLike", "s", &["alice-*"]).holds(&c));
        assert!(cond("StringNotLike", "s", &["bob-*"]).holds(&c));
        assert!(cond("NumericLessThanEquals", "n", &["20"]).holds(&c));
        assert!(!cond("NumericLessThan", "n", &["20"]).holds(&c));
        assert!(cond("NumericNotEquals", "n", &["21"]).holds(&c));
        assert!(cond("DateGreaterThan", "d", &["2026-11-23"]).holds(&c));
        assert!(cond("DateLessThan", "d", &["2026-11-23T12:00:00+01:00"]).holds(&c));
        assert!(cond("Bool", "b", &["true"]).holds(&c));
        assert!(cond("IpAddress", "ip", &["203.0.113.0/24"]).holds(&c));
        assert!(cond("NotIpAddress", "ip", &["198.51.100.0/24"]).holds(&c));
        assert!(cond("ArnLike", "arn", &["arn:aws:iam::*:role/SSM*"]).holds(&c));
        assert!(!cond("ArnLike", "arn", &["arn:aws:iam::*"]).holds(&c));
        assert!(cond("ArnNotEquals", "arn", &["arn:aws:iam::*:role/Other"]).holds(&c));
    }

    #[test]
    fn dates_parse_in_the_documented_forms() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_date("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_date("1970-01-01T00:00:00.5Z"), Some(500));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("yesterday"), None);
        // Days past the end of their month are not dates; 29 February only in leap years.
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-04-31T00:00:00Z"), None);
        assert_eq!(parse_date("2026-02-29"), None);
        assert_eq!(parse_date("1900-02-29"), None);
        assert_eq!(
            parse_date("2028-02-29"),
            Some(parse_date("2028-03-01").unwrap() - 86_400_000)
        );
        assert_eq!(
            parse_date("2000-02-29"),
            Some(parse_date("2000-03-01").unwrap() - 86_400_000)
        );
    }

    /// Calendar validity comes from the `time` crate: days past their month's end, 29
    /// February outside leap years (every 4th year, not centuries, but every 400th).
    #[test]
    fn impossible_dates_and_leap_days() {
        for no in [
            "2026-02-30",
            "2026-02-29",
            "2026-02-29T00:00:00Z",
            "2100-02-29",
            "2026-06-31",
            "2026-00-10",
            "2026-01-00",
            "2026-01-32",
            "2026-01-01T24:00:00Z",
            "2026-01-01T12:60:00Z",
            "2026-01-01T12:00:61Z",
        ] {
            assert_eq!(parse_date(no), None, "{no}");
        }
        let day = 86_400_000;
        for (leap_day, next) in [
            ("2024-02-29", "2024-03-01"),
            ("2000-02-29", "2000-03-01"),
            ("2400-02-29", "2400-03-01"),
        ] {
            assert_eq!(
                parse_date(leap_day).map(|t| t + day),
                parse_date(next),
                "{leap_day}"
            );
        }
        // The day before 1 March is 28 February in a common year.
        assert_eq!(
            parse_date("2026-02-28").map(|t| t + day),
            parse_date("2026-03-01")
        );
        // A leap second is the second after :59.
        assert_eq!(
            parse_date("2016-12-31T23:59:60Z"),
            parse_date("2017-01-01T00:00:00Z")
        );
    }

    /// Offsets move the instant, across days and years; `Z`, `z` and no zone are UTC.
    #[test]
    fn time_zones() {
        let utc = parse_date("2026-11-23T10:00:00Z");
        assert_eq!(utc, Some(1_795_428_000_000));
        for same in [
            "2026-11-23T10:00:00z",
            "2026-11-23T10:00:00",
            "2026-11-23T10:00Z",
            "2026-11-23T11:00:00+01:00",
            "2026-11-23T05:30:00-04:30",
            "2026-11-24T00:00:00+14:00",
            "2026-11-22T22:00:00-12:00",
            "2026-11-23 10:00:00Z",
        ] {
            assert_eq!(parse_date(same), utc, "{same}");
        }
        assert_eq!(
            parse_date("2027-01-01T00:30:00+01:00"),
            parse_date("2026-12-31T23:30:00Z")
        );
        assert_eq!(
            parse_date("2026-11-23T10:00:00.250+01:00"),
            parse_date("2026-11-23T09:00:00.25Z")
        );
        for no in [
            "2026-11-23T10:00:00+0100",
            "2026-11-23T10:00:00+01",
            "2026-11-23T10:00:00 UTC",
            "2026-11-23T10:00:00+01:60",
        ] {
            assert_eq!(parse_date(no), None, "{no}");
        }
    }

    /// Epoch seconds as the condition keys carry them (`aws:EpochTime`, and the forms AWS
    /// documents for `Date*` operators): whole seconds, digits only.
    #[test]
    fn epoch_seconds() {
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("1795428000"), parse_date("2026-11-23T10:00:00Z"));
        assert_eq!(parse_date(" 1795428000 "), Some(1_795_428_000_000));
        assert_eq!(parse_date("0001795428000"), Some(1_795_428_000_000));
        for no in [
            "-1",
            "+1795428000",
            "1795428000.5",
            "1.7e9",
            "17954280000000000000",
        ] {
            assert_eq!(parse_date(no), None, "{no}");
        }
    }

    #[test]
    fn operator_names_are_checked() {
        assert!(matches!(
            Operator::parse("StringEqual"),
            Err(OperatorError::Unknown(Some("StringEquals")))
        ));
        assert!(matches!(
            Operator::parse("NullIfExists"),
            Err(OperatorError::NullIfExists)
        ));
        let op = Operator::parse("ForAnyValue:StringLikeIfExists")
            .ok()
            .unwrap();
        assert_eq!(op.set, SetMode::ForAny);
        assert!(op.if_exists);
    }
}
