//! Property: any string quoted by the client's builder parses back, unchanged, in the
//! emulator's SOQL tokenizer (which follows Salesforce's escape rules).

use crmmap_emu_salesforce::soql::{Expr, Literal, parse};
use crmmap_salesforce::soql::{Condition, Soql, escape_like};
use proptest::prelude::*;

fn literal_of(q: &str) -> Literal {
    match parse(q).unwrap_or_else(|e| panic!("{q}: {e:?}")).filter {
        Some(Expr::Cmp { value, .. }) | Some(Expr::Like { pattern: value, .. }) => value,
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn quoted_strings_round_trip(s in "\\PC*|[\\\\'\"%_\\n\\r\\t\\x08\\x0c\\x01a-z]{0,20}") {
        let q = Soql::select(["Id"]).from("Lead").where_(Condition::eq("Name", s.as_str())).build().unwrap();
        match literal_of(&q) {
            Literal::String { value, like_only_escape, .. } => {
                prop_assert_eq!(value, s);
                prop_assert!(!like_only_escape);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn like_escapes_match_literally(s in "[\\\\'%_a-c]{0,12}") {
        let q = Soql::select(["Id"]).from("Lead").where_(Condition::contains("Name", &s)).build().unwrap();
        match literal_of(&q) {
            Literal::String { pattern, .. } => {
                use crmmap_emu_salesforce::soql::LikeElem;
                let inner: Vec<LikeElem> = pattern[1..pattern.len() - 1].to_vec();
                prop_assert_eq!(inner, s.chars().map(LikeElem::Char).collect::<Vec<_>>(), "escaped as {}", escape_like(&s));
                prop_assert_eq!(&pattern[0], &LikeElem::Any);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
