//! A large `/api/users/` answer written as the client reads it, from the
//! data it was found in: 50,000 users make about 40 MB, which built whole
//! for each caller let a few clients that never read hold gigabytes. The
//! items are the ones rendered once per data (`render::user_list_json`),
//! shared by every caller; each answer holds only its list of positions
//! and the batch being written, and the length is known in advance, so
//! the bytes on the wire (`Content-Length` included) are those of the
//! answer built whole.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::model::WcsData;
use super::render;

/// An answer this long or longer is streamed; a shorter one is built
/// whole, as it always was.
pub(super) const STREAM_FROM: usize = 256 << 10;

/// Bytes rendered into one frame before it is handed to the connection.
const BATCH: usize = 64 << 10;

const HEAD: &str = "{\"data\": [";
const SEPARATOR: &str = ", ";
const TAIL: &str = "], \"err\": 0}";

/// The length of the directory answer listing `found`.
pub(super) fn directory_len(data: &WcsData, found: &[usize]) -> usize {
    let items: usize = found
        .iter()
        .map(|&i| render::user_list_json(data, i).len())
        .sum();
    HEAD.len() + items + SEPARATOR.len() * found.len().saturating_sub(1) + TAIL.len()
}

/// The directory answer listing `found` of `data`, `len` bytes long, as a
/// whole string.
pub(super) fn directory_whole(data: &WcsData, found: &[usize], len: usize) -> String {
    let mut body = String::with_capacity(len);
    body.push_str(HEAD);
    for (n, &i) in found.iter().enumerate() {
        if n > 0 {
            body.push_str(SEPARATOR);
        }
        body.push_str(render::user_list_json(data, i));
    }
    body.push_str(TAIL);
    body
}

/// The directory answer listing `found` of `data`, `len` bytes long,
/// rendered a batch at a time as the connection asks for it.
pub(super) fn directory_streamed(data: Arc<WcsData>, found: Vec<usize>, len: usize) -> Response {
    let body = Directory {
        data,
        found,
        next: 0,
        started: false,
        left: len as u64,
    };
    let mut response = Response::new(Body::new(body));
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

struct Directory {
    data: Arc<WcsData>,
    found: Vec<usize>,
    /// The next item of `found` to write.
    next: usize,
    /// Whether the head was written.
    started: bool,
    /// Bytes not yet handed over.
    left: u64,
}

impl http_body::Body for Directory {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if this.left == 0 {
            return Poll::Ready(None);
        }
        let mut batch = Vec::with_capacity(BATCH + 4096);
        if !this.started {
            this.started = true;
            batch.extend_from_slice(HEAD.as_bytes());
        }
        while batch.len() < BATCH && this.next < this.found.len() {
            if this.next > 0 {
                batch.extend_from_slice(SEPARATOR.as_bytes());
            }
            let item = render::user_list_json(&this.data, this.found[this.next]);
            batch.extend_from_slice(item.as_bytes());
            this.next += 1;
        }
        if this.next == this.found.len() && batch.len() < BATCH {
            batch.extend_from_slice(TAIL.as_bytes());
        }
        this.left = this.left.saturating_sub(batch.len() as u64);
        Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(batch)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::store::{FixtureFiles, Problems};
    use crate::wcs::model::{BUILTIN_FILES, User};

    #[tokio::test]
    async fn a_streamed_directory_is_the_whole_one_byte_for_byte_in_several_frames() {
        let mut problems = Problems::default();
        let mut data = WcsData::load(&FixtureFiles::compiled_in(BUILTIN_FILES), &mut problems);
        let template = (*data.users[0]).clone();
        let users: Vec<User> = (0..3000)
            .map(|n| User {
                id: 10_000 + n,
                name: format!("Utilisatrice n° {n:05}"),
                email: Some(format!("u{n}@example.org")),
                ..template.clone()
            })
            .collect();
        data.add_generated(users, vec![]).unwrap();
        let data = Arc::new(data);
        for found in [
            (0..data.users.len()).collect::<Vec<_>>(),
            vec![3],
            Vec::new(),
        ] {
            let len = directory_len(&data, &found);
            let whole = directory_whole(&data, &found, len);
            assert_eq!(whole.len(), len);
            let response = directory_streamed(Arc::clone(&data), found.clone(), len);
            assert_eq!(
                http_body::Body::size_hint(response.body()).exact(),
                Some(len as u64)
            );
            let mut body = response.into_body();
            let mut frames = 0;
            let mut streamed = Vec::new();
            while let Some(frame) = body.frame().await {
                streamed.extend_from_slice(&frame.unwrap().into_data().unwrap());
                frames += 1;
            }
            assert_eq!(String::from_utf8(streamed).unwrap(), whole);
            if len > STREAM_FROM {
                assert!(frames > 1, "{frames} frame(s) for {len} bytes");
            }
        }
    }
}
