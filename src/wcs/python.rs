//! The CPython built-ins whose exact behaviour shows in w.c.s.'s answers:
//! `int(str)` (behind `misc.get_int_or_400`), `datetime.strptime(value,
//! '%Y-%m-%dT%H:%M:%SZ')` (the signature timestamp) and `repr(str)` (in
//! strptime's error text). They follow CPython 3.11's C code and
//! `_strptime.py`; the Unicode tables come from that interpreter through
//! tests/python_unicode_tables.py, and the unit tests' expectations were
//! printed by it.

#[path = "python_tables.rs"]
mod tables;

use chrono::{NaiveDate, NaiveDateTime};

/// The value of a Unicode decimal digit (`str.isdecimal()`): what `int()`
/// and `re`'s `\d` accept, not only ASCII.
pub fn decimal(c: char) -> Option<u32> {
    let cp = u32::from(c);
    let i = tables::DECIMAL_ZEROS.partition_point(|&z| z <= cp);
    let zero = *tables::DECIMAL_ZEROS.get(i.checked_sub(1)?)?;
    (cp - zero < 10).then_some(cp - zero)
}

/// `str.isprintable()` for one character.
fn printable(c: char) -> bool {
    let cp = u32::from(c);
    let ranges = tables::NON_PRINTABLE;
    let pairs = ranges.len() / 2;
    // The first pair whose last code point is at or past `cp`.
    let (mut lo, mut hi) = (0, pairs);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if ranges[2 * mid + 1] < cp {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    !(lo < pairs && ranges[2 * lo] <= cp)
}

/// Python's `repr()` of a string.
pub fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_ascii() || printable(c) => out.push(c),
            c => {
                let cp = u32::from(c);
                out.push_str(&match cp {
                    0..=0xff => format!("\\x{cp:02x}"),
                    0x100..=0xffff => format!("\\u{cp:04x}"),
                    _ => format!("\\U{cp:08x}"),
                });
            }
        }
    }
    out.push(quote);
    out
}

/// What `int()` strips around a number. CPython maps non-ASCII white space
/// (`str.isspace()`) to a space first, then strips C's ASCII `isspace`:
/// so `\x1c`..`\x1f`, white space to `str.isspace()`, are refused.
fn int_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r') || (!c.is_ascii() && c.is_whitespace())
}

/// The outcome of `int(s)` on a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyInt {
    /// An integer that fits in an `i64`.
    Int(i64),
    /// An integer `int()` accepts but an `i64` cannot hold.
    TooBig,
    /// A `ValueError`.
    Invalid,
}

/// `int(s)`: optional surrounding white space and sign, then decimal digits
/// (any script) with single underscores between digits.
pub fn int(s: &str) -> PyInt {
    let body = s.trim_matches(int_space);
    let (negative, digits) = match body.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, body.strip_prefix('+').unwrap_or(body)),
    };
    let mut value: Option<i128> = Some(0);
    let mut previous_was_digit = false;
    for c in digits.chars() {
        if c == '_' {
            if !previous_was_digit {
                return PyInt::Invalid;
            }
            previous_was_digit = false;
            continue;
        }
        let Some(d) = decimal(c) else {
            return PyInt::Invalid;
        };
        previous_was_digit = true;
        value = value
            .and_then(|v| v.checked_mul(10))
            .and_then(|v| v.checked_add(i128::from(d)));
    }
    // Empty, or ending with an underscore.
    if !previous_was_digit {
        return PyInt::Invalid;
    }
    match value
        .map(|v| if negative { -v } else { v })
        .and_then(|v| i64::try_from(v).ok())
    {
        Some(v) => PyInt::Int(v),
        None => PyInt::TooBig,
    }
}

/// One character class of `_strptime`'s regular expressions.
#[derive(Clone, Copy)]
enum Class {
    /// `\d`: any Unicode decimal digit.
    Digit,
    /// `[a-b]`: ASCII only.
    Range(char, char),
    /// A literal character.
    Char(char),
}

impl Class {
    fn matches(self, c: char) -> bool {
        match self {
            Self::Digit => decimal(c).is_some(),
            Self::Range(a, b) => (a..=b).contains(&c),
            Self::Char(x) => c == x,
        }
    }
}

