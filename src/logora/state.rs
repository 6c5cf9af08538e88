//! One namespace's Logora: its data, tokens and settings, and the control
//! surface the control plane calls (tokens minted for a test, revocation,
//! reset).

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::error::{LogoraError, TokenProblem};
use super::model::{Client, ClientKey, LogoraData, scope_bits, scope_str};
use super::pages::Pages;
use super::runtime::{Minted, Revocation, Runtime};
use super::token;
use super::token::{Binding, TokenInfo};
use super::verified::{Stamp, Verified};
use crate::budget::{DataCharges, Reclaim};
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Cell;

/// One namespace's Logora: what its handlers receive. Cloning it is one
/// atomic increment.
#[derive(Debug, Clone)]
pub struct Logora(Arc<Inner>);

/// What [`Logora`] holds.
#[derive(Debug)]
pub struct Inner {
    /// Applications, clients and users.
    pub data: Cell<LogoraData>,
    /// Tokens minted and revoked.
    pub runtime: Runtime,
    /// Tokens whose MAC was checked, so the next request skips it.
    verified: Verified,
    /// Users pages written, which the same request gets again.
    pub(super) pages: Pages,
    pub clock: Arc<Clock>,
    pub settings: Arc<Settings>,
    /// Base of absolute URLs: the public URL, plus the namespace's prefix.
    pub base_url: String,
    /// The users list's URL, which every page's links start with.
    pub users_url: String,
    /// The namespace's identity that tokens are bound to; `None` at the
    /// root.
    realm: Option<Box<[u8]>>,
    /// What the control plane charged for the namespace's data: a user
    /// deleted here gives back what its creation or change there charged.
    charges: Arc<DataCharges>,
}

/// A spent budget empties the caches too: they are an optimization, and
/// what they hold must not shut out calls.
impl Reclaim for Inner {
    fn reclaimable(&self) -> usize {
        self.pages.bytes() + self.verified.bytes()
    }

    fn shed(&self, bytes: usize) -> usize {
        let freed = self.pages.clear();
        if freed >= bytes {
            return freed;
        }
        freed + self.verified.clear()
    }
}

impl std::ops::Deref for Logora {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Logora {
    /// A Logora serving `data`, with fresh runtime state.
    pub fn new(
        data: Arc<LogoraData>,
        clock: Arc<Clock>,
        settings: Arc<Settings>,
        base_url: String,
        realm: Option<Box<[u8]>>,
        budget: Arc<crate::budget::MemoryBudget>,
        charges: Arc<DataCharges>,
    ) -> Self {
        let inner = Arc::new(Inner {
            data: Cell::new(data),
            runtime: Runtime::default(),
            verified: Verified::new(Arc::clone(&budget)),
            pages: Pages::new(Arc::clone(&budget)),
            clock,
            settings,
            users_url: format!("{base_url}/api/v1/users"),
            base_url,
            realm,
            charges,
        });
        budget.enlist(Arc::downgrade(&inner) as std::sync::Weak<dyn Reclaim>);
        Self(inner)
    }

    /// The Doorkeeper profile of application `id`: its own, else
    /// `--doorkeeper`'s.
    /// Deletes user `uid` of application `app`, giving back what the
    /// control plane charged for it, under the data's lock (a user of the
    /// same id made again meanwhile keeps its own charge). Returns the
    /// user's id, `None` when there is no such user.
    pub(super) fn delete_user(&self, app: u64, uid: &str) -> Option<u64> {
        self.data.write(|data| {
            let id = data.delete(app, uid)?;
            self.charges.forget(&crate::budget::item_key(
                super::model::USERS_FILE,
                &id.to_string(),
            ));
            Some(id)
        })
    }

    pub(super) fn doorkeeper(&self, id: u64) -> crate::config::Doorkeeper {
        self.data
            .read(|d| {
                d.application(id)
                    .and_then(|a| a.doorkeeper.as_deref())
                    .and_then(crate::config::Doorkeeper::parse)
            })
            .unwrap_or(self.settings.doorkeeper)
    }

