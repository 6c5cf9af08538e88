//! The request's headers, handed to an API handler without a copy.
//!
//! axum's `HeaderMap` extractor clones the map (an allocation, and a
//! reference count touched per value), because an extractor after it may
//! read the headers. The emulated APIs' handlers are the last to look at
//! them: the journal, CORS, the limits and the faults read them before the
//! handler runs, and no extractor these handlers take after it (a query, a
//! body read whole) does. So the handler takes the map, and leaves an
//! empty one behind.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The request's headers, taken from it: only for a handler's last
/// extractor that reads headers.
#[derive(Debug)]
pub struct Headers(pub HeaderMap);

impl<S: Send + Sync> FromRequestParts<S> for Headers {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(std::mem::take(&mut parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use axum::extract::FromRequest;
    use axum::http::Request;

    #[tokio::test]
    async fn the_headers_are_taken_whole_and_the_body_still_read_after_them() {
        let request = Request::post("/x")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-two", "a")
            .header("x-two", "b")
            .body(axum::body::Body::from("a=1"))
            .unwrap();
        let (mut parts, body) = request.into_parts();
        let Headers(headers) = Headers::from_request_parts(&mut parts, &()).await.unwrap();
        assert_eq!(headers.len(), 3);
        assert_eq!(
            headers.get_all("x-two").iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(parts.headers.is_empty());
        let body = Bytes::from_request(Request::from_parts(parts, body), &())
            .await
            .unwrap();
        assert_eq!(body, "a=1");
    }
}
