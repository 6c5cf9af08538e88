//! Self-verifying access tokens with Doorkeeper's look: 43 URL-safe base64
//! characters, as `SecureRandom.urlsafe_base64(32)` gives (spec §3).
//!
//! Doorkeeper stores every token; doublure instead packs what it needs into
//! the 32 bytes and signs them, so no token store grows with traffic and
//! replicas loaded with the same fixtures accept each other's tokens:
//!
//! | payload | content                                                 |
//! |---------|---------------------------------------------------------|
//! | 0..8    | issue time, epoch seconds (i64, big-endian)             |
//! | 8..12   | lifetime in seconds (u32)                               |
//! | 12      | scope bits (public 1, authentication 2, admin 4)        |
//! | 13..17  | first 4 bytes of SHA-256(client_id), to find the client |
//!
//! The token is `tag ‖ (payload XOR SHA-256(tag))`, where `tag` is the first
//! 15 bytes of HMAC-SHA256(client_secret, payload ‖ client_id). The mask
//! only makes tokens look as random as Doorkeeper's (two tokens of the same
//! second would otherwise share a visible prefix); the tag is the security.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::model::{Client, LogoraData, client_hash};

const PAYLOAD: usize = 17;
const TAG: usize = 32 - PAYLOAD;

fn mask(tag: &[u8]) -> [u8; 32] {
    Sha256::digest(tag).into()
}

/// What a token says about itself once its MAC is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub client_id: String,
    pub application_id: u64,
    pub scope_bits: u8,
    /// Epoch seconds.
    pub created_at: i64,
    pub lifetime: u32,
}

impl TokenInfo {
    /// Epoch seconds at which the token stops working.
    pub fn expires_at(&self) -> i64 {
        self.created_at + i64::from(self.lifetime)
    }
}

fn mac(secret: &str, head: &[u8], client_id: &str, generation: u64) -> [u8; 32] {
    // HMAC takes keys of any length: this branch is never taken.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return [0xff; 32];
    };
    mac.update(head);
    mac.update(client_id.as_bytes());
    // Generation 0 (no reset yet) adds nothing, so replicas started from
    // the same fixtures accept each other's tokens.
    if generation != 0 {
        mac.update(&generation.to_be_bytes());
    }
    mac.finalize().into_bytes().into()
}

/// A new token for `client`, valid until the control plane's next reset
/// (`generation` counts resets).
pub fn encode(
    client: &Client,
    scope_bits: u8,
    created_at: i64,
    lifetime: u32,
    generation: u64,
) -> String {
    let mut payload = [0u8; PAYLOAD];
    payload[0..8].copy_from_slice(&created_at.to_be_bytes());
    payload[8..12].copy_from_slice(&lifetime.to_be_bytes());
    payload[12] = scope_bits;
    payload[13..17].copy_from_slice(&client_hash(&client.client_id));
    let tag = mac(
        &client.client_secret,
        &payload,
        &client.client_id,
        generation,
    );
    let mask = mask(&tag[..TAG]);
    let mut bytes = [0u8; 32];
    bytes[..TAG].copy_from_slice(&tag[..TAG]);
    for (i, b) in payload.iter().enumerate() {
        bytes[TAG + i] = b ^ mask[i];
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The token's content when it was issued by one of `data`'s clients with
/// that client's current secret since the last reset (`generation`); says
/// nothing of expiry or revocation.
pub fn decode(data: &LogoraData, token: &str, generation: u64) -> Option<TokenInfo> {
    if token.len() != 43 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let bytes: [u8; 32] = bytes.try_into().ok()?;
    let tag = &bytes[..TAG];
    let mask = mask(tag);
    let mut payload = [0u8; PAYLOAD];
    for (i, b) in payload.iter_mut().enumerate() {
        *b = bytes[TAG + i] ^ mask[i];
    }
    let hash = [payload[13], payload[14], payload[15], payload[16]];
    let client = data.clients_with_hash(hash).find(|c| {
        let expected = mac(&c.client_secret, &payload, &c.client_id, generation);
        bool::from(expected[..TAG].ct_eq(tag))
    })?;
    let mut created = [0u8; 8];
    created.copy_from_slice(&payload[0..8]);
    let mut lifetime = [0u8; 4];
    lifetime.copy_from_slice(&payload[8..12]);
    Some(TokenInfo {
        client_id: client.client_id.clone(),
        application_id: client.application_id,
        scope_bits: payload[12],
        created_at: i64::from_be_bytes(created),
        lifetime: u32::from_be_bytes(lifetime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FixtureFiles, Problems};

    fn data() -> LogoraData {
        LogoraData::load(&FixtureFiles::builtin(), &mut Problems::default())
    }

    #[test]
    fn a_token_is_43_url_safe_characters_and_decodes_to_what_was_packed() {
        let data = data();
        let client = data.client("API_KEY").unwrap();
        let token = encode(client, 0b011, 1_768_471_200, 7200, 0);
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let info = decode(&data, &token, 0).unwrap();
        assert_eq!(info.client_id, "API_KEY");
        assert_eq!(info.application_id, 1);
        assert_eq!(info.scope_bits, 0b011);
        assert_eq!(info.expires_at(), 1_768_478_400);
    }

    #[test]
    fn tokens_of_the_same_second_share_no_visible_prefix() {
        let data = data();
        let client = data.client("API_KEY").unwrap();
        let a = encode(client, 1, 1_768_471_200, 7200, 0);
        let b = encode(client, 2, 1_768_471_200, 7200, 0);
        assert_ne!(a[..4], b[..4]);
    }

    #[test]
    fn a_token_is_bound_to_the_reset_generation_it_was_issued_in() {
        let data = data();
        let client = &data.clients()[0];
        let before = encode(client, 1, 1_768_471_200, 7200, 0);
        assert!(decode(&data, &before, 0).is_some());
        assert_eq!(decode(&data, &before, 1), None);
        let after = encode(client, 1, 1_768_471_200, 7200, 1);
        assert_ne!(after, before);
        assert!(decode(&data, &after, 1).is_some());
    }

    #[test]
    fn a_tampered_token_or_one_signed_with_another_secret_is_refused() {
        let data = data();
        let mut client = data.client("API_KEY").unwrap().clone();
        let token = encode(&client, 1, 1_768_471_200, 7200, 0);
        let mut chars: Vec<char> = token.chars().collect();
        chars[30] = if chars[30] == 'A' { 'B' } else { 'A' };
        assert_eq!(decode(&data, &chars.iter().collect::<String>(), 0), None);
        client.client_secret = "OLD_SECRET".to_owned();
        assert_eq!(
            decode(&data, &encode(&client, 1, 1_768_471_200, 7200, 0), 0),
            None
        );
        assert_eq!(
            decode(&data, "Av9wbEK-0QTOdxhzB4S3-B1ZFKj1Z4y8Xcl17iVcHsg", 0),
            None
        );
        assert_eq!(decode(&data, "short", 0), None);
    }
}
