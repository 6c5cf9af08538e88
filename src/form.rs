//! `application/x-www-form-urlencoded` pairs (query strings and form
//! bodies), read exactly as the `form_urlencoded` crate reads them (the
//! WHATWG URL parser's rules, which Rails and Python's `parse_qsl` agree
//! with on every input the APIs give meaning to), but borrowed from the
//! input when a name or value holds nothing to decode: the usual query
//! (`per_page=25`, `orig=demo`) is then read without copying a byte.

use std::borrow::Cow;

/// A name and its value, each borrowed from the input when nothing in it
/// needed decoding.
pub type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// The pairs of `input`, in order: empty sequences between `&` skipped,
/// a name without `=` read with an empty value, `+` a space and `%XX` a
/// byte, bytes that are not UTF-8 replaced by U+FFFD.
pub fn parse(input: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    input
        .split('&')
        .filter(|sequence| !sequence.is_empty())
        .map(|sequence| {
            let (name, value) = sequence.split_once('=').unwrap_or((sequence, ""));
            (decode(name), decode(value))
        })
}

/// The pairs of `input`, owned.
pub fn parse_owned(input: &str) -> Vec<(String, String)> {
    parse(input)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A name or a value decoded: `+` a space, `%XX` a byte (a `%` not
/// followed by two hex digits kept as it is), bytes that are not UTF-8
/// replaced by U+FFFD; uncopied when there is nothing to decode. One pass
/// over the bytes, where `percent_encoding`'s iterator and a separate pass
/// for the `+` took several times as many instructions (callgrind).
pub fn decode(text: &str) -> Cow<'_, str> {
    let special = |b: &u8| *b == b'%' || *b == b'+';
    let mut rest = text.as_bytes();
    let Some(first) = rest.iter().position(special) else {
        // Already UTF-8, and nothing to replace.
        return Cow::Borrowed(text);
    };
    // The runs between escapes are copied whole: most of a query is.
    let mut out = Vec::with_capacity(rest.len());
    let mut at = first;
    loop {
        out.extend_from_slice(&rest[..at]);
        let byte = match rest[at] {
            b'+' => b' ',
            _ => match (hex(rest.get(at + 1)), hex(rest.get(at + 2))) {
                (Some(high), Some(low)) => {
                    at += 2;
                    high << 4 | low
                }
                _ => b'%',
            },
        };
        out.push(byte);
        rest = &rest[at + 1..];
        match rest.iter().position(special) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.extend_from_slice(rest);
    Cow::Owned(match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn hex(byte: Option<&u8>) -> Option<u8> {
    match byte? {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_form_urlencoded(input: &str) {
        let ours: Vec<(String, String)> = parse_owned(input);
        let theirs: Vec<(String, String)> = form_urlencoded::parse(input.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(ours, theirs, "{input:?}");
    }

    #[test]
    fn every_kind_of_pair_reads_as_form_urlencoded_reads_it() {
        for input in [
            "",
            "&",
            "&&a=1&&",
            "a",
            "a=",
            "=b",
            "=",
            "a=b=c",
            "per_page=25&page=2",
            "email=fred%40example.net&orig=demo",
            "q=a+b&r=%2B&s=+",
            "bad=%&worse=%4&worst=%zz&ok=%41",
            "edge=%%41&end=%4",
            "hex=%aF%Af%0a&plus=%2B+%20",
            "lossy=%ff%fe&mixed=caf%C3%A9",
            "é=ü&日本=語",
            "signature=abc%3D%3D&signature=def==",
            "a=1;b=2",
            "end=%&tail=a%&two=%2&plus=+%41+&g=x%4g%41",
        ] {
            same_as_form_urlencoded(input);
        }
    }

    #[test]
    fn a_pair_with_nothing_to_decode_is_borrowed() {
        let pairs: Vec<_> = parse("orig=demo&email=a%40b").collect();
        assert!(matches!(
            pairs[0],
            (Cow::Borrowed("orig"), Cow::Borrowed("demo"))
        ));
        assert!(matches!(&pairs[1].1, Cow::Owned(v) if v == "a@b"));
    }
}
