use proptest::prelude::*;

use super::*;

/// Known ids and their 18-character forms (published examples, and the ones the client and
/// the emulator were tested with).
const KNOWN: &[(&str, &str)] = &[
    ("a0RE000000IJmcN", "a0RE000000IJmcNMAT"),
    ("001M000000qfPyS", "001M000000qfPySIAU"),
    ("AbCdEfGhIjKlMnO", "AbCdEfGhIjKlMnOVKV"),
    ("aBcDEfgHIJKLMNO", "aBcDEfgHIJKLMNO025"),
    ("001A0000006Vm9r", "001A0000006Vm9rIAC"),
    ("0055g00000EmUsR", "0055g00000EmUsRAAV"),
];

#[test]
fn the_suffix_is_right_for_the_known_examples() {
    for (short, long) in KNOWN {
        let id = RecordId::parse(short).unwrap();
        assert_eq!(id.as_str(), *long);
        assert_eq!(id.to_15(), *short);
        assert_eq!(RecordId::parse(long).unwrap(), id);
    }
}

#[test]
fn an_18_character_id_must_carry_its_suffix() {
    // Case-insensitively, as Salesforce compares it; kept in canonical case.
    assert_eq!(
        RecordId::parse("001M000000qfPySiau").unwrap().as_str(),
        "001M000000qfPySIAU"
    );
    assert_eq!(
        RecordId::parse("001M000000qfPySAAA"),
        Err(InvalidRecordId::Checksum)
    );
    assert_eq!(
        RecordId::parse("001RM000003oLrB000"),
        Err(InvalidRecordId::Checksum)
    );
    assert_eq!(RecordId::parse("short"), Err(InvalidRecordId::Length(5)));
    assert_eq!(
        RecordId::parse("001M000000qfPy-"),
        Err(InvalidRecordId::Alphabet)
    );
    assert_eq!(
        RecordId::parse("001M000000qfPyé"),
        Err(InvalidRecordId::Alphabet)
    );
}

#[test]
fn serde_reads_and_writes_the_18_character_form() {
    let id: RecordId = serde_json::from_str("\"001A0000006Vm9r\"").unwrap();
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        "\"001A0000006Vm9rIAC\""
    );
    assert!(serde_json::from_str::<RecordId>("\"nope\"").is_err());
}

fn id15() -> impl Strategy<Value = String> {
    "[0-9A-Za-z]{15}"
}

proptest! {
    /// Total: any string parses or is refused, never panics; a parsed id has 18 ASCII
    /// alphanumerics.
    #[test]
    fn parse_is_total(s in any::<String>()) {
        if let Ok(id) = RecordId::parse(&s) {
            prop_assert_eq!(id.as_str().len(), 18);
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric()));
        }
    }

    #[test]
    fn both_forms_of_one_id_are_equal(short in id15()) {
        let id = RecordId::parse(&short).unwrap();
        prop_assert_eq!(id.to_15(), short.as_str());
        prop_assert_eq!(RecordId::parse(id.as_str()).unwrap(), id.clone());
        let lower_suffix = format!("{}{}", short, id.as_str().get(15..).unwrap_or_default().to_ascii_lowercase());
        prop_assert_eq!(RecordId::parse(&lower_suffix).unwrap(), id);
    }

    /// Ids that differ only in case are different records.
    #[test]
    fn case_changes_the_suffix(short in id15()) {
        let flipped: String = short
            .chars()
            .map(|c| if c.is_ascii_uppercase() { c.to_ascii_lowercase() } else { c.to_ascii_uppercase() })
            .collect();
        prop_assume!(flipped != short);
        prop_assert_ne!(RecordId::parse(&short).unwrap(), RecordId::parse(&flipped).unwrap());
    }
}
