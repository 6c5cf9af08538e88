//! Users pages already answered, so that the same list request asked
//! again (a load test, a front-end polling its first page) leaves as the
//! same shared bytes and header values instead of being copied together
//! anew from each user's JSON and its query string parsed again. The
//! answer is the same bytes either way.
//!
//! A page is found by the caller's application and the raw query string,
//! which together with the data decide the whole answer (the users, the
//! pagination headers and their links). The pages belong to one version
//! of the data: the first page asked of a newer version empties the
//! cache. The cache is bounded in pages and in bytes, and starts again
//! empty when either bound is reached.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};

use axum::http::HeaderMap;
use bytes::Bytes;

use super::pagination::Page;

/// Pages kept at most.
pub const MAX_PAGES: usize = 64;
/// Bytes of pages kept at most.
pub const MAX_BYTES: usize = 2 << 20;

/// One answered page: everything its answer is made of.
#[derive(Debug)]
pub struct Listed {
    pub body: Bytes,
    /// The answer's headers (its content type, then the pagination
    /// headers), cloned into each answer: no name hashed again, no value
    /// written again.
    pub headers: HeaderMap,
    /// Users in the whole list.
    pub total: usize,
    pub page: Page,
}

#[derive(Debug)]
struct Entry {
    application_id: u64,
    query: Box<str>,
    listed: Arc<Listed>,
}

#[derive(Debug, Default)]
struct Held {
    /// The data version the pages were written from.
    version: u64,
    /// By the hash of the application and the query.
    pages: HashMap<u64, Vec<Entry>>,
    count: usize,
    bytes: usize,
}

/// Answered pages of one namespace's Logora.
#[derive(Debug, Default)]
pub struct Pages {
    held: RwLock<Held>,
    hasher: RandomState,
}

impl Pages {
    fn hash(&self, application_id: u64, query: &str) -> u64 {
        self.hasher.hash_one((application_id, query))
    }

    /// The page the caller's application got for `query` from data
    /// version `version`, if it was answered.
    pub fn get(&self, version: u64, application_id: u64, query: &str) -> Option<Arc<Listed>> {
        let hash = self.hash(application_id, query);
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        if held.version != version {
            return None;
        }
        held.pages
            .get(&hash)?
            .iter()
            .find(|e| e.application_id == application_id && &*e.query == query)
            .map(|e| Arc::clone(&e.listed))
    }

    /// Keeps `listed`, the page for `query` of data version `version`.
    pub fn put(&self, version: u64, application_id: u64, query: &str, listed: Arc<Listed>) {
        let size = listed.body.len() + query.len();
        if size > MAX_BYTES {
            return;
        }
        let hash = self.hash(application_id, query);
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        if held.version != version || held.count >= MAX_PAGES || held.bytes + size > MAX_BYTES {
            held.pages.clear();
            held.count = 0;
            held.bytes = 0;
            held.version = version;
        }
        let bucket = held.pages.entry(hash).or_default();
        if bucket
            .iter()
            .any(|e| e.application_id == application_id && &*e.query == query)
        {
            return;
        }
        bucket.push(Entry {
            application_id,
            query: query.into(),
            listed,
        });
        held.count += 1;
        held.bytes += size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(body: impl Into<Bytes>) -> Arc<Listed> {
        Arc::new(Listed {
            body: body.into(),
            headers: HeaderMap::new(),
            total: 1,
            page: Page::of(1, 1, 20),
        })
    }

    fn body(pages: &Pages, version: u64, app: u64, query: &str) -> Option<Bytes> {
        pages.get(version, app, query).map(|l| l.body.clone())
    }

    #[test]
    fn a_page_is_found_for_its_application_query_and_data_version_only() {
        let pages = Pages::default();
        pages.put(4, 1, "page=2", listed(&b"[1]"[..]));
        assert_eq!(body(&pages, 4, 1, "page=2").as_deref(), Some(&b"[1]"[..]));
        assert_eq!(body(&pages, 4, 2, "page=2"), None);
        assert_eq!(body(&pages, 4, 1, "page=3"), None);
        assert_eq!(body(&pages, 5, 1, "page=2"), None);
        pages.put(5, 1, "page=3", listed(&b"[2]"[..]));
        assert_eq!(
            body(&pages, 5, 1, "page=2"),
            None,
            "a newer version empties the cache"
        );
        assert_eq!(body(&pages, 5, 1, "page=3").as_deref(), Some(&b"[2]"[..]));
    }

    #[test]
    fn the_cache_holds_at_most_its_pages_and_its_bytes() {
        let pages = Pages::default();
        for i in 0..MAX_PAGES {
            pages.put(0, 1, &format!("page={i}"), listed(&b"x"[..]));
        }
        assert!(pages.get(0, 1, "page=0").is_some());
        pages.put(0, 1, "one more", listed(&b"y"[..]));
        assert!(pages.get(0, 1, "page=0").is_none());
        assert!(pages.get(0, 1, "one more").is_some());

        let half = Bytes::from(vec![b' '; MAX_BYTES / 2]);
        pages.put(0, 1, "a", listed(half.clone()));
        pages.put(0, 1, "b", listed(half));
        assert!(pages.get(0, 1, "a").is_none());
        assert!(pages.get(0, 1, "b").is_some());
        pages.put(0, 1, "c", listed(vec![b' '; MAX_BYTES + 1]));
        assert!(
            pages.get(0, 1, "c").is_none(),
            "a page over the bound is not kept"
        );
    }
}
