//! The clients' index: by id, by the 3-byte hash a token carries, and
//! each client's HMAC key, so that issuing or checking a token hashes
//! neither the client id nor the secret again (built when the clients are
//! loaded or replaced, never on a request).

use std::collections::HashMap;

use hmac::Hmac;
use hmac::digest::KeyInit;
use sha2::Sha256;

use super::scopes::client_hash;
use super::types::Client;

/// What a token's MAC starts from for one client: the hash of its id and
/// HMAC-SHA256 keyed with its secret, ready for the message.
#[derive(Clone)]
pub struct ClientKey {
    pub hash: [u8; 3],
    pub mac: Hmac<Sha256>,
}

impl ClientKey {
    pub fn new(client: &Client) -> Self {
        // HMAC takes keys of any length: the fallback is never used.
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(client.client_secret.as_bytes())
            .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
        Self {
            hash: client_hash(&client.client_id),
            mac,
        }
    }
}

/// Says whose, never the key.
impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// The clients' positions by id and by hash, and their keys in client
/// order.
#[derive(Debug, Default)]
pub struct ClientIndex {
    by_hash: HashMap<[u8; 3], Vec<u32>>,
    by_id: HashMap<String, u32>,
    keys: Vec<ClientKey>,
}

impl ClientIndex {
    pub fn new(clients: &[Client]) -> Self {
        let mut index = Self::default();
        for (i, c) in clients.iter().enumerate() {
            let key = ClientKey::new(c);
            index.by_hash.entry(key.hash).or_default().push(i as u32);
            index.by_id.insert(c.client_id.clone(), i as u32);
            index.keys.push(key);
        }
        index
    }

    /// The position of the client with this id.
    pub fn position(&self, client_id: &str) -> Option<usize> {
        self.by_id.get(client_id).map(|&i| i as usize)
    }

    /// The positions of the clients whose id hashes to `hash`.
    pub fn with_hash(&self, hash: [u8; 3]) -> impl Iterator<Item = usize> + '_ {
        self.by_hash
            .get(&hash)
            .into_iter()
            .flatten()
            .map(|&i| i as usize)
    }

    /// The key of the client at `position`.
    pub fn key(&self, position: usize) -> &ClientKey {
        &self.keys[position]
    }
}
