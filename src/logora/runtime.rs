//! What is not fixture data: revoked tokens, a bounded record of recently
//! minted ones, and the reset count tokens are bound to.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::token::TokenInfo;

/// What a revocation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// No token of ours.
    Unknown,
    /// Expired before it could be revoked: Doorkeeper leaves it so.
    Expired(TokenInfo),
    /// Revoked (now or before).
    Revoked(TokenInfo),
}

/// How many minted tokens [`Logora::live_tokens`](super::Logora::live_tokens) remembers.
pub const RECENT_TOKENS: usize = 1000;

/// Runtime state that is not fixture data: revoked tokens (pruned a day
/// after they expire), a bounded record of recently minted tokens, and the
/// reset count tokens are bound to.
#[derive(Debug, Default)]
pub struct Runtime {
    inner: Mutex<RuntimeInner>,
    /// Resets so far: tokens carry it in their MAC, so a reset voids every
    /// token issued before it, as a wiped Doorkeeper table would.
    generation: AtomicU64,
    /// Whether `revoked` holds anything: the usual answer, no, is read
    /// without taking the lock every protected request would otherwise
    /// contend for.
    any_revoked: AtomicBool,
}

#[derive(Debug, Default)]
pub(super) struct RuntimeInner {
    /// Revoked token to the epoch second it would have expired at.
    revoked: HashMap<String, i64>,
    pub(super) recent: VecDeque<Minted>,
}

#[derive(Debug, Clone)]
pub(super) struct Minted {
    pub(super) token: String,
    pub(super) client_id: String,
    pub(super) scope: String,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
}

impl Runtime {
    /// Forgets everything and voids every token issued so far.
    pub(super) fn reset(&self) {
        let mut inner = self.lock();
        inner.revoked.clear();
        self.any_revoked.store(false, Ordering::Release);
        inner.recent.clear();
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Resets so far (see [`token::Binding`](super::token::Binding)).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, RuntimeInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn remember(&self, minted: Minted) {
        let mut inner = self.lock();
        if inner.recent.len() >= RECENT_TOKENS {
            inner.recent.pop_front();
        }
        inner.recent.push_back(minted);
    }

    /// Whether `token` was revoked and the revocation is still kept at
    /// `now` (see [`REVOKED_KEPT_PAST_EXPIRY`]).
    pub(super) fn is_revoked(&self, token: &str, now: i64) -> bool {
        if !self.any_revoked.load(Ordering::Acquire) {
            return false;
        }
        self.lock()
            .revoked
            .get(token)
            .is_some_and(|expires_at| expires_at + REVOKED_KEPT_PAST_EXPIRY >= now)
    }

    pub(super) fn revoke(&self, token: &str, expires_at: i64, now: i64) {
        let mut inner = self.lock();
        // Doorkeeper says "revoked" before "expired", forever; forgetting a
        // revocation a day after the token's expiry keeps the set bounded
        // and the answer right for any test that moves the clock by hours.
        inner
            .revoked
            .retain(|_, expires_at| *expires_at + REVOKED_KEPT_PAST_EXPIRY >= now);
        inner.revoked.insert(token.to_owned(), expires_at);
        self.any_revoked.store(true, Ordering::Release);
    }
}

/// Seconds a revocation is remembered after its token would have expired.
const REVOKED_KEPT_PAST_EXPIRY: i64 = 86_400;
