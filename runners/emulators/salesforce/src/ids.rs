//! Salesforce record ids: 15-char case-sensitive base-62 ids and their 18-char
//! case-insensitive form (15 chars + a 3-char checksum suffix).

use crmmap_ids::RecordId;
pub use crmmap_ids::checksum_suffix;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Extends a 15-char id to 18 chars.
pub fn to18(id15: &str) -> Option<String> {
    (id15.len() == 15).then(|| normalize(id15)).flatten()
}

/// Normalises a 15- or 18-char id to its 18-char form ([`RecordId::parse`]). An 18-char id must
/// carry the right checksum for its first 15 chars (compared case-insensitively, as Salesforce
/// does).
pub fn normalize(id: &str) -> Option<String> {
    RecordId::parse(id).ok().map(String::from)
}

/// True when `id` has the shape of a Salesforce id (15 or 18 alphanumerics with a valid checksum).
pub fn is_valid(id: &str) -> bool {
    normalize(id).is_some()
}

/// Builds the 18-char id of the `n`th record of an object with key prefix `prefix`
/// (3 chars), on the emulator's pod `pod` (2 chars).
pub fn make_id(prefix: &str, pod: &str, n: u64) -> String {
    let mut digits = [b'0'; 10];
    let mut v = n;
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    let id15 = format!(
        "{prefix}{pod}{}",
        std::str::from_utf8(&digits).unwrap_or("0000000000")
    );
    to18(&id15).unwrap_or(id15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_vectors() {
        assert_eq!(
            to18("a0RE000000IJmcN").as_deref(),
            Some("a0RE000000IJmcNMAT")
        );
        assert_eq!(
            to18("001M000000qfPyS").as_deref(),
            Some("001M000000qfPySIAU")
        );
        assert_eq!(
            to18("AbCdEfGhIjKlMnO").as_deref(),
            Some("AbCdEfGhIjKlMnOVKV")
        );
        assert_eq!(
            to18("aBcDEfgHIJKLMNO").as_deref(),
            Some("aBcDEfgHIJKLMNO025")
        );
    }

    #[test]
    fn normalize_checks_suffix() {
        assert_eq!(
            normalize("001M000000qfPySiau").as_deref(),
            Some("001M000000qfPySIAU")
        );
        assert!(normalize("001M000000qfPySAAA").is_none());
        assert!(normalize("001RM000003oLrB000").is_none());
        assert!(normalize("short").is_none());
    }

    #[test]
    fn made_ids_are_valid_and_prefixed() {
        let id = make_id("00Q", "5g", 12345);
        assert_eq!(id.len(), 18);
        assert!(id.starts_with("00Q5g"));
        assert!(is_valid(&id));
    }
}
