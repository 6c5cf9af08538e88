//! Hashing of uids and slugs, and a table hasher for keys that are
//! already hashes.

use std::hash::{Hash, Hasher};

pub(super) fn hash_of(value: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    value.hash(&mut hasher);
    // Never 0, which stands for "no uid".
    hasher.finish() | 1
}

/// Hashing for keys made of hashes (an application id and the hash of a
/// uid or slug): a multiply spreads them over the table, where SipHash
/// would hash a million hashes again at start-up.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = PrehashedHasher;

    fn build_hasher(&self) -> PrehashedHasher {
        PrehashedHasher(0)
    }
}

#[derive(Debug)]
pub(super) struct PrehashedHasher(u64);

impl Hasher for PrehashedHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
