//! hyper's own refusals (an empty body) rewritten on their way out with a
//! body in the format of the API the request was for.

use axum::http::StatusCode;

use crate::boundary;

/// The answer to send instead of `written`, when `written` is hyper's own
/// refusal of a request head (a 400, 414 or 431 with no body, closing the
/// connection); `head` is the start of that request.
pub(super) fn replacement(written: &[u8], head: &[u8]) -> Option<Vec<u8>> {
    let rest = written
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| written.strip_prefix(b"HTTP/1.0 "))?;
    let code: u16 = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    let status = StatusCode::from_u16(code).ok()?;
    if !matches!(
        status,
        StatusCode::BAD_REQUEST
            | StatusCode::URI_TOO_LONG
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    ) {
        return None;
    }
    let end = find(written, b"\r\n\r\n")?;
    let lines = &written[..end + 2];
    if find(lines, b"\r\ncontent-length: 0\r\n").is_none()
        || find(lines, b"\r\nconnection: close\r\n").is_none()
    {
        return None;
    }
    let date = lines
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"date: "))
        .map(<[u8]>::trim_ascii_end);
    let path = requested_path(head);
    let api = crate::paths::api_of(&path);
    tracing::debug!(
        status = status.as_u16(),
        path,
        "the HTTP layer refused a request head; answering in the API's format"
    );
    Some(boundary::raw_refusal(
        api,
        status,
        &boundary::http_layer_message(status),
        date,
    ))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The path of a request line's target, as far as `head` has it.
pub(super) fn requested_path(head: &[u8]) -> String {
    let line = head
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or(b"");
    let target = line.split(|&b| b == b' ').nth(1).unwrap_or(b"");
    let target = String::from_utf8_lossy(target);
    let target = target.split(['?', '#']).next().unwrap_or("");
    // The absolute form (`GET http://host/path`) names the host first.
    match target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    {
        Some(rest) => rest.find('/').map_or("/", |at| &rest[at..]).to_owned(),
        None => target.to_owned(),
    }
}
