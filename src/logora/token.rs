//! Self-verifying access tokens with Doorkeeper's look: 43 URL-safe base64
//! characters, as `SecureRandom.urlsafe_base64(32)` gives (spec §3).
//!
//! Doorkeeper stores every token; doublure instead packs what it needs into
//! the 32 bytes and signs them, so no token store grows with traffic and
//! replicas loaded with the same fixtures accept each other's tokens. Part
//! of the payload is random, so that every request issues a new, distinct
//! token, as Doorkeeper's new row per request does, even for the same
//! client, scope and second:
//!
//! | payload | content                                                 |
//! |---------|---------------------------------------------------------|
//! | 0..6    | issue time, epoch seconds (i48, big-endian)             |
//! | 6..10   | lifetime in seconds (u32)                               |
//! | 10      | scope bits (public 1, authentication 2, admin 4)        |
//! | 11..14  | first 3 bytes of SHA-256(client_id), to find the client |
//! | 14..20  | random                                                  |
//!
//! The token is `tag ‖ (payload XOR SHA-256(tag))`, where `tag` is the first
//! 12 bytes of HMAC-SHA256(client_secret, payload ‖ client_id ‖ binding).
//! The binding ties a token to where it was issued: the resets so far (a
//! reset voids every earlier token, as a wiped Doorkeeper table would) and,
//! in a namespace, the namespace, so that its tokens are invalid anywhere
//! else. The mask only makes tokens look as random as Doorkeeper's; the
//! tag is the security.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::model::{Client, ClientKey, LogoraData};

const PAYLOAD: usize = 20;
const TAG: usize = 32 - PAYLOAD;
const RANDOM: std::ops::Range<usize> = 14..20;

fn mask(tag: &[u8]) -> [u8; 32] {
    Sha256::digest(tag).into()
}

/// What a token is bound to besides its client: see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Binding<'a> {
    /// Resets so far.
    pub generation: u64,
    /// The namespace's identity, `None` at the root.
    pub realm: Option<&'a [u8]>,
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

fn mac(key: &ClientKey, head: &[u8], client_id: &str, binding: Binding<'_>) -> [u8; 32] {
    // The secret's key schedule was hashed when the clients were loaded.
    let mut mac = key.mac.clone();
    mac.update(head);
    mac.update(client_id.as_bytes());
    // Generation 0 (no reset yet) at the root adds nothing, so replicas
    // started from the same fixtures accept each other's tokens.
    if binding.generation != 0 {
        mac.update(&binding.generation.to_be_bytes());
    }
    if let Some(realm) = binding.realm {
        mac.update(b"namespace");
        mac.update(realm);
    }
    mac.finalize().into_bytes().into()
}

/// Seconds as the 6 bytes of an i48, saturating far beyond any clock.
fn time_bytes(seconds: i64) -> [u8; 6] {
    let clamped = seconds.clamp(-(1 << 47), (1 << 47) - 1);
    let b = clamped.to_be_bytes();
    [b[2], b[3], b[4], b[5], b[6], b[7]]
}

fn time_of(bytes: &[u8]) -> i64 {
    let sign = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    i64::from_be_bytes([
        sign, sign, bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5],
    ])
}

