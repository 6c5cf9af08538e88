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
//! clock and the revocations, as before.

use std::collections::HashMap;
use std::sync::RwLock;

use super::token::TokenInfo;

/// Tokens remembered at most: a test suite uses a few; past this the
/// cache starts again empty, which costs one MAC per token in use.
pub const CAPACITY: usize = 4096;

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

/// Verified tokens, by their text.
#[derive(Debug, Default)]
pub struct Verified {
    tokens: RwLock<HashMap<Box<str>, Entry>>,
}

impl Verified {
    /// What `token` was verified to say under `stamp`, if it was.
    pub fn get(&self, token: &str, stamp: Stamp) -> Option<TokenInfo> {
        let tokens = self.tokens.read().unwrap_or_else(|e| e.into_inner());
        tokens
            .get(token)
            .filter(|entry| entry.stamp == stamp)
            .map(|entry| entry.info.clone())
    }

    /// Remembers that `token` verified to `info` under `stamp`.
    pub fn put(&self, token: &str, stamp: Stamp, info: TokenInfo) {
        let mut tokens = self.tokens.write().unwrap_or_else(|e| e.into_inner());
        if tokens.len() >= CAPACITY && !tokens.contains_key(token) {
            tokens.clear();
        }
        tokens.insert(token.into(), Entry { stamp, info });
    }

    /// How many tokens are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.tokens.read().unwrap_or_else(|e| e.into_inner()).len()
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
        let cache = Verified::default();
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
        let cache = Verified::default();
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
}
