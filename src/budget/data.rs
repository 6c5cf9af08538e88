//! The data the control plane adds to a namespace (created and changed
//! items, imported states, fault rules, minted tokens), charged to the
//! [`MemoryBudget`] under a key each, before it is kept, and given back
//! when it is forgotten or the namespace is dropped. The figures are
//! measured, not from a source: `docs/reliability.md` says how.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::{Kind, MemoryBudget};

/// How many bytes of memory one byte of an item's JSON takes once kept,
/// beside [`DATA_COPIED_NODES`]: the typed item, whose strings are their
/// own allocations, rounded up by the allocator. Measured on the release
/// build (RSS, with mimalloc, after the allocator had settled): w.c.s.
/// users created in a namespace took about 1 byte per byte of JSON plus
/// 1.6 KiB each (1,839 bytes for 257 bytes of JSON, 2,748 for 1,157);
/// twice the JSON leaves room for the rendered answers the APIs cache.
pub const DATA_FACTOR: usize = 2;

/// What one kept item costs beside its JSON: what structural sharing
/// copies for its change (imbl's 64-wide vector chunks and hash-map nodes
/// on the path to it, in each of the indexes it appears in) and its own
/// allocations. Measured as the RSS that first PATCHes of users of 50,000
/// generated ones add to a namespace: 1.8 KiB each when every fourth
/// change falls in a chunk already copied, 3.3 KiB (w.c.s., 177 bytes of
/// JSON) and 4.6 KiB (Logora, 654 bytes) when each falls in a chunk of
/// its own, the worst case; json times [`DATA_FACTOR`] plus this covers
/// both. An overestimate when changes are close together.
pub const DATA_COPIED_NODES: usize = 4 << 10;

/// What each item of an imported state costs beside its JSON (its own
/// allocations and its place in the indexes, built compact from the
/// start). Measured as above: a state of 10 MB of JSON in 60,081 items
/// (20,000 generated w.c.s. users, their forms, the Logora users) took
/// 59.5 MiB in a namespace, about its JSON plus 0.85 KiB an item; json
/// times [`DATA_FACTOR`] plus this charges 78 MiB for it.
pub const DATASET_ITEM: usize = 1 << 10;

/// What a namespace is charged for keeping one item whose JSON is
/// `json_len` bytes long, with the nodes its change copied.
pub const fn item_charge(json_len: usize) -> usize {
    json_len
        .saturating_mul(DATA_FACTOR)
        .saturating_add(DATA_COPIED_NODES)
}

/// What a namespace is charged for a whole dataset whose JSON is
/// `json_len` bytes long, in `items` items (`PUT /__doublure/state`):
/// nothing of it is shared with the seed.
pub const fn dataset_charge(json_len: usize, items: usize) -> usize {
    json_len
        .saturating_mul(DATA_FACTOR)
        .saturating_add(items.saturating_mul(DATASET_ITEM))
}

/// The prefix of every fault rule's key.
pub const FAULTS: &str = "fault ";

/// The prefix of every minted token's key.
pub const TOKENS: &str = "token ";

/// The key an item of fixture file `file` is charged under: `id` is the
/// id as the data keeps it, never as a URL spells it (`021` finds Logora
/// user 21, whose key says `21`).
pub fn item_key(file: &str, id: &str) -> String {
    format!("{file} {id}")
}

/// The key a fault rule is charged under.
pub fn fault_key(id: u64) -> String {
    format!("{FAULTS}{id}")
}

/// The key of a minted token's place among the last tokens minted.
pub fn token_key(place: u64) -> String {
    format!("{TOKENS}{place}")
}

/// Whether `key` is one of the data's (an item or an imported state),
/// which an imported state or a reload replaces.
fn is_data(key: &str) -> bool {
    !key.starts_with(FAULTS) && !key.starts_with(TOKENS)
}

/// The budget had no room for data, even after the journals gave back
/// what they could.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoRoom;

/// What one namespace's data holds beyond the seed it shares, charged to
/// the budget ([`Kind::Data`]) item by item, under keys the control plane
/// names (`wcs/users.json 21`, `fault 3`): a replaced item is charged the
/// difference, a removed one gives its charge back, and a reset, a reload
/// or an imported state gives everything back. Dropped with its
/// namespace, it gives back whatever is still charged, so that no way of
/// dropping a namespace can leak or release twice.
#[derive(Debug)]
pub struct DataCharges {
    budget: Arc<MemoryBudget>,
    held: Mutex<HashMap<String, usize>>,
    /// Numbers keys that have none of their own (a fault rule before its
    /// id, a token among the last minted).
    sequence: AtomicU64,
}

