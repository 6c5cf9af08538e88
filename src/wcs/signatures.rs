//! Signatures already computed, so that the same signed URL sent again
//! (a load test repeats one within its 30-second window) has its HMAC
//! looked up rather than computed anew.
//!
//! An entry is found by the signed part of the query and holds the
//! algorithm and key it was computed with: a signature is a function of
//! those three alone, so an entry never goes stale, and a key changed in
//! the data simply finds no entry. The checks that depend on the time
//! (the window, the nonce) run on every request as before. Bounded: past
//! [`CAPACITY`] entries the memo starts again empty.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::signature;

/// Signed queries remembered at most.
pub const CAPACITY: usize = 1024;

struct Entry {
    algo: Box<str>,
    key: Box<str>,
    /// `None`: the algorithm has no HMAC (never stored: checked before).
    signature: Option<Arc<str>>,
}

/// The signatures of one namespace's w.c.s., by the signed part of their
/// query.
#[derive(Default)]
pub struct Signatures {
    entries: RwLock<HashMap<Box<str>, Entry>>,
}

/// Says how many, never which: the entries hold keys.
impl std::fmt::Debug for Signatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Signatures")
            .field("entries", &entries.len())
            .finish()
    }
}

impl Signatures {
    /// [`signature::signature`], computed once per algorithm, key and
    /// signed text.
    pub fn signature(&self, algo: &str, key: &str, signed: &str) -> Option<Arc<str>> {
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = entries.get(signed)
                && &*entry.algo == algo
                && &*entry.key == key
            {
                return entry.signature.clone();
            }
        }
        let computed: Option<Arc<str>> = signature::signature(algo, key, signed).map(Arc::from);
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(signed) {
            entries.clear();
        }
        entries.insert(
            signed.into(),
            Entry {
                algo: algo.into(),
                key: key.into(),
                signature: computed.clone(),
            },
        );
        computed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_same_as_computed_and_belongs_to_its_algorithm_and_key() {
        let memo = Signatures::default();
        let direct = |algo, key| signature::signature(algo, key, "a=1").map(Arc::from);
        assert_eq!(memo.signature("sha256", "k", "a=1"), direct("sha256", "k"));
        assert_eq!(memo.signature("sha256", "k", "a=1"), direct("sha256", "k"));
        assert_eq!(
            memo.signature("sha256", "other", "a=1"),
            direct("sha256", "other")
        );
        assert_eq!(
            memo.signature("sha1", "other", "a=1"),
            direct("sha1", "other")
        );
        assert_ne!(direct("sha1", "other"), direct("sha256", "other"));
    }

    #[test]
    fn the_memo_never_holds_more_than_its_capacity() {
        let memo = Signatures::default();
        for i in 0..CAPACITY {
            memo.signature("sha256", "k", &format!("n={i}"));
        }
        assert_eq!(memo.entries.read().unwrap().len(), CAPACITY);
        memo.signature("sha256", "k", "n=0");
        assert_eq!(memo.entries.read().unwrap().len(), CAPACITY);
        memo.signature("sha256", "k", "one more");
        assert_eq!(memo.entries.read().unwrap().len(), 1);
    }
}
