//! The memory budget's part in the control plane: a change that makes a
//! namespace keep more data charges what it adds ([`crate::budget::DataCharges`])
//! before it is kept, and is refused whole, with a 503 and
//! `Retry-After: 1`, when the budget has no room for it even after the
//! largest journals gave back their oldest entries. No source dictates
//! this: an overloaded service answers so, and `docs/reliability.md`
//! lists the figures.

use serde::Serialize;

use super::error::AdminError;
use crate::budget::{NoRoom, dataset_charge, item_charge};
use crate::namespace::Namespace;

/// Bytes of a minted token's record beside its client and scope (the
/// token, its times, the type), as kept among the last tokens minted;
/// charged as one item of a dataset (nothing shared is copied).
const MINTED: usize = 150;

/// The length of `value` as JSON, written nowhere.
pub fn json_len(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Only a value that cannot be written as JSON fails (a map with keys
    // that are not strings), and the values measured here are what the
    // control plane serializes for its answers and exports anyway: they
    // are all plain JSON, so 0 never undercounts a kept value. Were one to
    // fail, its charge would still be the nodes its change copies.
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => 0,
    }
}

pub use crate::budget::{FAULTS, fault_key, item_key};

/// The refusal of a change the budget has no room for: counted with the
/// budget's refused calls and logged (folded) as refused calls are.
pub fn refused(ns: &Namespace, what: &str) -> AdminError {
    let budget = &ns.ground.budget;
    budget.note_refused();
    ns.ground.refusals.data_refused(what);
    AdminError::Unavailable(format!(
        "the memory budget is spent (--memory-budget {} bytes, every namespace together) and no \
         journal can give enough back: no room for {what}; nothing was changed; retry later",
        budget.limit()
    ))
}

/// Charges `ns` for keeping `item` under `key`, taking over the charge of
/// `from` (the key before an id changed): the difference with what was
/// charged before. Run last in a change, so that a refusal leaves the data
/// as it was.
pub fn charge_item(
    ns: &Namespace,
    from: Option<&str>,
    key: &str,
    item: &impl Serialize,
) -> Result<(), AdminError> {
    ns.charges
        .set(from, key, item_charge(json_len(item)))
        .map_err(|NoRoom| refused(ns, &format!("the item {key}")))
}

/// Charges `ns` for keeping fault rule `id`, whose JSON is `json_len`
/// bytes long.
pub fn charge_rule(ns: &Namespace, id: u64, json_len: usize) -> Result<(), AdminError> {
    ns.charges
        .set(None, &fault_key(id), item_charge(json_len))
        .map_err(|NoRoom| refused(ns, "a fault rule"))
}

/// Charges `ns` for a whole dataset of `json_len` bytes of JSON in `items`
/// items, which replaces everything charged before.
pub fn charge_dataset(ns: &Namespace, json_len: usize, items: usize) -> Result<(), AdminError> {
    ns.charges
        .set_whole("state", dataset_charge(json_len, items))
        .map_err(|NoRoom| refused(ns, "an imported state"))
}

/// Charges `ns` for a token about to be minted for a client and scope of
/// `asked` bytes together, under the key of its place among the last
/// tokens minted (a place taken again takes over its charge).
pub fn charge_token(ns: &Namespace, asked: usize) -> Result<(), AdminError> {
    let place = ns.charges.next() % crate::logora::RECENT_TOKENS as u64;
    ns.charges
        .set(
            None,
            &crate::budget::token_key(place),
            dataset_charge(asked.saturating_add(MINTED), 1),
        )
        .map_err(|NoRoom| refused(ns, "a minted token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_length_is_that_of_the_compact_serialization() {
        let value = serde_json::json!({"id": 21, "name": "Zoé", "tags": ["a", "b"]});
        assert_eq!(json_len(&value), value.to_string().len());
        assert_eq!(json_len(&"é"), 4);
    }

    #[test]
    fn keys_name_the_file_and_the_id() {
        assert_eq!(item_key("wcs/users.json", "21"), "wcs/users.json 21");
        assert!(fault_key(3).starts_with(FAULTS));
    }
}
