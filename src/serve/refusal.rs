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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_own_refusal_is_replaced_in_the_format_of_the_requested_api() {
        let hyper = b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n\r\n";
        let head = b"GET /__ns/t1/api/v1/users?aaaaaaaaaaaaaaaaaaaaaaaa";
        let answer = String::from_utf8(replacement(hyper, head).unwrap()).unwrap();
        assert!(
            answer.starts_with(
                "HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json; charset=utf-8\r\n"
            ),
            "{answer}"
        );
        assert!(answer.contains("\r\ndate: Mon, 30 Nov 2026 15:00:00 GMT\r\n"));
        assert!(answer.ends_with(
            "\r\n\r\n{\"success\":false,\"error\":\"URI too long: the request target is longer than the 16384 bytes doublure accepts\"}"
        ));
        // An answer of the service's, even a 400, goes through.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(replacement(ours, head), None);
        let ok = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(replacement(ok, head), None);
    }

    #[test]
    fn the_requested_path_is_read_from_whatever_part_of_the_head_arrived() {
        assert_eq!(
            requested_path(b"GET /oauth/token HTTP/1.1\r\nHost: x"),
            "/oauth/token"
        );
        assert_eq!(requested_path(b"POST /api/user/?aaaa"), "/api/user/");
        assert_eq!(
            requested_path(b"GET http://h.test:8080/__doublure/state HTTP/1.1"),
            "/__doublure/state"
        );
        assert_eq!(requested_path(b"\x16\x03\x01 binary"), "binary");
        assert_eq!(requested_path(b""), "");
    }
}
