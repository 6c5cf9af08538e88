//! Answers written as they are read: a JSON document made of a head, many
//! items and a tail, rendered a batch at a time while the client reads it.
//! A journal of 16 MiB or a million users' state is so never built whole
//! in memory.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// Rendered bytes are sent once a batch holds this many.
const BATCH: usize = 64 << 10;

/// A body that renders `items` as it is read: `head`, the items separated
/// by commas (or not separated, for pieces), then `tail`.
struct Streamed<I> {
    head: Option<Bytes>,
    items: I,
    first: bool,
    tail: Option<Bytes>,
    separated: bool,
}

impl<I> http_body::Body for Streamed<I>
where
    I: Iterator<Item = Vec<u8>> + Send + Unpin + 'static,
{
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let mut batch = Vec::new();
        if let Some(head) = this.head.take() {
            batch.extend_from_slice(&head);
        }
        while batch.len() < BATCH {
            match this.items.next() {
                Some(item) => {
                    if !this.first && this.separated {
                        batch.push(b',');
                    }
                    this.first = false;
                    batch.extend_from_slice(&item);
                }
                None => {
                    if let Some(tail) = this.tail.take() {
                        batch.extend_from_slice(&tail);
                    }
                    break;
                }
            }
        }
        if batch.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(batch)))))
        }
    }
}

/// A 200 JSON answer of `head`, the `items` (each already JSON) separated
/// by commas, and `tail`, rendered as the client reads it.
pub fn json<I>(head: String, items: I, tail: impl Into<Bytes>) -> Response
where
    I: Iterator<Item = Vec<u8>> + Send + Unpin + 'static,
{
    respond(Streamed {
        head: Some(Bytes::from(head)),
        items,
        first: true,
        tail: Some(tail.into()),
        separated: true,
    })
}

/// A 200 JSON answer made of `pieces` one after the other, rendered as the
/// client reads it.
pub fn pieces<I>(pieces: I) -> Response
where
    I: Iterator<Item = Vec<u8>> + Send + Unpin + 'static,
{
    respond(Streamed {
        head: None,
        items: pieces,
        first: true,
        tail: None,
        separated: false,
    })
}

fn respond<I>(body: Streamed<I>) -> Response
where
    I: Iterator<Item = Vec<u8>> + Send + Unpin + 'static,
{
    let mut response = Response::new(Body::new(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `value` as JSON bytes (serializing plain data into memory cannot fail;
/// `null` stands in should it ever).
pub fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn items_are_written_between_head_and_tail_in_batches() {
        let items = (0..30_000u32).map(|i| to_json(&i));
        let response = json("{\"n\":[".to_owned(), items, "]}");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["n"].as_array().unwrap().len(), 30_000);
        assert_eq!(value["n"][29_999], 29_999);
        let empty = json("[".to_owned(), std::iter::empty(), "]");
        let body = empty.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"[]");
    }
}