use Class::{Char, Digit, Range};

/// The alternatives of `_strptime`'s directives, tried in this order.
const YEAR: &[&[Class]] = &[&[Digit, Digit, Digit, Digit]];
const MONTH: &[&[Class]] = &[
    &[Char('1'), Range('0', '2')],
    &[Char('0'), Range('1', '9')],
    &[Range('1', '9')],
];
const DAY: &[&[Class]] = &[
    &[Char('3'), Range('0', '1')],
    &[Range('1', '2'), Digit],
    &[Char('0'), Range('1', '9')],
    &[Range('1', '9')],
    &[Char(' '), Range('1', '9')],
];
const HOUR: &[&[Class]] = &[
    &[Char('2'), Range('0', '3')],
    &[Range('0', '1'), Digit],
    &[Digit],
];
const MINUTE: &[&[Class]] = &[&[Range('0', '5'), Digit], &[Digit]];
const SECOND: &[&[Class]] = &[
    &[Char('6'), Range('0', '1')],
    &[Range('0', '5'), Digit],
    &[Digit],
];

/// `%Y-%m-%dT%H:%M:%SZ` as `_strptime` compiles it: each field followed by
/// its literal, matched with `re.IGNORECASE` (so `t` and `z` pass).
const FORMAT: [(&[&[Class]], char); 6] = [
    (YEAR, '-'),
    (MONTH, '-'),
    (DAY, 'T'),
    (HOUR, ':'),
    (MINUTE, ':'),
    (SECOND, 'Z'),
];

/// The format's text, as Python's messages quote it.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

/// Backtracking match of `FORMAT[field..]` at `s[at..]`, like `re.match`:
/// the first alternative that lets the rest match wins. Fills `spans`.
fn match_from(
    s: &[char],
    at: usize,
    field: usize,
    spans: &mut [(usize, usize); 6],
) -> Option<usize> {
    let Some((alternatives, literal)) = FORMAT.get(field) else {
        return Some(at);
    };
    for alternative in *alternatives {
        let end = at + alternative.len();
        let fits = s.get(at..end).is_some_and(|chunk| {
            chunk
                .iter()
                .zip(alternative.iter())
                .all(|(&c, class)| class.matches(c))
        });
        if !fits || !s.get(end).is_some_and(|c| c.eq_ignore_ascii_case(literal)) {
            continue;
        }
        spans[field] = (at, end);
        if let Some(done) = match_from(s, end + 1, field + 1, spans) {
            return Some(done);
        }
    }
    None
}

