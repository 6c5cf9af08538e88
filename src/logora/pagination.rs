//! The users list's parameters and pagination headers. Logora paginates with
//! pagy (spec §2, §4): its headers extra, with the count header renamed
//! `total` and a `next-page` of Logora's own, lowercase names, `countless`
//! dropping both totals and the `last` link, and pagy's `:empty_page`
//! overflow (an empty page whose `prev` is the last page) for a page past the
//! end (spec §5.7).

use axum::http::HeaderValue;

/// Default and maximum `per_page` (pagy's default and its items extra cap).
pub const DEFAULT_PER_PAGE: u64 = 20;
pub const MAX_PER_PAGE: u64 = 100;

/// What a users list request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub page: u64,
    pub per_page: u64,
    pub countless: bool,
    pub is_expert: Option<bool>,
    pub is_selected: Option<bool>,
    pub sub_application_name: Option<String>,
}

/// The last value of `name` (Rails keeps the last of repeated keys); an
/// empty value counts as absent, as the front-end sends empty parameters.
pub fn last<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn positive(pairs: &[(String, String)], name: &str, default: u64) -> Result<u64, String> {
    match last(pairs, name) {
        None => Ok(default),
        Some(text) => match text.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!("{name} must be a positive integer, got {text:?}")),
        },
    }
}

fn boolean(pairs: &[(String, String)], name: &str) -> Result<Option<bool>, String> {
    match last(pairs, name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(text) => Err(format!("{name} must be true or false, got {text:?}")),
    }
}

/// Reads the list parameters; unknown ones are ignored, as Rails does.
pub fn parse(pairs: &[(String, String)]) -> Result<ListParams, String> {
    Ok(ListParams {
        page: positive(pairs, "page", 1)?,
        per_page: positive(pairs, "per_page", DEFAULT_PER_PAGE)?.min(MAX_PER_PAGE),
        countless: last(pairs, "countless") == Some("true"),
        is_expert: boolean(pairs, "is_expert")?,
        is_selected: boolean(pairs, "is_selected")?,
        sub_application_name: last(pairs, "sub_application_name").map(str::to_owned),
    })
}

/// Where a page starts and ends in a list of `total` items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    /// pagy's page count: at least 1, even for an empty list.
    pub pages: u64,
    pub start: usize,
    pub end: usize,
}

impl Page {
    pub fn of(total: usize, page: u64, per_page: u64) -> Self {
        let pages = (total as u64).div_ceil(per_page).max(1);
        let start = (page - 1).saturating_mul(per_page).min(total as u64) as usize;
        let end = (start as u64).saturating_add(per_page).min(total as u64) as usize;
        Self {
            page,
            pages,
            start,
            end,
        }
    }

    pub fn items(&self) -> usize {
        self.end - self.start
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }

    /// pagy's `prev`: none on page 1, the last page past the end.
    pub fn prev(&self) -> Option<u64> {
        if self.page <= 1 {
            None
        } else if self.page > self.pages {
            Some(self.pages)
        } else {
            Some(self.page - 1)
        }
    }
}

/// The URL of page `page`: the request's parameters in their order with
/// `page` replaced (or appended), as pagy's `pagy_url_for` builds it.
#[cfg(test)]
fn page_url(base: &str, pairs: &[(String, String)], page: u64) -> String {
    let mut url = String::with_capacity(base.len() + 32);
    push_page_url(&mut url, base, pairs, page);
    url
}

