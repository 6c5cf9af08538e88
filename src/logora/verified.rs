//! Tokens already verified, so that a token sent with every request has
//! its MAC checked once rather than every time (Doorkeeper finds a token
//! by one indexed lookup of its row; doublure's tokens carry their own
//! proof instead, and this cache is what makes the second time a lookup).
//!
//! An entry holds what the token's MAC proved, stamped with what the
//! proof depended on: the version of the data (the clients and their
//! secrets) and the resets so far. A stamp that differs is a miss, so a
//! changed secret, a removed client or a reset are seen at once, and the
//! cache lives in its namespace's Logora and goes with it. Expiry and
//! revocation are never cached: every request checks them against the
//! clock and the revocations, as before. What it keeps is charged to the
//! memory budget (`--memory-budget`, as caches): a token the budget has
//! no room for is verified again next time, and not kept.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::token::TokenInfo;
use crate::budget::{Kind, MemoryBudget};

/// Tokens remembered at most: a test suite uses a few; past this the
/// cache starts again empty, which costs one MAC per token in use.
pub const CAPACITY: usize = 4096;
/// What an entry costs beside its token's and client's text: the entry,
/// its boxes and the map's slot.
const ENTRY_OVERHEAD: usize = 128;

/// What a verification depended on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The data's version ([`crate::store::Cell::read_versioned`]).
    pub data: u64,
    /// Resets so far.
    pub generation: u64,
}

#[derive(Debug)]
struct Entry {
    stamp: Stamp,
    info: TokenInfo,
}

#[derive(Debug, Default)]
struct Held {
    tokens: HashMap<Box<str>, Entry>,
    /// What the entries weigh, as charged to the budget.
    bytes: usize,
}

/// Verified tokens, by their text.
#[derive(Debug)]
pub struct Verified {
    held: RwLock<Held>,
    /// Where the entries' memory is charged.
    budget: Arc<MemoryBudget>,
}

/// What the entry of `token` saying `info` weighs.
fn weight(token: &str, info: &TokenInfo) -> usize {
    token.len() + info.client_id.len() + ENTRY_OVERHEAD
}

impl Verified {
    /// An empty cache charging `budget`.
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        Self {
            held: RwLock::default(),
            budget,
        }
    }

    /// What `token` was verified to say under `stamp`, if it was.
    pub fn get(&self, token: &str, stamp: Stamp) -> Option<TokenInfo> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        held.tokens
            .get(token)
            .filter(|entry| entry.stamp == stamp)
            .map(|entry| entry.info.clone())
    }

    /// Remembers that `token` verified to `info` under `stamp`, if the
    /// memory budget has room.
    pub fn put(&self, token: &str, stamp: Stamp, info: TokenInfo) {
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = held.tokens.remove(token) {
            let gone = weight(token, &old.info);
            held.bytes -= gone;
            self.budget.release(Kind::Caches, gone);
        } else if held.tokens.len() >= CAPACITY {
            held.tokens.clear();
            self.budget
                .release(Kind::Caches, std::mem::take(&mut held.bytes));
        }
        let size = weight(token, &info);
        if !self.budget.try_charge(Kind::Caches, size) {
            return;
        }
        held.bytes += size;
        held.tokens.insert(token.into(), Entry { stamp, info });
    }

    /// How many tokens are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.held
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .tokens
            .len()
    }
}

impl Verified {
    /// Bytes of tokens kept.
    pub fn bytes(&self) -> usize {
        self.held.read().unwrap_or_else(|e| e.into_inner()).bytes
    }

    /// Forgets every token, giving their memory back; what was freed.
    pub fn clear(&self) -> usize {
        let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
        held.tokens.clear();
        let freed = std::mem::take(&mut held.bytes);
        self.budget.release(Kind::Caches, freed);
        freed
    }
}

impl Drop for Verified {
    /// A dropped namespace gives its tokens' memory back.
    fn drop(&mut self) {
        let held = self.held.get_mut().unwrap_or_else(|e| e.into_inner());
        self.budget.release(Kind::Caches, held.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(client: &str) -> TokenInfo {
        TokenInfo {
            client_id: client.to_owned(),
            application_id: 1,
            scope_bits: 1,
            created_at: 0,
            lifetime: 60,
        }
    }

    const STAMP: Stamp = Stamp {
        data: 3,
        generation: 1,
    };

    #[test]
    fn a_token_is_found_under_the_stamp_it_was_verified_with_only() {
        let cache = Verified::new(MemoryBudget::unbounded());
        cache.put("abc", STAMP, info("A"));
        assert_eq!(cache.get("abc", STAMP), Some(info("A")));
        assert_eq!(cache.get("abd", STAMP), None);
        let changed_data = Stamp { data: 4, ..STAMP };
        let reset = Stamp {
            generation: 2,
            ..STAMP
        };
        assert_eq!(cache.get("abc", changed_data), None);
        assert_eq!(cache.get("abc", reset), None);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = Verified::new(MemoryBudget::unbounded());
        for i in 0..CAPACITY {
            cache.put(&format!("t{i}"), STAMP, info("A"));
        }
        assert_eq!(cache.len(), CAPACITY);
        cache.put("t0", STAMP, info("B"));
        assert_eq!(cache.len(), CAPACITY);
        cache.put("one more", STAMP, info("A"));
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get("one more", STAMP), Some(info("A")));
    }

    #[test]
    fn tokens_are_charged_to_the_budget_kept_only_with_room_and_given_back_when_gone() {
        let one = weight("abc", &info("A"));
        let budget = Arc::new(MemoryBudget::new(2 * one, 1));
        let cache = Verified::new(Arc::clone(&budget));

        cache.put("abc", STAMP, info("A"));
        cache.put("abc", STAMP, info("A"));
        assert_eq!(budget.usage().cache_bytes, one, "charged once");
        assert!(budget.try_charge(Kind::Journal, one));
        cache.put("abd", STAMP, info("A"));
        assert_eq!(cache.get("abd", STAMP), None, "no room: not kept");
        assert_eq!(cache.get("abc", STAMP), Some(info("A")));
        assert_eq!(budget.usage().cache_bytes, one);
        assert_eq!(cache.clear(), one);
        assert_eq!(cache.get("abc", STAMP), None);
        assert_eq!(budget.usage().cache_bytes, 0);
        cache.put("abc", STAMP, info("A"));

        drop(cache);
        assert_eq!(budget.usage().cache_bytes, 0);
    }

    #[test]
    fn a_full_cache_started_again_gives_its_tokens_memory_back() {
        let budget = MemoryBudget::unbounded();
        let cache = Verified::new(Arc::clone(&budget));
        for i in 0..CAPACITY {
            cache.put(&format!("t{i}"), STAMP, info("A"));
        }
        cache.put("one more", STAMP, info("A"));
        assert_eq!(budget.usage().cache_bytes, weight("one more", &info("A")));
    }
}
