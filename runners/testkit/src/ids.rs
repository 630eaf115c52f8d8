//! Valid Salesforce record ids for tests, from short readable names.

use crmmap_ids::RecordId;

/// A valid record id (with its checksum) from a short test name: `"00Q1"` is
/// `00Q000000000001` (the 3-character key prefix, then the rest right-aligned in zeros) in its
/// 18-character form. A 15- or 18-character id is parsed as it is. Panics on a name that cannot
/// become an id (test data only).
pub fn record_id(name: &str) -> RecordId {
    let id = match name.len() {
        15 | 18 => name.to_owned(),
        n if n > 3 && n < 15 => {
            let (prefix, rest) = name.split_at(3);
            format!("{prefix}{rest:0>12}")
        }
        _ => panic!("`{name}` cannot be made a record id"),
    };
    RecordId::parse(&id).unwrap_or_else(|e| panic!("`{name}` is no record id: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_become_valid_ids() {
        assert_eq!(record_id("00Q1").as_str(), "00Q000000000001EAA");
        assert_eq!(record_id("001X").as_str(), "00100000000000XAAQ");
        assert_eq!(
            record_id("00Q000000000001"),
            record_id("00Q000000000001EAA")
        );
        assert_ne!(record_id("00Q1"), record_id("00Q2"));
    }
}
