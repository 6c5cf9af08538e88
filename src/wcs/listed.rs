//! Listings already written: the body of a forms or drafts listing, kept
//! for the data version it was written from, so that the same call
//! repeated (a page polling, a load test) is answered with the same bytes
//! without selecting and writing them again. w.c.s. itself writes each
//! listing anew; what it answers does not change, only how fast.
//!
//! A listing is a function of the data, the user listed, the kind of
//! listing and its parameters, and is kept only when no other user's
//! roles decide what is readable in it. A change to the data moves its
//! version ([`crate::store::Cell`]), and the first listing kept after it
//! empties the memo: an entry never outlives the data it came from. Past
//! [`BUDGET`] bytes the memo starts again empty. What it keeps is charged
//! to the memory budget (`--memory-budget`, as caches, like Logora's
//! answered pages): a listing the budget has no room for is answered all
//! the same and not kept, and a spent budget empties the memo.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;

use super::query::FormsQuery;
use crate::budget::{Kind, MemoryBudget};

/// Bytes of bodies (and a rough size of their keys) kept at most.
pub const BUDGET: usize = 256 * 1024;

/// What a listing is found by: the user's position in the data, the kind
/// of listing, its parameters.
pub type Key = (usize, u8, FormsQuery);

/// A listing's body, and how many items it holds (for the journal).
#[derive(Debug, Clone)]
pub struct Listed {
    pub body: Bytes,
    pub count: usize,
}

/// The listings of one namespace's w.c.s.
pub struct Memo {
    kept: RwLock<Kept>,
    /// Where the listings' memory is charged.
    budget: Arc<MemoryBudget>,
}

#[derive(Default)]
struct Kept {
    version: u64,
    bodies: HashMap<Key, Listed>,
    bytes: usize,
}

/// Says how many, not what.
impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Memo")
            .field("version", &kept.version)
            .field("listings", &kept.bodies.len())
            .finish()
    }
}

/// What keeping `key` and `listed` counts against [`BUDGET`].
fn weight(key: &Key, listed: &Listed) -> usize {
    let query = &key.2;
    let strings = query
        .category_slugs
        .iter()
        .flatten()
        .chain(query.related.iter().flatten())
        .map(String::len)
        .sum::<usize>();
    listed.body.len() + strings + std::mem::size_of::<(Key, Listed)>()
}

impl Memo {
    /// An empty memo charging `budget`.
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        Self {
            kept: RwLock::default(),
            budget,
        }
    }

    /// The listing of `key` written from data version `version`, if kept.
    pub fn get(&self, version: u64, key: &Key) -> Option<Listed> {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        if kept.version != version {
            return None;
        }
        kept.bodies.get(key).cloned()
    }

    /// Keeps `listed`, the listing of `key` written from data version
    /// `version`, if the memory budget has room for it.
    pub fn keep(&self, version: u64, key: Key, listed: Listed) {
        let size = weight(&key, &listed);
        if size > BUDGET {
            return;
        }
        let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
        if version < kept.version {
            // Written from data already replaced: of no use.
            return;
        }
        if kept.version != version || kept.bytes + size > BUDGET {
            kept.bodies.clear();
            self.budget
                .release(Kind::Caches, std::mem::take(&mut kept.bytes));
            kept.version = version;
        }
        if kept.bodies.contains_key(&key) || !self.budget.try_charge(Kind::Caches, size) {
            return;
        }
        kept.bodies.insert(key, listed);
        kept.bytes += size;
    }

    /// Bytes of listings kept.
    pub fn bytes(&self) -> usize {
        self.kept.read().unwrap_or_else(|e| e.into_inner()).bytes
    }

    /// Forgets every listing, giving their memory back; what was freed.
    pub fn clear(&self) -> usize {
        let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
        kept.bodies.clear();
        let freed = std::mem::take(&mut kept.bytes);
        self.budget.release(Kind::Caches, freed);
        freed
    }
}

impl Drop for Memo {
    /// A dropped namespace gives its listings' memory back.
    fn drop(&mut self) {
        let kept = self.kept.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.release(Kind::Caches, kept.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query() -> FormsQuery {
        FormsQuery::parse("").expect("the empty query")
    }

    fn listed(text: &str, count: usize) -> Listed {
        Listed {
            body: Bytes::copy_from_slice(text.as_bytes()),
            count,
        }
    }

    #[test]
    fn a_listing_is_found_only_for_the_version_it_was_written_from() {
        let memo = Memo::new(MemoryBudget::unbounded());
        memo.keep(3, (0, 1, query()), listed("{\"data\": []}", 0));
        let found = memo.get(3, &(0, 1, query())).expect("kept");
        assert_eq!(&found.body[..], b"{\"data\": []}");
        assert!(memo.get(4, &(0, 1, query())).is_none());
        assert!(memo.get(2, &(0, 1, query())).is_none());
    }

    #[test]
    fn another_user_kind_or_query_is_another_listing() {
        let memo = Memo::new(MemoryBudget::unbounded());
        memo.keep(1, (0, 1, query()), listed("a", 1));
        assert!(memo.get(1, &(1, 1, query())).is_none());
        assert!(memo.get(1, &(0, 2, query())).is_none());
        let paged = FormsQuery::parse("limit=1").expect("a limit");
        assert!(memo.get(1, &(0, 1, paged)).is_none());
    }

    #[test]
    fn a_newer_version_empties_the_memo_and_an_older_one_is_not_kept() {
        let memo = Memo::new(MemoryBudget::unbounded());
        memo.keep(1, (0, 1, query()), listed("old", 1));
        memo.keep(2, (1, 1, query()), listed("new", 1));
        assert!(memo.get(1, &(0, 1, query())).is_none());
        memo.keep(1, (0, 1, query()), listed("stale", 1));
        assert!(memo.get(1, &(0, 1, query())).is_none());
        assert_eq!(memo.kept.read().unwrap().bodies.len(), 1);
    }

    #[test]
    fn what_is_kept_is_charged_to_the_budget_and_given_back() {
        let budget = MemoryBudget::unbounded();
        let memo = Memo::new(Arc::clone(&budget));
        memo.keep(1, (0, 1, query()), listed("abc", 1));
        let charged = budget.usage().cache_bytes;
        assert_eq!(charged, memo.bytes());
        assert!(charged > 3, "{charged}");
        memo.keep(2, (0, 1, query()), listed("abcdef", 1));
        assert_eq!(budget.usage().cache_bytes, memo.bytes());
        assert!(memo.bytes() > charged);
        let held = budget.usage().cache_bytes;
        assert_eq!(memo.clear(), held);
        assert_eq!(budget.usage().cache_bytes, 0);
        memo.keep(2, (0, 1, query()), listed("abc", 1));
        drop(memo);
        assert_eq!(budget.usage().cache_bytes, 0);
    }

    #[test]
    fn past_the_budget_the_memo_starts_again_empty() {
        let memo = Memo::new(MemoryBudget::unbounded());
        let big = "x".repeat(BUDGET / 2);
        memo.keep(1, (0, 1, query()), listed(&big, 1));
        memo.keep(1, (1, 1, query()), listed(&big, 1));
        let kept = memo.kept.read().unwrap();
        assert_eq!(kept.bodies.len(), 1, "the first was dropped for the second");
        assert!(kept.bytes <= BUDGET);
        drop(kept);
        memo.keep(1, (2, 1, query()), listed(&"y".repeat(BUDGET + 1), 1));
        assert!(
            memo.get(1, &(2, 1, query())).is_none(),
            "larger than the budget"
        );
    }
}
