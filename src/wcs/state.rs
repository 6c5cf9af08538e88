//! One namespace's w.c.s.: its data, nonces, clock and settings, and the
//! URLs it signs for a test as Publik's own signer would.

use std::sync::Arc;

use super::model::WcsData;
use super::runtime::Runtime;
use super::signature;
use crate::budget::{MemoryBudget, Reclaim};
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Cell;

/// One namespace's w.c.s.: what its handlers receive. Cloning it is one
/// atomic increment.
#[derive(Debug, Clone)]
pub struct Wcs(Arc<Inner>);

/// What [`Wcs`] holds.
#[derive(Debug)]
pub struct Inner {
    /// Users, roles, categories, form definitions, forms and API accesses.
    pub data: Cell<WcsData>,
    /// Nonces seen.
    pub runtime: Runtime,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    /// Base of absolute URLs: the public URL, plus the namespace's prefix.
    pub base_url: String,
    /// The namespace's path prefix (`/__ns/{name}`), empty at the root, for
    /// relative redirects.
    pub prefix: String,
}

/// A spent budget empties the listings kept too: they are an
/// optimization, and what they hold must not shut out calls.
impl Reclaim for Inner {
    fn reclaimable(&self) -> usize {
        self.runtime.listed.bytes()
    }

    fn shed(&self, _bytes: usize) -> usize {
        self.runtime.listed.clear()
    }
}

impl std::ops::Deref for Wcs {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Wcs {
    /// A w.c.s. serving `data`, with no nonce seen yet.
    pub fn new(
        data: Arc<WcsData>,
        clock: Arc<Clock>,
        settings: Arc<Settings>,
        base_url: String,
        prefix: String,
        budget: Arc<MemoryBudget>,
    ) -> Self {
        let namespace = prefix.rsplit('/').next().filter(|n| !n.is_empty());
        let inner = Arc::new(Inner {
            data: Cell::new(data),
            runtime: Runtime::new(
                settings.max_nonces,
                namespace.unwrap_or("(root)"),
                Arc::clone(&budget),
            ),
            clock,
            settings,
            base_url,
            prefix,
        });
        budget.enlist(Arc::downgrade(&inner) as std::sync::Weak<dyn Reclaim>);
        Self(inner)
    }

    /// Back to `data`, every nonce forgotten.
    pub fn reset(&self, data: Arc<WcsData>) {
        self.data.replace(data);
        self.runtime.reset();
    }

    /// The key of the API access `orig`, for signing (control surface).
    pub fn access_key(&self, orig: &str) -> Option<String> {
        self.data
            .read(|d| d.access(orig).map(|a| a.access_key.clone()))
    }

    /// `url` (or a path, made absolute on this namespace's base URL) signed
    /// as w.c.s.'s reference signer does, at the emulated time, acting as
    /// `user`; with the key of `orig` unless one is given; with a random
    /// single-use nonce when `nonce` (control surface).
    pub fn sign(&self, request: &SignRequest<'_>) -> Result<String, SignRefusal> {
        let key = match request.key {
            Some(key) => key.to_owned(),
            None => self
                .access_key(request.orig)
                .ok_or_else(|| SignRefusal::UnknownOrig(request.orig.to_owned()))?,
        };
        let url = if request.url.starts_with('/') {
            format!("{}{}", self.base_url, request.url)
        } else {
            request.url.to_owned()
        };
        let (email, name_id) = match request.user {
            SignAs::Nobody => (None, None),
            SignAs::Email(email) => (Some(email), None),
            SignAs::NameId(name_id) => (None, Some(name_id)),
        };
        let url = signature::with_user(&url, email, name_id);
        signature::sign_url(
            &url,
            request.orig,
            &key,
            request.algo,
            self.clock.now(),
            (!request.nonce).then_some(""),
        )
        .map_err(SignRefusal::BadAlgo)
    }
}

/// Who a signed URL acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignAs<'a> {
    /// No user: the API access itself.
    Nobody,
    /// The user with this e-mail address (`email=`).
    Email(&'a str),
    /// The user with this NameID (`NameID=`).
    NameId(&'a str),
}

/// What to sign, for [`Wcs::sign`].
#[derive(Debug, Clone, Copy)]
pub struct SignRequest<'a> {
    /// A URL, or a path made absolute on the namespace's base URL.
    pub url: &'a str,
    /// The API access (`orig`).
    pub orig: &'a str,
    /// Its key; `None`: the one in the fixtures.
    pub key: Option<&'a str>,
    pub user: SignAs<'a>,
    /// HMAC digest (`sha256`, …).
    pub algo: &'a str,
    /// Add a random single-use nonce.
    pub nonce: bool,
}

impl<'a> SignRequest<'a> {
    /// `url` signed by `orig` with its own key, SHA-256 and a nonce.
    pub fn new(url: &'a str, orig: &'a str, user: SignAs<'a>) -> Self {
        Self {
            url,
            orig,
            key: None,
            user,
            algo: "sha256",
            nonce: true,
        }
    }
}

/// Why a URL could not be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignRefusal {
    /// No API access with this `orig`, and no key given.
    UnknownOrig(String),
    /// The algorithm is not one w.c.s. knows.
    BadAlgo(String),
}

impl std::fmt::Display for SignRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownOrig(orig) => write!(
                f,
                "no API access {orig:?} in wcs/api_accesses.json; give its key"
            ),
            Self::BadAlgo(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for SignRefusal {}