/// `n` in decimal, written into `buffer` (a page number per link, with no
/// allocation).
fn decimal(mut n: u64, buffer: &mut [u8; 20]) -> &str {
    let mut at = buffer.len();
    loop {
        at -= 1;
        buffer[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[at..]).unwrap_or("0")
}

/// The URL of page `page`, appended to `out`: the request's parameters
/// in their order with `page` replaced (or appended), as pagy's
/// `pagy_url_for` builds it.
fn push_page_url(out: &mut String, base: &str, pairs: &[(String, String)], page: u64) {
    let mut digits = [0; 20];
    let page = decimal(page, &mut digits);
    out.push_str(base);
    out.push('?');
    let start = out.len();
    let mut query = form_urlencoded::Serializer::for_suffix(out, start);
    let mut placed = false;
    for (k, v) in pairs {
        if k == "page" {
            if !placed {
                query.append_pair("page", page);
                placed = true;
            }
        } else {
            query.append_pair(k, v);
        }
    }
    if !placed {
        query.append_pair("page", page);
    }
    query.finish();
}

/// The pagination headers of `page`, each value written once, straight
/// into the header value (this runs on every list call).
pub fn headers(
    page: &Page,
    total: usize,
    countless: bool,
    base: &str,
    pairs: &[(String, String)],
) -> Vec<(&'static str, HeaderValue)> {
    let query_len: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut link = String::with_capacity(4 * (base.len() + query_len + 40));
    let rel = |link: &mut String, page_number: u64, rel: &str| {
        if !link.is_empty() {
            link.push_str(", ");
        }
        link.push('<');
        push_page_url(link, base, pairs, page_number);
        link.push_str(">; rel=\"");
        link.push_str(rel);
        link.push('"');
    };
    rel(&mut link, 1, "first");
    if let Some(prev) = page.prev() {
        rel(&mut link, prev, "prev");
    }
    if page.has_next() {
        rel(&mut link, page.page + 1, "next");
    }
    if !countless {
        rel(&mut link, page.pages, "last");
    }
    let mut out = Vec::with_capacity(6);
    // Every part is a URL-encoded query or a number: always a valid value.
    if let Ok(link) = HeaderValue::from_maybe_shared(bytes::Bytes::from(link)) {
        out.push(("link", link));
    }
    out.push(("current-page", HeaderValue::from(page.page)));
    out.push(("page-items", HeaderValue::from(page.items())));
    if page.has_next() {
        out.push(("next-page", HeaderValue::from(page.page + 1)));
    }
    if !countless {
        out.push(("total-pages", HeaderValue::from(page.pages)));
        out.push(("total", HeaderValue::from(total)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    #[test]
    fn defaults_are_page_1_of_20() {
        let p = parse(&pairs("foo=bar&page=")).unwrap();
        assert_eq!((p.page, p.per_page, p.countless), (1, 20, false));
    }

    #[test]
    fn per_page_above_100_means_100() {
        assert_eq!(parse(&pairs("per_page=500")).unwrap().per_page, 100);
    }

    #[test]
    fn a_page_that_is_not_a_positive_integer_is_named_in_the_error() {
        assert_eq!(
            parse(&pairs("page=0")),
            Err("page must be a positive integer, got \"0\"".to_owned())
        );
        assert_eq!(
            parse(&pairs("per_page=ten")),
            Err("per_page must be a positive integer, got \"ten\"".to_owned())
        );
        assert_eq!(
            parse(&pairs("is_selected=1")),
            Err("is_selected must be true or false, got \"1\"".to_owned())
        );
    }

    #[test]
    fn a_page_past_the_end_is_empty_and_points_back_to_the_last() {
        let page = Page::of(45, 9, 20);
        assert_eq!((page.items(), page.pages, page.prev()), (0, 3, Some(3)));
        assert!(!page.has_next());
    }

    #[test]
    fn an_empty_list_has_one_page() {
        let page = Page::of(0, 1, 20);
        assert_eq!((page.pages, page.items(), page.has_next()), (1, 0, false));
    }

    #[test]
    fn page_urls_keep_the_other_parameters_in_order() {
        assert_eq!(
            page_url(
                "http://h/api/v1/users",
                &pairs("is_expert=true&page=2&q=a b"),
                3
            ),
            "http://h/api/v1/users?is_expert=true&page=3&q=a+b"
        );
        assert_eq!(page_url("http://h/u", &[], 1), "http://h/u?page=1");
    }

    #[test]
    fn page_numbers_are_written_in_decimal() {
        let mut buffer = [0; 20];
        assert_eq!(decimal(0, &mut buffer), "0");
        assert_eq!(decimal(40_002, &mut buffer), "40002");
        assert_eq!(decimal(u64::MAX, &mut buffer), u64::MAX.to_string());
    }

    #[test]
    fn a_huge_page_number_does_not_overflow() {
        let page = Page::of(10, u64::MAX, 100);
        assert_eq!((page.start, page.end), (10, 10));
    }
}