    pub(super) fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn binding(&self) -> Binding<'_> {
        Binding {
            generation: self.runtime.generation(),
            realm: self.realm.as_deref(),
        }
    }

    /// What a token says, when it is one of this namespace's since its
    /// last reset: its MAC checked once, then found among the verified
    /// tokens as long as the clients and the resets are the same.
    pub(super) fn decode(&self, token: &str) -> Option<TokenInfo> {
        // Read once: the binding verified against is the one stamped.
        let binding = self.binding();
        self.data.read_versioned(|data, version| {
            let stamp = Stamp {
                data: version,
                generation: binding.generation,
            };
            if let Some(info) = self.verified.get(token, stamp) {
                return Some(info);
            }
            let info = token::decode(data, token, binding)?;
            self.verified.put(token, stamp, info.clone());
            Some(info)
        })
    }

    /// A token checked as a protected route checks it: revoked first, then
    /// expiry by the emulated clock (Doorkeeper's order).
    pub fn check_token(&self, token: &str) -> Result<TokenInfo, (TokenProblem, String)> {
        let Some(info) = self.decode(token) else {
            return Err((
                TokenProblem::Invalid,
                "no token of any client (unknown, malformed, or signed with another secret)"
                    .to_owned(),
            ));
        };
        let now = self.now();
        if self.runtime.is_revoked(token, now) {
            return Err((
                TokenProblem::Revoked,
                format!("token of {} was revoked", info.client_id),
            ));
        }
        if now > info.expires_at() {
            return Err((
                TokenProblem::Expired,
                format!(
                    "token of {} expired {} s ago",
                    info.client_id,
                    now - info.expires_at()
                ),
            ));
        }
        Ok(info)
    }

    // The control surface: what the control plane and fault injection may
    // call.

    /// The client a bearer token was issued to, for a valid, unexpired,
    /// unrevoked token.
    pub fn client_of_token(&self, token: &str) -> Option<String> {
        self.check_token(token).ok().map(|info| info.client_id)
    }

    /// Issues a token to `client_id` as `/oauth/token` does after the
    /// client authenticated; `scope` is the space-separated request (`None`
    /// or blank: the default `public`). Returns the `/oauth/token` success
    /// body.
    pub fn mint(&self, client_id: &str, scope: Option<&str>) -> Result<Value, LogoraError> {
        self.mint_admitted(client_id, scope, |e| e, || Ok(()))
    }

    /// [`Logora::mint`] once the client and scope are checked (a refusal
    /// made an error by `refused`) and `admit` accepted the token (the
    /// control plane charges it there): an error of `admit` mints nothing.
    pub fn mint_admitted<E>(
        &self,
        client_id: &str,
        scope: Option<&str>,
        refused: impl FnOnce(LogoraError) -> E,
        admit: impl FnOnce() -> Result<(), E>,
    ) -> Result<Value, E> {
        let Some(client) = self.data.read(|data| data.client(client_id).cloned()) else {
            return Err(refused(LogoraError::invalid_client()));
        };
        let bits = match self.scope_for(&client, scope) {
            Ok(bits) => bits,
            Err((e, _)) => return Err(refused(e)),
        };
        admit()?;
        let issued = self.issue(&client, bits);
        Ok(serde_json::to_value(&issued).unwrap_or(Value::Null))
    }

    pub(super) fn mint_for(
        &self,
        client: &Client,
        scope: Option<&str>,
    ) -> Result<Issued, (LogoraError, String)> {
        let bits = self.scope_for(client, scope)?;
        Ok(self.issue(client, bits))
    }

