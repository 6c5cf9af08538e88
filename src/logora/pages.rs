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
//! empty when either bound is reached. What it keeps is charged to the
//! memory budget (`--memory-budget`, as caches): a page the budget has no
//! room for is answered all the same and not kept.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, RwLock};

use axum::http::HeaderMap;
use bytes::Bytes;

use super::pagination::Page;
use crate::budget::{Kind, MemoryBudget};

/// Pages kept at most.
pub const MAX_PAGES: usize = 64;
/// Bytes of pages kept at most.
pub const MAX_BYTES: usize = 2 << 20;
/// What a page costs beside its body, its query and its headers' text:
/// the entry, the shared answer and the map's slot.
const PAGE_OVERHEAD: usize = 256;
/// What each header costs beside its name and value: its slot in the map.
const HEADER_OVERHEAD: usize = 96;

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
#[derive(Debug)]
pub struct Pages {
    held: RwLock<Held>,
    hasher: RandomState,
    /// Where the pages' memory is charged.
    budget: Arc<MemoryBudget>,
}

/// What a page weighs: its body, its query, and its headers with their
/// slots.
fn weight(query: &str, listed: &Listed) -> usize {
    let headers: usize = listed
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + HEADER_OVERHEAD)
        .sum();
    listed.body.len() + query.len() + headers + PAGE_OVERHEAD
}

impl Pages {
    /// An empty cache charging `budget`.
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        Self {
            held: RwLock::default(),
            hasher: RandomState::new(),
            budget,
        }
    }

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
    /// Kept only if the memory budget has room for it.
    pub fn put(&self, version: u64, application_id: u64, query: &str, listed: Arc<Listed>) {
        let size = weight(query, &listed);
        if size > MAX_BYTES {
            return;
        }
        let hash = self.hash(application_id, query);
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        if held.version != version || held.count >= MAX_PAGES || held.bytes + size > MAX_BYTES {
            held.pages.clear();
            held.count = 0;
            self.budget
                .release(Kind::Caches, std::mem::take(&mut held.bytes));
            held.version = version;
        }
        let bucket = held.pages.entry(hash).or_default();
        if bucket
            .iter()
            .any(|e| e.application_id == application_id && &*e.query == query)
            || !self.budget.try_charge(Kind::Caches, size)
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

impl Pages {
    /// Bytes of pages kept.
    pub fn bytes(&self) -> usize {
        self.held.read().unwrap_or_else(|e| e.into_inner()).bytes
    }

    /// Forgets every page, giving their memory back; what was freed.
    pub fn clear(&self) -> usize {
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        held.pages.clear();
        held.count = 0;
        let freed = std::mem::take(&mut held.bytes);
        self.budget.release(Kind::Caches, freed);
        freed
    }
}

impl Drop for Pages {
    /// A dropped namespace gives its pages' memory back.
    fn drop(&mut self) {
        let held = self.held.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.release(Kind::Caches, held.bytes);
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
        let pages = Pages::new(MemoryBudget::unbounded());
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
        let pages = Pages::new(MemoryBudget::unbounded());
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

    #[test]
    fn pages_are_charged_to_the_budget_kept_only_with_room_and_given_back_when_gone() {
        let budget = Arc::new(MemoryBudget::new(1000, 1));
        let pages = Pages::new(Arc::clone(&budget));
        let mut headers = HeaderMap::new();
        headers.insert("x-total", "1".parse().unwrap());
        let page = Arc::new(Listed {
            body: Bytes::from_static(b"[1]"),
            headers,
            total: 1,
            page: Page::of(1, 1, 20),
        });
        let one = 3 + "page=1".len() + "x-total".len() + 1 + HEADER_OVERHEAD + PAGE_OVERHEAD;

        pages.put(0, 1, "page=1", Arc::clone(&page));
        pages.put(0, 1, "page=1", Arc::clone(&page));
        assert_eq!(budget.usage().cache_bytes, one, "charged once");
        assert!(budget.try_charge(Kind::Journal, 1000 - one - 10));
        pages.put(0, 1, "page=2", Arc::clone(&page));
        assert!(
            pages.get(0, 1, "page=2").is_none(),
            "no room: not kept, and nothing charged"
        );
        assert_eq!(budget.usage().cache_bytes, one);

        pages.put(1, 1, "page=2", Arc::clone(&page));
        assert_eq!(
            budget.usage().cache_bytes,
            one,
            "a newer version gave the older pages back"
        );
        assert!(pages.get(1, 1, "page=2").is_some());
        assert_eq!(pages.clear(), one);
        assert!(pages.get(1, 1, "page=2").is_none());
        assert_eq!(budget.usage().cache_bytes, 0);
        pages.put(1, 1, "page=2", page);
        drop(pages);
        assert_eq!(budget.usage().cache_bytes, 0);
    }
}
