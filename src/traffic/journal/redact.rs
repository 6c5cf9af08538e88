//! Redaction and cuts: secrets out of targets, headers and outcomes (by
//! name and by value), long values cut with a visible marker.

use std::sync::Arc;

use aho_corasick::AhoCorasick;
use axum::http::HeaderMap;

use crate::logora::model::LogoraData;
use crate::wcs::model::WcsData;

/// Longest path and query kept; beyond, the rest is cut.
const MAX_TARGET: usize = 8 << 10;
/// Longest header value kept.
const MAX_HEADER_VALUE: usize = 1 << 10;
/// Most bytes of header lines kept.
pub(super) const MAX_HEADERS: usize = 8 << 10;
/// Longest outcome kept.
pub(super) const MAX_OUTCOME: usize = 4 << 10;
/// Shortest secret redacted by value: shorter ones would redact ordinary
/// text.
const MIN_SECRET: usize = 4;

/// Headers whose values are secrets: only the scheme (if any) is kept.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "authentication",
    "cookie",
    "proxy-authorization",
];

/// `text`, cut to at most `max` bytes (on a character boundary) with a
/// marker saying how much went.
pub(super) fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{}…[cut: {} more bytes]",
        &text[..end],
        text.len() - end
    ))
}

/// A piece of a target as a form decodes it (`+` a space, escapes
/// decoded, lossily); uncopied when there is nothing to decode.
fn decoded(raw: &str) -> std::borrow::Cow<'_, str> {
    crate::form::decode(raw)
}

/// The secrets of one version of the data, and their matcher.
#[derive(Debug)]
pub(super) struct Secrets {
    pub(super) logora: Arc<LogoraData>,
    pub(super) wcs: Arc<WcsData>,
    pub(super) redactor: Arc<Redactor>,
}

/// Every secret value the data holds: Logora client secrets, w.c.s. API
/// access keys and user passwords; and the admin token.
pub(super) fn known_secrets(
    logora: &LogoraData,
    wcs: &WcsData,
    admin: Option<&str>,
) -> Vec<String> {
    logora
        .clients()
        .iter()
        .map(|c| c.client_secret.clone())
        .chain(wcs.api_accesses.iter().map(|a| a.access_key.clone()))
        .chain(wcs.users.iter().filter_map(|u| u.password.clone()))
        .chain(admin.map(str::to_owned))
        .collect()
}

/// Replaces every known secret in a text with `[redacted]`.
#[derive(Debug)]
pub struct Redactor {
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    /// The heap memory the matcher holds.
    pub(super) fn memory_usage(&self) -> usize {
        std::mem::size_of::<Self>() + self.matcher.as_ref().map_or(0, AhoCorasick::memory_usage)
    }

    /// A redactor of `secrets`, as written and as a form or a URL encodes
    /// them (a secret sent in a query string arrives encoded).
    pub fn new(secrets: Vec<String>) -> Self {
        let mut patterns: Vec<String> = Vec::new();
        for secret in secrets.into_iter().filter(|s| s.len() >= MIN_SECRET) {
            let encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let percent = encoded.replace('+', "%20");
            for variant in [encoded, percent] {
                if variant != secret && !patterns.contains(&variant) {
                    patterns.push(variant);
                }
            }
            if !patterns.contains(&secret) {
                patterns.push(secret);
            }
        }
        let matcher = (!patterns.is_empty())
            .then(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                    // The texts searched are short (a target, a few header
                    // lines), and the rare bytes a prefilter would skip to
                    // are common in them: the search then costs several
                    // times the plain automaton's walk (callgrind).
                    .prefilter(false)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        Self { matcher }
    }

    /// A path and query with every secret replaced, also one sent
    /// percent-encoded in any way: each segment and each parameter is
    /// decoded to be checked, and one that holds a secret is replaced
    /// whole.
    pub fn redact_target<'a>(&self, target: &'a str) -> std::borrow::Cow<'a, str> {
        let Some(matcher) = &self.matcher else {
            return std::borrow::Cow::Borrowed(target);
        };
        // An escape never spans a `/`, `?` or `&`, so the whole target
        // decoded holds each piece decoded: when it holds no secret, no
        // piece does, and one search instead of one per piece settles the
        // usual call.
        if !matcher.is_match(decoded(target).as_ref()) {
            return std::borrow::Cow::Borrowed(target);
        }
        let holds = |raw: &str| matcher.is_match(decoded(raw).as_ref());
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        let path_holds = path.split('/').any(&holds);
        let query_holds = query.is_some_and(|q| q.split('&').any(&holds));
        if !path_holds && !query_holds {
            return std::borrow::Cow::Borrowed(target);
        }
        let mut out: String = path
            .split('/')
            .map(|segment| {
                if holds(segment) {
                    "[redacted]"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        if let Some(query) = query {
            out.push('?');
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, value)) if holds(value) && !holds(name) => {
                        format!("{name}=[redacted]")
                    }
                    _ if holds(pair) => "[redacted]".to_owned(),
                    _ => pair.to_owned(),
                })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        std::borrow::Cow::Owned(out)
    }

    /// `text` with every secret replaced.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => {
                std::borrow::Cow::Owned(m.replace_all(text, &vec!["[redacted]"; m.patterns_len()]))
            }
            _ => std::borrow::Cow::Borrowed(text),
        }
    }
}