    /// The scope bits `scope` asks of `client`, or its refusal.
    fn scope_for(&self, client: &Client, scope: Option<&str>) -> Result<u8, (LogoraError, String)> {
        let allowed = scope_bits(&client.scopes).unwrap_or(0);
        let bits = match scope.filter(|s| !s.trim().is_empty()) {
            // Doorkeeper's default scope, limited to the client's own.
            None => {
                if allowed & 1 == 0 {
                    return Err((
                        LogoraError::invalid_scope(),
                        format!(
                            "invalid_scope: no scope asked and {} may not have the default scope public (allowed: {})",
                            client.client_id, client.scopes
                        ),
                    ));
                }
                1
            }
            Some(asked) => match scope_bits(asked) {
                Err(unknown) => {
                    return Err((
                        LogoraError::invalid_scope(),
                        format!("invalid_scope: unknown scope {unknown:?}"),
                    ));
                }
                Ok(bits) if bits & !allowed != 0 => {
                    return Err((
                        LogoraError::invalid_scope(),
                        format!(
                            "invalid_scope: {} may only have {:?}, asked {asked:?}",
                            client.client_id, client.scopes
                        ),
                    ));
                }
                Ok(bits) => bits,
            },
        };
        Ok(bits)
    }

    /// A token of `client` with scope `bits`, remembered among the last
    /// minted.
    fn issue(&self, client: &Client, bits: u8) -> Issued {
        let lifetime = client
            .token_lifetime
            .unwrap_or(self.settings.logora_token_lifetime);
        let created_at = self.now();
        // The key loaded with the clients, unless the secret changed since
        // the caller read `client`: the token is signed with its secret.
        let key = self
            .data
            .read(|data| {
                data.client_with_key(&client.client_id)
                    .filter(|(current, _)| current.client_secret == client.client_secret)
                    .map(|(_, key)| key.clone())
            })
            .unwrap_or_else(|| ClientKey::new(client));
        let access_token = token::encode(
            client,
            &key,
            bits,
            created_at,
            lifetime,
            rand::random(),
            self.binding(),
        );
        let scope = scope_str(bits);
        self.runtime.remember(Minted {
            token: access_token.clone(),
            client_id: client.client_id.clone(),
            scope: scope.to_owned(),
            created_at,
            expires_at: created_at + i64::from(lifetime),
        });
        Issued {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            scope,
            created_at,
        }
    }

    /// Tokens minted recently (the last [`RECENT_TOKENS`](super::RECENT_TOKENS)) that still work:
    /// `{access_token, client_id, scope, created_at, expires_at}` each.
    pub fn live_tokens(&self) -> Vec<Value> {
        let recent: Vec<Minted> = self.runtime.lock().recent.iter().cloned().collect();
        recent
            .into_iter()
            .filter(|m| self.check_token(&m.token).is_ok())
            .map(|m| {
                json!({
                    "access_token": m.token,
                    "client_id": m.client_id,
                    "scope": m.scope,
                    "created_at": m.created_at,
                    "expires_at": m.expires_at,
                })
            })
            .collect()
    }

    /// Revokes a token as Doorkeeper does: only one that is still
    /// accessible; an expired token is left as it is.
    pub fn revoke(&self, token: &str) -> Revocation {
        let Some(info) = self.decode(token) else {
            return Revocation::Unknown;
        };
        let now = self.now();
        if self.runtime.is_revoked(token, now) {
            return Revocation::Revoked(info);
        }
        if now > info.expires_at() {
            return Revocation::Expired(info);
        }
        self.runtime.revoke(token, info.expires_at(), now);
        Revocation::Revoked(info)
    }

    /// Back to a fresh start: revocations and minted tokens forgotten, and
    /// every token issued so far void.
    pub fn reset(&self, data: Arc<LogoraData>) {
        self.data.replace(data);
        self.runtime.reset();
    }
}

/// The `/oauth/token` success body, in Doorkeeper's order: serialized
/// straight from this, rather than through a JSON tree, on every token.
#[derive(Debug, Serialize)]
pub(super) struct Issued {
    access_token: String,
    token_type: &'static str,
    pub(super) expires_in: u32,
    pub(super) scope: &'static str,
    created_at: i64,
}
