//! Client scopes as bits, their written form, and the client hash that
//! tokens carry.

use sha2::{Digest, Sha256};

use super::SCOPES;

/// The scope bits of a space-separated scope list, or the first unknown
/// scope.
pub fn scope_bits(scopes: &str) -> Result<u8, String> {
    let mut bits = 0;
    for scope in scopes.split_whitespace() {
        match SCOPES.iter().position(|s| *s == scope) {
            Some(i) => bits |= 1 << i,
            None => return Err(scope.to_owned()),
        }
    }
    Ok(bits)
}

/// The scope list of `bits`, space-separated.
pub fn scope_text(bits: u8) -> String {
    scope_str(bits).to_owned()
}

/// [`scope_text`] without an allocation: each token issued says its scope.
pub fn scope_str(bits: u8) -> &'static str {
    // Every combination of `SCOPES`, in their order (a test checks).
    const ALL: [&str; 8] = [
        "",
        "public",
        "authentication",
        "public authentication",
        "admin",
        "public admin",
        "authentication admin",
        "public authentication admin",
    ];
    ALL[usize::from(bits & 0b111)]
}

/// The 3-byte hash of a client id that tokens carry.
pub fn client_hash(client_id: &str) -> [u8; 3] {
    let digest = Sha256::digest(client_id.as_bytes());
    [digest[0], digest[1], digest[2]]
}
