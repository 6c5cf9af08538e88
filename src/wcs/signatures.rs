//! Signatures already computed, so that the same signed URL sent again
//! (a load test repeats one within its 30-second window) has its HMAC
//! looked up rather than computed anew.
//!
//! An entry is found by the signed part of the query and holds the
//! algorithm and key it was computed with: a signature is a function of
//! those three alone, so an entry never goes stale, and a key changed in
//! the data simply finds no entry. The checks that depend on the time
//! (the window, the nonce) run on every request as before. Only a
//! signature the caller sent and that matched is remembered (anyone who
//! knows a public `orig` could otherwise fill the memo with texts of
//! their choosing), texts longer than [`MAX_TEXT`] are never remembered,
//! and past [`BUDGET`] bytes the memo starts again empty: it stays small
//! beside `--memory-budget`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::signature;

/// Bytes (texts, keys, algorithms and signatures) remembered at most.
pub const BUDGET: usize = 256 * 1024;

/// Longest signed text remembered: a load test's URLs are far shorter.
pub const MAX_TEXT: usize = 1024;

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
    entries: RwLock<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Box<str>, Entry>,
    bytes: usize,
}

/// Says how many, never which: the entries hold keys.
impl std::fmt::Debug for Signatures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("Signatures")
            .field("entries", &entries.map.len())
            .finish()
    }
}

impl Signatures {
    /// [`signature::signature`], looked up when remembered, else computed
    /// (and not remembered: see [`Signatures::remember`]); and whether it
    /// was remembered, which spares looking it up again to remember it.
    pub fn signature(&self, algo: &str, key: &str, signed: &str) -> (Option<Arc<str>>, bool) {
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if let Some(entry) = entries.map.get(signed)
                && &*entry.algo == algo
                && &*entry.key == key
            {
                return (entry.signature.clone(), true);
            }
        }
        (
            signature::signature(algo, key, signed).map(Arc::from),
            false,
        )
    }

    /// Remembers `computed`, the signature of `signed` under `algo` and
    /// `key`, once the caller's own signature matched it.
    pub fn remember(&self, algo: &str, key: &str, signed: &str, computed: Arc<str>) {
        if signed.len() > MAX_TEXT {
            return;
        }
        {
            // The usual case under load, kept to a read lock.
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if let Some(old) = entries.map.get(signed)
                && &*old.algo == algo
                && &*old.key == key
            {
                return;
            }
        }
        let size = signed.len() + algo.len() + key.len() + computed.len();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = entries.map.get(signed) {
            if &*old.algo == algo && &*old.key == key {
                return;
            }
            let old_size = signed.len()
                + old.algo.len()
                + old.key.len()
                + old.signature.as_deref().map_or(0, str::len);
            entries.bytes -= old_size;
        }
        if entries.bytes + size > BUDGET {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += size;
        entries.map.insert(
            signed.into(),
            Entry {
                algo: algo.into(),
                key: key.into(),
                signature: Some(computed),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered(memo: &Signatures) -> usize {
        memo.entries.read().unwrap().map.len()
    }

    #[test]
    fn a_signature_is_the_same_as_computed_and_belongs_to_its_algorithm_and_key() {
        let memo = Signatures::default();
        let direct = |algo, key| signature::signature(algo, key, "a=1").map(Arc::from);
        assert_eq!(
            memo.signature("sha256", "k", "a=1"),
            (direct("sha256", "k"), false)
        );
        memo.remember("sha256", "k", "a=1", direct("sha256", "k").unwrap());
        assert_eq!(
            memo.signature("sha256", "k", "a=1"),
            (direct("sha256", "k"), true)
        );
        assert_eq!(
            memo.signature("sha256", "other", "a=1"),
            (direct("sha256", "other"), false)
        );
        assert_eq!(
            memo.signature("sha1", "other", "a=1").0,
            direct("sha1", "other")
        );
        assert_ne!(direct("sha1", "other"), direct("sha256", "other"));
    }

    #[test]
    fn looking_a_signature_up_remembers_nothing() {
        let memo = Signatures::default();
        for i in 0..100 {
            memo.signature("sha256", "k", &format!("n={i}"));
        }
        assert_eq!(remembered(&memo), 0);
    }

    #[test]
    fn long_texts_are_never_remembered() {
        let memo = Signatures::default();
        let long = "a".repeat(MAX_TEXT + 1);
        memo.remember("sha256", "k", &long, Arc::from("s"));
        assert_eq!(remembered(&memo), 0);
        let short = "a".repeat(MAX_TEXT);
        memo.remember("sha256", "k", &short, Arc::from("s"));
        assert_eq!(remembered(&memo), 1);
    }

    #[test]
    fn the_memo_never_holds_more_than_its_budget_in_bytes() {
        let memo = Signatures::default();
        let text = |i: usize| format!("{i:0>1000}");
        let sig: Arc<str> = Arc::from("0".repeat(64));
        let size = 1000 + "sha256".len() + "k".len() + 64;
        let fits = BUDGET / size;
        for i in 0..fits {
            memo.remember("sha256", "k", &text(i), Arc::clone(&sig));
        }
        assert_eq!(remembered(&memo), fits);
        memo.remember("sha256", "k", &text(0), Arc::clone(&sig));
        assert_eq!(remembered(&memo), fits);
        memo.remember("sha256", "k", &text(fits), Arc::clone(&sig));
        assert_eq!(remembered(&memo), 1);
        assert!(memo.entries.read().unwrap().bytes <= BUDGET);
    }
}
