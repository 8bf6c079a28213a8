//! Periods: how often a procedure is expected to run or a metric is measured
//! (`30s`, `15m`, `1h`, `1d`, `2w`, `6mo`, `1y`).
//!
//! Every schedule and interval of mmsm is read by [`Period`], so that a text
//! means the same everywhere: `m` is minutes and `mo` is months (of 30 days).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The unit of a [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodUnit {
    /// `s`: seconds.
    Seconds,
    /// `m`: minutes.
    Minutes,
    /// `h`: hours.
    Hours,
    /// `d`: days.
    Days,
    /// `w`: weeks of 7 days.
    Weeks,
    /// `mo`: months of 30 days.
    Months,
    /// `y`: years of 365 days.
    Years,
}

impl PeriodUnit {
    /// Every unit, shortest first.
    pub const ALL: [PeriodUnit; 7] = [
        PeriodUnit::Seconds,
        PeriodUnit::Minutes,
        PeriodUnit::Hours,
        PeriodUnit::Days,
        PeriodUnit::Weeks,
        PeriodUnit::Months,
        PeriodUnit::Years,
    ];

    /// The suffix of the text form: `s`, `m`, `h`, `d`, `w`, `mo` or `y`.
    pub fn suffix(self) -> &'static str {
        match self {
            PeriodUnit::Seconds => "s",
            PeriodUnit::Minutes => "m",
            PeriodUnit::Hours => "h",
            PeriodUnit::Days => "d",
            PeriodUnit::Weeks => "w",
            PeriodUnit::Months => "mo",
            PeriodUnit::Years => "y",
        }
    }

    /// The unit of a suffix, if it is one.
    pub fn from_suffix(suffix: &str) -> Option<PeriodUnit> {
        PeriodUnit::ALL.into_iter().find(|u| u.suffix() == suffix)
    }

    /// Seconds in one unit.
    pub fn seconds(self) -> u64 {
        const DAY: u64 = 86_400;
        match self {
            PeriodUnit::Seconds => 1,
            PeriodUnit::Minutes => 60,
            PeriodUnit::Hours => 3_600,
            PeriodUnit::Days => DAY,
            PeriodUnit::Weeks => 7 * DAY,
            PeriodUnit::Months => 30 * DAY,
            PeriodUnit::Years => 365 * DAY,
        }
    }

    /// The unit's name for people, singular (`minute`) or plural (`minutes`).
    pub fn name(self, count: u64) -> &'static str {
        let (one, many) = match self {
            PeriodUnit::Seconds => ("second", "seconds"),
            PeriodUnit::Minutes => ("minute", "minutes"),
            PeriodUnit::Hours => ("hour", "hours"),
            PeriodUnit::Days => ("day", "days"),
            PeriodUnit::Weeks => ("week", "weeks"),
            PeriodUnit::Months => ("month", "months"),
            PeriodUnit::Years => ("year", "years"),
        };
        if count == 1 {
            one
        } else {
            many
        }
    }
}

impl fmt::Display for PeriodUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.suffix())
    }
}

/// A period: a whole number > 0 of a [`PeriodUnit`], written `30s`, `15m`,
/// `1h`, `1d`, `2w`, `6mo` (months of 30 days) or `1y` (365 days).
///
/// Two periods are equal when they are written alike (`60m` is not `1h`);
/// they are ordered by their length, then by unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    count: u64,
    unit: PeriodUnit,
}

/// What [`Period`]'s text form must look like, for error messages.
pub const PERIOD_EXPECTED: &str = "expected a whole number > 0 followed by s, m (minutes), h, d, \
     w, mo (months) or y, e.g. 30s, 15m, 1h, 1d, 2w, 6mo, 1y";

impl Period {
    /// `count` units, or `None` when `count` is 0 or the period does not fit
    /// in `u64` seconds.
    pub fn new(count: u64, unit: PeriodUnit) -> Option<Period> {
        (count > 0 && count.checked_mul(unit.seconds()).is_some()).then_some(Period { count, unit })
    }

    /// The number of units (`6` in `6mo`).
    pub fn count(self) -> u64 {
        self.count
    }

    /// The unit (months in `6mo`).
    pub fn unit(self) -> PeriodUnit {
        self.unit
    }

    /// Its length in seconds (months of 30 days, years of 365).
    pub fn seconds(self) -> u64 {
        // `new` and `from_str` refuse the periods that overflow.
        self.count * self.unit.seconds()
    }

    /// Its length as a [`Duration`].
    pub fn as_duration(self) -> Duration {
        Duration::from_secs(self.seconds())
    }

    /// The period in words: `six minutes`, `one day`, `90 days`.
    pub fn words(self) -> String {
        const WORDS: [&str; 13] = [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve",
        ];
        let number = if self.count < WORDS.len() as u64 {
            WORDS[self.count as usize].to_owned()
        } else {
            self.count.to_string()
        };
        format!("{number} {}", self.unit.name(self.count))
    }
}

impl Ord for Period {
    fn cmp(&self, other: &Self) -> Ordering {
        self.seconds()
            .cmp(&other.seconds())
            .then(self.unit.cmp(&other.unit))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.count, self.unit.suffix())
    }
}

/// Why a text is not a [`Period`]; its `Display` says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsePeriodError {
    text: String,
    too_long: bool,
}

impl ParsePeriodError {
    /// The text that is not a period (trimmed).
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ParsePeriodError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a period: ", self.text)?;
        if self.too_long {
            f.write_str("it is too long to count in seconds; ")?;
        }
        f.write_str(PERIOD_EXPECTED)
    }
}

