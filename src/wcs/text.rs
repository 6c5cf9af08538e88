//! Text helpers mirroring w.c.s.'s `qommon.misc`: `unaccent` and
//! `simplify` (used for nonces, role slugs and the users search), and
//! Python's `str(timedelta)`.

use chrono::TimeDelta;

/// Removes the accents of Latin letters (`é` → `e`, `œ` → `oe`).
pub fn unaccent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let r: &str = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
            'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "A",
            'ç' => "c",
            'Ç' => "C",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'È' | 'É' | 'Ê' | 'Ë' => "E",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'Ì' | 'Í' | 'Î' | 'Ï' => "I",
            'ñ' => "n",
            'Ñ' => "N",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
            'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "O",
            'ù' | 'ú' | 'û' | 'ü' => "u",
            'Ù' | 'Ú' | 'Û' | 'Ü' => "U",
            'ý' | 'ÿ' => "y",
            'Ý' | 'Ÿ' => "Y",
            'œ' => "oe",
            'Œ' => "OE",
            'æ' => "ae",
            'Æ' => "AE",
            'ß' => "ss",
            _ => {
                out.push(c);
                continue;
            }
        };
        out.push_str(r);
    }
    out
}

/// w.c.s.'s `simplify(s, sep)`: unaccent, drop punctuation, runs of
/// spaces, apostrophes and separators to one `sep`, trimmed, lower-case.
pub fn simplify(s: &str, sep: char) -> String {
    let s = unaccent(s).replace('/', &sep.to_string());
    let kept: String = s
        .chars()
        .filter(|c| {
            c.is_alphanumeric() || *c == '_' || c.is_whitespace() || *c == '\'' || *c == sep
        })
        .collect();
    let mut out = String::with_capacity(kept.len());
    let mut in_sep = false;
    for c in kept.chars() {
        if c.is_whitespace() || c == '\'' || c == sep {
            in_sep = true;
        } else {
            if in_sep && !out.is_empty() {
                out.push(sep);
            }
            in_sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Python's `str(timedelta)` for a non-negative delta: `0:01:00`,
/// `0:01:00.123456`, `1 day, 2:00:00`.
pub fn python_timedelta(d: TimeDelta) -> String {
    let total_us = d.num_microseconds().unwrap_or(i64::MAX).max(0);
    let us = total_us % 1_000_000;
    let secs = total_us / 1_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let mut out = String::new();
    if days > 0 {
        out.push_str(&format!("{days} day{}, ", if days == 1 { "" } else { "s" }));
    }
    out.push_str(&format!("{h}:{m:02}:{s:02}"));
    if us != 0 {
        out.push_str(&format!(".{us:06}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_matches_upstream_examples() {
        assert_eq!(simplify("Foo bar", '-'), "foo-bar");
        assert_eq!(simplify("Sénisme", ' '), "senisme");
        assert_eq!(simplify("  L'Élu / du jour! ", '-'), "l-elu-du-jour");
        assert_eq!(simplify("a1B2c3", '-'), "a1b2c3");
    }

    #[test]
    fn timedeltas_print_like_python() {
        assert_eq!(python_timedelta(TimeDelta::seconds(60)), "0:01:00");
        assert_eq!(
            python_timedelta(TimeDelta::microseconds(60_123_456)),
            "0:01:00.123456"
        );
        assert_eq!(python_timedelta(TimeDelta::seconds(3599)), "0:59:59");
        assert_eq!(
            python_timedelta(TimeDelta::seconds(86_400 + 7200)),
            "1 day, 2:00:00"
        );
        assert_eq!(
            python_timedelta(TimeDelta::seconds(3 * 86_400)),
            "3 days, 0:00:00"
        );
    }
}