impl DataCharges {
    pub fn new(budget: Arc<MemoryBudget>) -> Self {
        Self {
            budget,
            held: Mutex::new(HashMap::new()),
            sequence: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A number not given before, for keys that have none of their own.
    pub fn next(&self) -> u64 {
        self.sequence.fetch_add(1, Ordering::Relaxed)
    }

    /// Charges `bytes` more, taking them from the largest journals when
    /// the budget is short of them.
    fn charge(&self, bytes: usize) -> Result<(), NoRoom> {
        if bytes == 0
            || self.budget.try_charge(Kind::Data, bytes)
            || (self.budget.reclaim(bytes) && self.budget.try_charge(Kind::Data, bytes))
        {
            Ok(())
        } else {
            Err(NoRoom)
        }
    }

    /// Makes what `key` is charged `bytes`, taking over the charge of
    /// `from` when given (an item whose id changes), and of anything `key`
    /// already held: only the difference is charged, before the caller
    /// keeps anything, or given back. `Err` when the budget has no room
    /// for it; nothing is charged then.
    pub fn set(&self, from: Option<&str>, key: &str, bytes: usize) -> Result<(), NoRoom> {
        let mut held = self.lock();
        let from = from.filter(|&f| f != key);
        let before = held.get(key).copied().unwrap_or(0)
            + from.and_then(|f| held.get(f)).copied().unwrap_or(0);
        if bytes > before {
            self.charge(bytes - before)?;
        } else {
            self.budget.release(Kind::Data, before - bytes);
        }
        if let Some(from) = from {
            held.remove(from);
        }
        held.insert(key.to_owned(), bytes);
        Ok(())
    }

    /// Gives back what `key` was charged.
    pub fn forget(&self, key: &str) {
        if let Some(bytes) = self.lock().remove(key) {
            self.budget.release(Kind::Data, bytes);
        }
    }

    /// Gives back what every key starting with `prefix` was charged.
    pub fn forget_all(&self, prefix: &str) {
        self.forget_where(|key| key.starts_with(prefix));
    }

    /// Gives back what every key but those starting with one of `kept`
    /// was charged.
    pub fn forget_all_but(&self, kept: &[&str]) {
        self.forget_where(|key| !kept.iter().any(|prefix| key.starts_with(prefix)));
    }

    fn forget_where(&self, gone: impl Fn(&str) -> bool) {
        let mut held = self.lock();
        let mut freed = 0;
        held.retain(|key, bytes| {
            let keep = !gone(key);
            if !keep {
                freed += *bytes;
            }
            keep
        });
        self.budget.release(Kind::Data, freed);
    }

    /// Gives back what the data held (items and imported states), not the
    /// fault rules and minted tokens, which a reload and an imported state
    /// keep.
    pub fn forget_data(&self) {
        self.forget_all_but(&[FAULTS, TOKENS]);
    }

    /// Makes `bytes` the whole charge of the data, under `key` alone (an
    /// imported state replaces every item; fault rules and minted tokens
    /// stay, charged as they were): the difference is charged first.
    pub fn set_whole(&self, key: &str, bytes: usize) -> Result<(), NoRoom> {
        let mut held = self.lock();
        let before: usize = held
            .iter()
            .filter(|(key, _)| is_data(key))
            .map(|(_, bytes)| bytes)
            .sum();
        if bytes > before {
            self.charge(bytes - before)?;
        } else {
            self.budget.release(Kind::Data, before - bytes);
        }
        held.retain(|key, _| !is_data(key));
        held.insert(key.to_owned(), bytes);
        Ok(())
    }

    /// Gives everything back (back to the seed).
    pub fn clear(&self) {
        self.forget_all_but(&[]);
    }

    /// Bytes charged now.
    pub fn bytes(&self) -> usize {
        self.lock().values().sum()
    }
}

impl Drop for DataCharges {
    fn drop(&mut self) {
        let held = self.held.get_mut().unwrap_or_else(|e| e.into_inner());
        let freed: usize = held.drain().map(|(_, bytes)| bytes).sum();
        self.budget.release(Kind::Data, freed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_charged_its_json_times_the_factor_plus_the_nodes_its_change_copies() {
        assert_eq!(item_charge(0), DATA_COPIED_NODES);
        assert_eq!(item_charge(300), 300 * DATA_FACTOR + DATA_COPIED_NODES);
        assert_eq!(
            dataset_charge(1000, 3),
            1000 * DATA_FACTOR + 3 * DATASET_ITEM
        );
        assert_eq!(item_charge(usize::MAX), usize::MAX);
    }

    #[test]
    fn a_replaced_item_is_charged_the_difference_and_a_forgotten_one_gives_its_charge_back() {
        let budget = Arc::new(MemoryBudget::new(1000, 1));
        let charges = DataCharges::new(Arc::clone(&budget));
        charges.set(None, "a", 300).unwrap();
        charges.set(None, "a", 500).unwrap();
        assert_eq!(budget.usage().data_bytes, 500);
        charges.set(None, "a", 100).unwrap();
        assert_eq!(budget.usage().data_bytes, 100);
        charges.set(Some("a"), "b", 200).unwrap();
        assert_eq!((charges.bytes(), budget.used()), (200, 200));
        charges.forget("a");
        assert_eq!(budget.used(), 200, "a was taken over by b");
        charges.forget("b");
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn an_id_changed_onto_a_key_already_held_gives_back_what_that_key_held() {
        let budget = Arc::new(MemoryBudget::new(1000, 1));
        let charges = DataCharges::new(Arc::clone(&budget));
        charges.set(None, "a", 300).unwrap();
        charges.set(None, "b", 200).unwrap();
        charges.set(Some("a"), "b", 100).unwrap();
        assert_eq!((charges.bytes(), budget.used()), (100, 100));
        charges.set(Some("c"), "b", 150).unwrap();
        assert_eq!((charges.bytes(), budget.used()), (150, 150));
    }

    #[test]
    fn an_imported_state_and_a_reload_keep_the_charges_of_fault_rules_and_tokens() {
        let budget = Arc::new(MemoryBudget::new(1000, 1));
        let charges = DataCharges::new(Arc::clone(&budget));
        charges.set(None, &fault_key(1), 10).unwrap();
        charges.set(None, &token_key(0), 20).unwrap();
        charges
            .set(None, &item_key("wcs/users.json", "1"), 40)
            .unwrap();
        charges.set_whole("state", 100).unwrap();
        assert_eq!((charges.bytes(), budget.used()), (130, 130));
        charges.set_whole("state", 50).unwrap();
        assert_eq!((charges.bytes(), budget.used()), (80, 80));
        charges.forget_data();
        assert_eq!((charges.bytes(), budget.used()), (30, 30));
        charges.forget_all_but(&[FAULTS]);
        assert_eq!((charges.bytes(), budget.used()), (10, 10));
    }

    #[test]
    fn data_that_does_not_fit_is_refused_and_charges_nothing() {
        let budget = Arc::new(MemoryBudget::new(1000, 1));
        let charges = DataCharges::new(Arc::clone(&budget));
        charges.set(None, "a", 900).unwrap();
        assert_eq!(charges.set(None, "b", 200), Err(NoRoom));
        assert_eq!(charges.set(None, "a", 1001), Err(NoRoom));
        assert_eq!(charges.set_whole("state", 1001), Err(NoRoom));
        assert_eq!((charges.bytes(), budget.used()), (900, 900));
        charges.set_whole("state", 1000).unwrap();
        assert_eq!((charges.bytes(), budget.used()), (1000, 1000));
    }

    #[test]
    fn cleared_or_dropped_charges_give_everything_back_once() {
        let budget = Arc::new(MemoryBudget::new(1000, 1));
        let charges = DataCharges::new(Arc::clone(&budget));
        charges.set(None, "fault 1", 10).unwrap();
        charges.set(None, "fault 2", 20).unwrap();
        charges.set(None, "wcs 1", 40).unwrap();
        charges.forget_all("fault ");
        assert_eq!(budget.used(), 40);
        charges.clear();
        charges.clear();
        assert_eq!(budget.used(), 0);
        charges.set(None, "wcs 1", 40).unwrap();
        drop(charges);
        assert_eq!(budget.usage(), MemoryBudget::new(1000, 1).usage());
    }
}