impl std::error::Error for ParsePeriodError {}

impl FromStr for Period {
    type Err = ParsePeriodError;

    fn from_str(text: &str) -> Result<Period, ParsePeriodError> {
        let text = text.trim();
        let error = |too_long| ParsePeriodError {
            text: text.to_owned(),
            too_long,
        };
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| error(false))?;
        let (number, suffix) = text.split_at(split);
        let unit = PeriodUnit::from_suffix(suffix).ok_or_else(|| error(false))?;
        if number.is_empty() {
            return Err(error(false));
        }
        // Only digits are left: parsing fails on overflow alone.
        let count: u64 = number.parse().map_err(|_| error(true))?;
        if count == 0 {
            return Err(error(false));
        }
        Period::new(count, unit).ok_or_else(|| error(true))
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Period, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn period(text: &str) -> Period {
        text.parse()
            .unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    #[test]
    fn every_unit_parses_and_displays_back() {
        let cases = [
            ("30s", 30, PeriodUnit::Seconds, 30),
            ("15m", 15, PeriodUnit::Minutes, 15 * 60),
            ("1h", 1, PeriodUnit::Hours, 3_600),
            ("1d", 1, PeriodUnit::Days, 86_400),
            ("2w", 2, PeriodUnit::Weeks, 14 * 86_400),
            ("6mo", 6, PeriodUnit::Months, 180 * 86_400),
            ("1y", 1, PeriodUnit::Years, 365 * 86_400),
        ];
        for (text, count, unit, seconds) in cases {
            let p = period(text);
            assert_eq!((p.count(), p.unit()), (count, unit), "{text}");
            assert_eq!(p.seconds(), seconds, "{text}");
            assert_eq!(p.as_duration(), Duration::from_secs(seconds), "{text}");
            assert_eq!(p.to_string(), text);
            assert_eq!(period(&p.to_string()), p);
        }
        for unit in PeriodUnit::ALL {
            assert_eq!(PeriodUnit::from_suffix(unit.suffix()), Some(unit));
        }
    }

    #[test]
    fn m_is_minutes_and_mo_is_months() {
        assert_eq!(period("6m").seconds(), 360);
        assert_eq!(period("6mo").seconds(), 180 * 86_400);
        assert_eq!(
            period("6mo").as_duration(),
            Duration::from_secs(180 * 86_400)
        );
        assert_eq!(period("6m").words(), "six minutes");
        assert_eq!(period("1mo").words(), "one month");
        assert_eq!(period("90d").words(), "90 days");
    }

    #[test]
    fn whitespace_around_is_trimmed() {
        assert_eq!(period("  12h\n"), period("12h"));
        assert_eq!(period("\t1d ").to_string(), "1d");
    }

    #[test]
    fn wrong_periods_say_what_is_expected() {
        for text in [
            "", "   ", "0d", "00h", "-1d", "+1d", "1", "42", "d", "mo", "6x", "1.5d", "1 d", "1D",
            "1dd", "1mos", "daily", "1d2h",
        ] {
            let error = text.parse::<Period>().expect_err(text);
            assert_eq!(error.text(), text.trim());
            assert_eq!(
                error.to_string(),
                format!("`{}` is not a period: {PERIOD_EXPECTED}", text.trim())
            );
        }
        assert_eq!(
            "6x".parse::<Period>().unwrap_err().to_string(),
            "`6x` is not a period: expected a whole number > 0 followed by s, m (minutes), h, d, \
             w, mo (months) or y, e.g. 30s, 15m, 1h, 1d, 2w, 6mo, 1y"
        );
    }

    #[test]
    fn overflow_is_an_error() {
        let max = u64::MAX;
        assert_eq!(period(&format!("{max}s")).seconds(), max);
        for text in [
            format!("{max}m"),
            format!("{}y", max / (365 * 86_400) + 1),
            "99999999999999999999999s".to_owned(),
        ] {
            let error = text.parse::<Period>().expect_err(&text);
            assert!(error.to_string().contains("too long"), "{error}");
        }
        assert_eq!(Period::new(max, PeriodUnit::Minutes), None);
        assert_eq!(Period::new(0, PeriodUnit::Days), None);
        assert_eq!(Period::new(2, PeriodUnit::Weeks), Some(period("2w")));
    }

    #[test]
    fn periods_are_ordered_by_length() {
        let mut periods: Vec<Period> = ["1y", "6mo", "2w", "1h", "60m", "90s", "1d"]
            .into_iter()
            .map(period)
            .collect();
        periods.sort();
        let texts: Vec<String> = periods.iter().map(Period::to_string).collect();
        assert_eq!(texts, ["90s", "60m", "1h", "1d", "2w", "6mo", "1y"]);
        assert_ne!(period("60m"), period("1h"));
    }

    #[test]
    fn serde_uses_the_text_form() {
        let p = period("6mo");
        assert_eq!(serde_json::to_value(p).unwrap(), serde_json::json!("6mo"));
        let back: Period = serde_json::from_str("\" 6mo \"").unwrap();
        assert_eq!(back, p);
        let list: Vec<Period> = serde_json::from_str(r#"["30s", "15m", "1y"]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            r#"["30s","15m","1y"]"#
        );
        let error = serde_json::from_str::<Period>("\"6x\"").unwrap_err();
        assert!(
            error.to_string().contains("`6x` is not a period: expected"),
            "{error}"
        );
        assert!(serde_json::from_str::<Period>("6").is_err());
    }
}