/// `text` with every known secret replaced and cut to `max` bytes; the
/// same string, not a copy, in the usual case where there is nothing to do.
pub(super) fn redacted(redactor: &Redactor, text: String, max: usize) -> String {
    match redactor.redact(&text) {
        std::borrow::Cow::Borrowed(_) if text.len() <= max => text,
        clean => cut(&clean, max).into_owned(),
    }
}

/// [`Recorded::head`](super::Recorded::head) with the known secrets out and the target cut, and
/// the target's new length: the same string, not a copy, in the usual
/// case.
pub(super) fn redacted_head(
    redactor: &Redactor,
    head: String,
    target_len: usize,
) -> (String, usize) {
    let (target, headers) = head.split_at(target_len);
    let (clean_target, clean_headers) = (redactor.redact_target(target), redactor.redact(headers));
    if matches!(
        (&clean_target, &clean_headers),
        (std::borrow::Cow::Borrowed(_), std::borrow::Cow::Borrowed(_))
    ) && target_len <= MAX_TARGET
    {
        return (head, target_len);
    }
    let clean_target = cut(&clean_target, MAX_TARGET);
    let mut out = String::with_capacity(clean_target.len() + clean_headers.len());
    out.push_str(&clean_target);
    out.push_str(&clean_headers);
    (out, clean_target.len())
}

/// An upper bound of what [`push_redacted_headers`] writes.
pub(super) fn headers_len(headers: &HeaderMap) -> usize {
    let all: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len().min(MAX_HEADER_VALUE + 32) + 3)
        .sum();
    all.min(MAX_HEADERS + MAX_HEADER_VALUE + 128)
}

/// Headers as `name: value` lines, in order, secret values reduced to
/// their scheme, each value and the whole cut to a bound.
#[cfg(test)]
pub fn redacted_headers(headers: &HeaderMap) -> String {
    let mut text = String::with_capacity(headers_len(headers));
    push_redacted_headers(&mut text, headers, None);
    text
}

/// Whether a header value is long enough to be cut, which must not leave
/// the start of a secret behind: such values are redacted whole first.
pub(super) fn cut_header(headers: &HeaderMap) -> bool {
    headers
        .iter()
        .any(|(name, value)| will_cut(name.as_str(), value.as_bytes()))
}

/// Whether [`push_redacted_headers`] cuts this value: a secret header's
/// scheme past 64 bytes, another header's value past its bound.
fn will_cut(name: &str, value: &[u8]) -> bool {
    if SECRET_HEADERS.contains(&name) {
        value.iter().position(|&b| b == b' ').unwrap_or(0) > SCHEME_KEPT
    } else {
        value.len() > MAX_HEADER_VALUE
    }
}

/// What is kept of a secret header's value: its scheme, up to this.
const SCHEME_KEPT: usize = 64;

/// [`redacted_headers`], appended to `text`; a value that will be cut is
/// first redacted by `redactor`, so the cut cannot keep part of a secret
/// that the redaction of the whole entry would no longer recognise.
pub(super) fn push_redacted_headers(
    text: &mut String,
    headers: &HeaderMap,
    redactor: Option<&Redactor>,
) {
    let start = text.len();
    for (n, (name, value)) in headers.iter().enumerate() {
        if text.len() - start >= MAX_HEADERS {
            let rest: usize = headers
                .iter()
                .skip(n)
                .map(|(k, v)| k.as_str().len() + v.len() + 3)
                .sum();
            text.push_str(&format!(
                "…: [cut: {} more headers, {rest} bytes]\n",
                headers.len() - n
            ));
            break;
        }
        let value = value.to_str().unwrap_or("[binary]");
        let value = match redactor {
            Some(redactor) if will_cut(name.as_str(), value.as_bytes()) => redactor.redact(value),
            _ => std::borrow::Cow::Borrowed(value),
        };
        let value = value.as_ref();
        text.push_str(name.as_str());
        text.push_str(": ");
        if SECRET_HEADERS.contains(&name.as_str()) {
            match value.split_once(' ') {
                Some((scheme, _)) => {
                    text.push_str(&cut(scheme, SCHEME_KEPT));
                    text.push_str(" [redacted]");
                }
                None => text.push_str("[redacted]"),
            }
        } else {
            text.push_str(&cut(value, MAX_HEADER_VALUE));
        }
        text.push('\n');
    }
}
