use proptest::prelude::*;

use super::*;

#[test]
fn both_forms_are_read_and_the_string_form_is_written() {
    let from_number: ItemId = serde_json::from_str("1234567890").unwrap();
    let from_string: ItemId = serde_json::from_str("\"1234567890\"").unwrap();
    assert_eq!(from_number, from_string);
    assert_eq!(from_number.get(), 1_234_567_890);
    assert_eq!(
        serde_json::to_string(&from_number).unwrap(),
        "\"1234567890\""
    );
    assert_eq!(ItemId::parse("0").unwrap().get(), 0);
}

#[test]
fn anything_else_is_refused() {
    assert_eq!(BoardId::parse(""), Err(InvalidMondayId::Empty));
    assert_eq!(BoardId::parse("12a"), Err(InvalidMondayId::NotDigits));
    assert_eq!(BoardId::parse("-1"), Err(InvalidMondayId::NotDigits));
    assert_eq!(BoardId::parse("+1"), Err(InvalidMondayId::NotDigits));
    assert_eq!(BoardId::parse(" 1"), Err(InvalidMondayId::NotDigits));
    assert_eq!(BoardId::parse("007"), Err(InvalidMondayId::LeadingZero));
    assert_eq!(
        BoardId::parse("18446744073709551616"),
        Err(InvalidMondayId::TooLarge)
    );
    for json in [
        "-1", "1.5", "null", "true", "[]", "{}", "\"\"", "\"x\"", "1e3",
    ] {
        assert!(
            serde_json::from_str::<BoardId>(json).is_err(),
            "{json} was read as a board id"
        );
    }
}

proptest! {
    #[test]
    fn every_id_round_trips_through_text_and_json(n in any::<u64>()) {
        let id = BoardId::new(n);
        prop_assert_eq!(BoardId::parse(&id.to_string()), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<BoardId>(&json).unwrap(), id);
        prop_assert_eq!(serde_json::from_str::<ItemId>(&n.to_string()).unwrap(), ItemId::new(n));
    }

    #[test]
    fn parsing_any_text_never_panics_and_keeps_its_bytes(s in "\\PC{0,25}") {
        if let Ok(id) = ItemId::parse(&s) {
            prop_assert_eq!(id.to_string(), s);
        }
    }

    #[test]
    fn digit_strings_parse_exactly_when_canonical(s in "[0-9]{1,22}") {
        let canonical = s == "0" || !s.starts_with('0');
        match ItemId::parse(&s) {
            Ok(id) => prop_assert_eq!(id.to_string(), s),
            Err(e) => prop_assert!(
                !canonical || e == InvalidMondayId::TooLarge,
                "{s}: {e:?}"
            ),
        }
    }
}