/// `datetime.strptime(s, '%Y-%m-%dT%H:%M:%SZ')`, with the text of the
/// `ValueError` it would raise.
pub fn strptime_timestamp(s: &str) -> Result<NaiveDateTime, String> {
    let chars: Vec<char> = s.chars().collect();
    let mut spans = [(0, 0); 6];
    let Some(end) = match_from(&chars, 0, 0, &mut spans) else {
        return Err(format!(
            "time data {} does not match format {}",
            repr(s),
            repr(TIMESTAMP_FORMAT)
        ));
    };
    if end < chars.len() {
        let rest: String = chars[end..].iter().collect();
        return Err(format!("unconverted data remains: {rest}"));
    }
    // int() of each field; the day's optional leading space is stripped.
    let mut v = [0u32; 6];
    for (value, &(a, b)) in v.iter_mut().zip(spans.iter()) {
        *value = chars[a..b]
            .iter()
            .filter_map(|&c| decimal(c))
            .fold(0, |acc, d| acc * 10 + d);
    }
    let [year, month, day, hour, minute, second] = v;
    // The checks of datetime.date(), then datetime.datetime(), in order.
    if year == 0 {
        return Err("year 0 is out of range".into());
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| "day is out of range for month".to_string())?;
    if second > 59 {
        return Err("second must be in 0..59".into());
    }
    // The regular expression already bounds the hour and the minute.
    date.and_hms_opt(hour, minute, second)
        .ok_or_else(|| "hour or minute out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_takes_single_underscores_between_digits_only() {
        // Each expectation printed by python3 -c "print(int(s))".
        let cases: &[(&str, PyInt)] = &[
            ("10", PyInt::Int(10)),
            ("1_0", PyInt::Int(10)),
            ("1_000_000", PyInt::Int(1_000_000)),
            ("0_0", PyInt::Int(0)),
            ("007", PyInt::Int(7)),
            ("_1", PyInt::Invalid),
            ("1_", PyInt::Invalid),
            ("1__0", PyInt::Invalid),
            ("+_1", PyInt::Invalid),
            ("_", PyInt::Invalid),
            ("", PyInt::Invalid),
            ("   ", PyInt::Invalid),
            ("1.0", PyInt::Invalid),
            ("1e3", PyInt::Invalid),
            ("0x10", PyInt::Invalid),
            ("1 1", PyInt::Invalid),
            ("\u{b2}", PyInt::Invalid),
        ];
        for (s, expected) in cases {
            assert_eq!(int(s), *expected, "int({s:?})");
        }
    }

    #[test]
    fn int_takes_one_sign_and_pythons_surrounding_white_space() {
        let cases: &[(&str, PyInt)] = &[
            (" 1 ", PyInt::Int(1)),
            ("+1", PyInt::Int(1)),
            ("-0", PyInt::Int(0)),
            ("-12", PyInt::Int(-12)),
            (" -1", PyInt::Int(-1)),
            ("+1_000 ", PyInt::Int(1000)),
            ("\t\n\x0b\x0c\r5\r\n", PyInt::Int(5)),
            ("\u{a0}1", PyInt::Int(1)),
            ("1\u{2003}", PyInt::Int(1)),
            ("\u{85} 5\u{3000}", PyInt::Int(5)),
            ("- 1", PyInt::Invalid),
            ("-\u{3000}1", PyInt::Invalid),
            ("++1", PyInt::Invalid),
            ("+-1", PyInt::Invalid),
            ("\x1c1\x1f", PyInt::Invalid),
            ("\x1c1", PyInt::Invalid),
            ("\u{200b}1", PyInt::Invalid),
        ];
        for (s, expected) in cases {
            assert_eq!(int(s), *expected, "int({s:?})");
        }
    }

    #[test]
    fn int_reads_digits_of_every_script() {
        assert_eq!(int("\u{ff11}\u{ff12}"), PyInt::Int(12));
        assert_eq!(int("1_\u{662}"), PyInt::Int(12));
        assert_eq!(int("\u{660}"), PyInt::Int(0));
        assert_eq!(int("\u{1d7cf}\u{1d7d7}"), PyInt::Int(19));
        assert_eq!(int("9223372036854775807"), PyInt::Int(i64::MAX));
        assert_eq!(int("9223372036854775808"), PyInt::TooBig);
        assert_eq!(int(&"9".repeat(200)), PyInt::TooBig);
    }

    #[test]
    fn the_unicode_tables_agree_with_python_on_sample_characters() {
        // python3 -c "print([c for c in range(0x110000) if chr(c).isdecimal()].__len__())"
        let decimals = (0..=0x10ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| decimal(c).is_some())
            .count();
        assert_eq!(decimals, 660);
        assert_eq!(decimal('7'), Some(7));
        assert_eq!(decimal('\u{669}'), Some(9));
        assert_eq!(decimal('\u{b2}'), None);
        assert_eq!(decimal('a'), None);
        for c in ['a', ' ', '\u{e9}', '\u{4e2d}', '\u{1f600}'] {
            assert!(printable(c), "{c:?}");
        }
        for c in [
            '\u{a0}',
            '\u{ad}',
            '\u{200b}',
            '\u{2028}',
            '\u{e0001}',
            '\u{10ffff}',
        ] {
            assert!(!printable(c), "{c:?}");
        }
    }

    #[test]
    fn repr_quotes_and_escapes_like_python() {
        // Each expectation printed by python3 -c "print(repr(s))".
        let cases: &[(&str, &str)] = &[
            ("abc", "'abc'"),
            ("it's", "\"it's\""),
            ("it's \"x\"", "'it\\'s \"x\"'"),
            ("say \"x\"", "'say \"x\"'"),
            ("a\\b", "'a\\\\b'"),
            ("it's\\", "\"it's\\\\\""),
            (
                "a\x00\x7f\u{80}\u{a0}\u{200b}\u{e0001}\t\n\r\u{e9}",
                "'a\\x00\\x7f\\x80\\xa0\\u200b\\U000e0001\\t\\n\\r\u{e9}'",
            ),
            ("\u{4e2d}\u{1f600}", "'\u{4e2d}\u{1f600}'"),
        ];
        for (s, expected) in cases {
            assert_eq!(repr(s), *expected, "repr({s:?})");
        }
    }

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn strptime_accepts_what_cpython_accepts() {
        // Each printed by python3 -c "import datetime;
        // print(datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%SZ'))".
        let cases: &[(&str, &str)] = &[
            ("2026-01-15T10:00:00Z", "2026-01-15 10:00:00"),
            ("2026-01-15t10:00:00z", "2026-01-15 10:00:00"),
            ("2026-01- 5T10:00:00Z", "2026-01-05 10:00:00"),
            ("2026-1-5T1:2:3Z", "2026-01-05 01:02:03"),
            ("2026-01-15T10:0:0Z", "2026-01-15 10:00:00"),
            ("2026-01-1\u{665}T10:00:00Z", "2026-01-15 10:00:00"),
            (
                "\u{662}\u{660}\u{662}\u{666}-01-15T10:00:00Z",
                "2026-01-15 10:00:00",
            ),
            (
                "2026-01-15T1\u{665}:0\u{665}:5\u{665}Z",
                "2026-01-15 15:05:55",
            ),
            ("2024-02-29T23:59:59Z", "2024-02-29 23:59:59"),
            ("0001-01-01T00:00:00Z", "0001-01-01 00:00:00"),
        ];
        for (s, expected) in cases {
            assert_eq!(strptime_timestamp(s), Ok(at(expected)), "{s:?}");
        }
    }

    #[test]
    fn strptime_refuses_what_cpython_refuses_with_its_message() {
        let mismatch = |s: &str| {
            format!(
                "time data {} does not match format '%Y-%m-%dT%H:%M:%SZ'",
                repr(s)
            )
        };
        let no_match = [
            "2026-01-15 10:00:00",
            "2026-01-15T 1:00:00Z",
            " 2026-01-15T10:00:00Z",
            "2026-0\u{661}-15T10:00:00Z",
            "2026-01-\u{665}T10:00:00Z",
            "2026-00-15T10:00:00Z",
            "2026-13-15T10:00:00Z",
            "2026-01-00T10:00:00Z",
            "2026-01-32T10:00:00Z",
            "2026-01-15T24:00:00Z",
            "2026-01-15T10:60:00Z",
            "2026-01-15T10:00:62Z",
            "2026-01-015T10:00:00Z",
            "26-01-15T10:00:00Z",
            "2026-01-15T10:00:00",
            "2026-01-15\u{54}10:00:00\u{1e91}",
            "it's\n\u{85}\u{200b}\"",
            "",
        ];
        for s in no_match {
            assert_eq!(strptime_timestamp(s), Err(mismatch(s)), "{s:?}");
        }
        assert_eq!(
            strptime_timestamp("it's\n\u{85}\u{200b}\"").unwrap_err(),
            "time data 'it\\'s\\n\\x85\\u200b\"' does not match format '%Y-%m-%dT%H:%M:%SZ'"
        );
        let other: &[(&str, &str)] = &[
            ("2026-01-15T10:00:00ZZ", "unconverted data remains: Z"),
            ("2026-01-15T10:00:00Z ", "unconverted data remains:  "),
            ("2026-01-15T10:00:00Zabc", "unconverted data remains: abc"),
            ("0000-01-01T00:00:00Z", "year 0 is out of range"),
            ("0000-02-30T00:00:00Z", "year 0 is out of range"),
            ("2026-02-29T00:00:00Z", "day is out of range for month"),
            ("2026-02-30T00:00:61Z", "day is out of range for month"),
            ("2026-01-15T10:00:61Z", "second must be in 0..59"),
            ("2024-02-29T10:00:60Z", "second must be in 0..59"),
        ];
        for (s, expected) in other {
            assert_eq!(strptime_timestamp(s).unwrap_err(), *expected, "{s:?}");
        }
    }
}
