//! Names compared the way people read them: column titles, field labels and API names reduced
//! to lower-case words, and a similarity score between 0 and 1.

/// A name reduced to lower-case words: `npe01__WorkPhone__c` → `work phone`,
/// `Converted Account ID` → `converted account id`, `State/Province` → `state province`.
///
/// The `__c` suffix and a namespace prefix (`npe01__`) are dropped, camel case and every
/// character that is neither a letter nor a digit separate words.
pub fn words(name: &str) -> String {
    let mut base = name.strip_suffix("__c").unwrap_or(name);
    if let Some((prefix, rest)) = base.split_once("__") {
        // A namespace is letters and digits before the first `__`.
        if !prefix.is_empty() && prefix.chars().all(char::is_alphanumeric) && !rest.is_empty() {
            base = rest;
        }
    }
    let mut out = String::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = base.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // fooBar, FOOBar (the capital before a lower-case letter starts a word), foo2Bar.
            if c.is_uppercase()
                && (p.is_lowercase() || p.is_numeric() || (p.is_uppercase() && next_lower))
                && !out.ends_with(' ')
            {
                out.push(' ');
            }
        }
        out.extend(c.to_lowercase());
        prev = Some(c);
    }
    out.trim_end().to_string()
}

/// How alike two names are, from 0 (nothing in common) to 1 (the same words, or the same
/// letters once spaces are ignored).
///
/// The score is the normalised Damerau–Levenshtein similarity of the word forms, or of the
/// forms without spaces when that is higher (`E-mail` and `Email`).
pub fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let spaced = strsim::normalized_damerau_levenshtein(&a, &b);
    let tight = strsim::normalized_damerau_levenshtein(&a.replace(' ', ""), &b.replace(' ', ""));
    spaced.max(tight)
}

/// Whether `s` can be written as an identifier in a mapping (column ids, field names, table
/// names): a letter or `_`, then letters, digits and `_` (ASCII).
pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Capacity_Building_Needs__c` → `capacity_building_needs`: a name for a translate table.
pub fn snake(name: &str) -> String {
    let w = words(name).replace(' ', "_");
    let w: String = w
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if w.starts_with(|c: char| c.is_ascii_alphabetic()) {
        w
    } else {
        format!("t_{w}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn words_of_api_names_labels_and_titles() {
        assert_eq!(words("npe01__WorkPhone__c"), "work phone");
        assert_eq!(words("Main_Challenges__c"), "main challenges");
        assert_eq!(words("ConvertedAccountId"), "converted account id");
        assert_eq!(words("Converted Account ID"), "converted account id");
        assert_eq!(words("State/Province"), "state province");
        assert_eq!(
            words("OtherWhereDidYouHearAboutCTN__c"),
            "other where did you hear about ctn"
        );
        assert_eq!(words("  --  "), "");
        assert_eq!(words("__c"), "");
    }

    #[test]
    fn scores() {
        assert_eq!(similarity("First Name", "FirstName"), 1.0);
        assert_eq!(similarity("E-mail", "Email"), 1.0);
        assert!(similarity("Billing City", "BillingState") < 0.8);
        assert!(similarity("Phone number", "Phone") < 0.8);
        assert!(similarity("Main challenge", "Main_Challenges__c") > 0.9);
        assert_eq!(similarity("", "Email"), 0.0);
    }

    #[test]
    fn identifiers_and_table_names() {
        assert!(is_ident("text_mkry1xy1"));
        assert!(!is_ident("1abc"));
        assert!(!is_ident("a-b"));
        assert!(!is_ident(""));
        assert_eq!(
            snake("Capacity_Building_Needs__c"),
            "capacity_building_needs"
        );
        assert_eq!(snake("2Fast"), "t_2_fast");
        assert!(is_ident(&snake("État/Région")));
    }

    proptest! {
        // Names come from boards and orgs: any text, never a panic, scores within bounds.
        #[test]
        fn any_text_scores_between_zero_and_one(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let s = similarity(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            let w = words(&a);
            prop_assert!(!w.starts_with(' ') && !w.ends_with(' '));
        }

        #[test]
        fn a_name_is_like_itself(a in "[A-Za-z][A-Za-z0-9_ ]{0,30}") {
            prop_assume!(!words(&a).is_empty());
            prop_assert_eq!(similarity(&a, &a), 1.0);
        }

        #[test]
        fn table_names_are_identifiers(a in "\\PC{0,40}") {
            let s = snake(&a);
            prop_assert!(is_ident(&s));
        }
    }
}