/// A new token for `client`, whose key is `key`; `random` makes it
/// distinct from every other.
pub fn encode(
    client: &Client,
    key: &ClientKey,
    scope_bits: u8,
    created_at: i64,
    lifetime: u32,
    random: [u8; 6],
    binding: Binding<'_>,
) -> String {
    let mut payload = [0u8; PAYLOAD];
    payload[0..6].copy_from_slice(&time_bytes(created_at));
    payload[6..10].copy_from_slice(&lifetime.to_be_bytes());
    payload[10] = scope_bits;
    payload[11..14].copy_from_slice(&key.hash);
    payload[RANDOM].copy_from_slice(&random);
    let tag = mac(key, &payload, &client.client_id, binding);
    let mask = mask(&tag[..TAG]);
    let mut bytes = [0u8; 32];
    bytes[..TAG].copy_from_slice(&tag[..TAG]);
    for (i, b) in payload.iter().enumerate() {
        bytes[TAG + i] = b ^ mask[i];
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The token's content when it was issued by one of `data`'s clients with
/// that client's current secret, under `binding`; says nothing of expiry or
/// revocation.
pub fn decode(data: &LogoraData, token: &str, binding: Binding<'_>) -> Option<TokenInfo> {
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
    let hash = [payload[11], payload[12], payload[13]];
    let (client, _) = data.clients_with_hash(hash).find(|(c, key)| {
        let expected = mac(key, &payload, &c.client_id, binding);
        bool::from(expected[..TAG].ct_eq(tag))
    })?;
    let mut lifetime = [0u8; 4];
    lifetime.copy_from_slice(&payload[6..10]);
    Some(TokenInfo {
        client_id: client.client_id.clone(),
        application_id: client.application_id,
        scope_bits: payload[10],
        created_at: time_of(&payload[0..6]),
        lifetime: u32::from_be_bytes(lifetime),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FixtureFiles, Problems};

    fn data() -> LogoraData {
        LogoraData::load(
            &FixtureFiles::compiled_in(super::super::model::BUILTIN_FILES),
            &mut Problems::default(),
        )
    }

    const ROOT: Binding<'static> = Binding {
        generation: 0,
        realm: None,
    };

    fn at_root(generation: u64) -> Binding<'static> {
        Binding {
            generation,
            realm: None,
        }
    }

    #[test]
    fn a_token_is_43_url_safe_characters_and_decodes_to_what_was_packed() {
        let data = data();
        let client = data.client("API_KEY").unwrap();
        let token = encode(
            client,
            &ClientKey::new(client),
            0b011,
            1_768_471_200,
            7200,
            [7; 6],
            ROOT,
        );
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let info = decode(&data, &token, ROOT).unwrap();
        assert_eq!(info.client_id, "API_KEY");
        assert_eq!(info.application_id, 1);
        assert_eq!(info.scope_bits, 0b011);
        assert_eq!(info.expires_at(), 1_768_478_400);
    }

    #[test]
    fn tokens_of_the_same_client_scope_and_second_differ_by_their_random_part() {
        let data = data();
        let client = data.client("API_KEY").unwrap();
        let a = encode(
            client,
            &ClientKey::new(client),
            1,
            1_768_471_200,
            7200,
            [1; 6],
            ROOT,
        );
        let b = encode(
            client,
            &ClientKey::new(client),
            1,
            1_768_471_200,
            7200,
            [2; 6],
            ROOT,
        );
        assert_ne!(a, b);
        assert_ne!(a[..4], b[..4]);
        assert_eq!(decode(&data, &a, ROOT), decode(&data, &b, ROOT));
    }

    #[test]
    fn times_before_the_epoch_round_trip() {
        let data = data();
        let client = data.client("API_KEY").unwrap();
        let token = encode(
            client,
            &ClientKey::new(client),
            1,
            -86_400,
            60,
            [0; 6],
            ROOT,
        );
        assert_eq!(decode(&data, &token, ROOT).unwrap().created_at, -86_400);
    }

    #[test]
    fn a_token_is_bound_to_the_reset_generation_it_was_issued_in() {
        let data = data();
        let client = &data.clients()[0];
        let before = encode(
            client,
            &ClientKey::new(client),
            1,
            1_768_471_200,
            7200,
            [0; 6],
            at_root(0),
        );
        assert!(decode(&data, &before, at_root(0)).is_some());
        assert_eq!(decode(&data, &before, at_root(1)), None);
        let after = encode(
            client,
            &ClientKey::new(client),
            1,
            1_768_471_200,
            7200,
            [0; 6],
            at_root(1),
        );
        assert_ne!(after, before);
        assert!(decode(&data, &after, at_root(1)).is_some());
    }

    #[test]
    fn a_token_of_a_namespace_is_invalid_at_the_root_and_in_another_namespace() {
        let data = data();
        let client = &data.clients()[0];
        let here = Binding {
            generation: 0,
            realm: Some(b"one"),
        };
        let token = encode(
            client,
            &ClientKey::new(client),
            1,
            1_768_471_200,
            7200,
            [0; 6],
            here,
        );
        assert!(decode(&data, &token, here).is_some());
        assert_eq!(decode(&data, &token, ROOT), None);
        let elsewhere = Binding {
            generation: 0,
            realm: Some(b"two"),
        };
        assert_eq!(decode(&data, &token, elsewhere), None);
    }

    #[test]
    fn a_tampered_token_or_one_signed_with_another_secret_is_refused() {
        let data = data();
        let mut client = data.client("API_KEY").unwrap().clone();
        let token = encode(
            &client,
            &ClientKey::new(&client),
            1,
            1_768_471_200,
            7200,
            [0; 6],
            ROOT,
        );
        let mut chars: Vec<char> = token.chars().collect();
        chars[30] = if chars[30] == 'A' { 'B' } else { 'A' };
        assert_eq!(decode(&data, &chars.iter().collect::<String>(), ROOT), None);
        client.client_secret = "OLD_SECRET".to_owned();
        assert_eq!(
            decode(
                &data,
                &encode(
                    &client,
                    &ClientKey::new(&client),
                    1,
                    1_768_471_200,
                    7200,
                    [0; 6],
                    ROOT
                ),
                ROOT
            ),
            None
        );
        assert_eq!(
            decode(&data, "Av9wbEK-0QTOdxhzB4S3-B1ZFKj1Z4y8Xcl17iVcHsg", ROOT),
            None
        );
        assert_eq!(decode(&data, "short", ROOT), None);
    }
}
