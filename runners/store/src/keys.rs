//! The keys of last-synced values: what each value is the value of. [`SyncedKey`] names them,
//! and its encoding (the text kept in `synced_values.key`) lives here and nowhere else.
//!
//! | key | text | holds |
//! |---|---|---|
//! | [`SyncedKey::Name`] | `name` | the item name |
//! | [`SyncedKey::Column`] | `column:<id>` | a monday column |
//! | [`SyncedKey::Field`] | `field:<name>` | a Salesforce field ([`LAST_SEEN_KEY`]: the last-seen time, [`CONVERTED_KEY`]: a converted Lead) |
//! | [`SyncedKey::Sent`] | `sent:<name>` | values sent to a Salesforce field and not yet confirmed |
//! | [`SyncedKey::Link`] | `link:<column id>` | the record a board-relation column links to |
//! | [`SyncedKey::Rule`] | `rule:<rule>:<alias>` | the record a lifecycle rule created for the item |
//!
//! The text is stored as it always was: a store written before the keys were typed reads back
//! the same keys ([`SyncedKey::parse`] is the inverse of [`SyncedKey::encode`]).

use std::borrow::Cow;
use std::fmt;

use crmmap_ids::ColumnId;

/// What a last-synced value is the value of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SyncedKey {
    /// The item name: `name`.
    Name,
    /// A monday column: `column:<id>`.
    Column(ColumnId),
    /// A Salesforce field: `field:<name>`.
    Field(Cow<'static, str>),
    /// The values crmmap sent to a Salesforce field since it was last synced: `sent:<name>`.
    Sent(Cow<'static, str>),
    /// The record a board-relation column links to: `link:<column id>`.
    Link(ColumnId),
    /// A record a lifecycle rule created for the item: `rule:<rule>:<alias>` (rule names are
    /// identifiers, without `:`).
    Rule {
        /// The rule.
        rule: String,
        /// The alias of the record it created.
        alias: String,
    },
}

/// A key that is none of the forms [`SyncedKey`] encodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a last-synced key")]
pub struct UnknownKey(pub String);

impl SyncedKey {
    /// The text kept in the store.
    pub fn encode(&self) -> String {
        self.to_string()
    }

    /// Reads the text kept in the store.
    pub fn parse(key: &str) -> Result<SyncedKey, UnknownKey> {
        if key == "name" {
            return Ok(SyncedKey::Name);
        }
        let unknown = || UnknownKey(key.to_owned());
        let (kind, rest) = key.split_once(':').ok_or_else(unknown)?;
        Ok(match kind {
            "column" => SyncedKey::Column(ColumnId::new(rest)),
            "field" => SyncedKey::Field(Cow::Owned(rest.to_owned())),
            "sent" => SyncedKey::Sent(Cow::Owned(rest.to_owned())),
            "link" => SyncedKey::Link(ColumnId::new(rest)),
            "rule" => {
                let (rule, alias) = rest.split_once(':').ok_or_else(unknown)?;
                SyncedKey::Rule {
                    rule: rule.to_owned(),
                    alias: alias.to_owned(),
                }
            }
            _ => return Err(unknown()),
        })
    }
}

impl fmt::Display for SyncedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncedKey::Name => f.write_str("name"),
            SyncedKey::Column(c) => write!(f, "column:{c}"),
            SyncedKey::Field(name) => write!(f, "field:{name}"),
            SyncedKey::Sent(name) => write!(f, "sent:{name}"),
            SyncedKey::Link(c) => write!(f, "link:{c}"),
            SyncedKey::Rule { rule, alias } => write!(f, "rule:{rule}:{alias}"),
        }
    }
}

impl std::str::FromStr for SyncedKey {
    type Err = UnknownKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SyncedKey::parse(s)
    }
}

/// The key of the item name in the last-synced values.
pub const NAME_KEY: SyncedKey = SyncedKey::Name;

/// The key of a monday column in the last-synced values: `column:<id>`.
pub fn column_key(column_id: &ColumnId) -> SyncedKey {
    SyncedKey::Column(column_id.clone())
}

/// The key of a Salesforce field in the last-synced values: `field:<name>`.
pub fn field_key(field: &str) -> SyncedKey {
    SyncedKey::Field(Cow::Owned(field.to_owned()))
}

/// The key of the values crmmap sent to a Salesforce field since it was last synced
/// (`sent:<name>`, recorded before each update is sent): after a crash or a lost answer
/// (a timeout, a cut connection, a 5xx) Salesforce may hold any of them. A later read that
/// finds one of them in Salesforce knows it as crmmap's own write, not an edit made in
/// Salesforce.
pub fn sent_key(field: &str) -> SyncedKey {
    SyncedKey::Sent(Cow::Owned(field.to_owned()))
}

/// The key of a board-relation column's last-synced link: `link:<column id>`, holding the
/// Salesforce Id of the linked record (or `null`).
pub fn link_key(column: &ColumnId) -> SyncedKey {
    SyncedKey::Link(column.clone())
}

/// The key recording a record a lifecycle rule created for this item: `rule:<rule>:<alias>`.
pub fn rule_key(rule: &str, alias: &str) -> SyncedKey {
    SyncedKey::Rule {
        rule: rule.to_owned(),
        alias: alias.to_owned(),
    }
}

/// The key holding the record's `LastModifiedDate` as last seen (or written) by crmmap: the
/// `If-Unmodified-Since` of the next update (`field:LastModifiedDate`).
pub const LAST_SEEN_KEY: SyncedKey = SyncedKey::Field(Cow::Borrowed("LastModifiedDate"));

/// The key recording that a Lead was converted (`true`, `field:IsConverted`): Salesforce
/// refuses updates of converted Leads (`CANNOT_UPDATE_CONVERTED_LEAD`) unless the integration
/// user has "View and Edit Converted Leads". The migrator records it from `IsConverted`; the
/// webhook from a refusal or a read.
pub const CONVERTED_KEY: SyncedKey = SyncedKey::Field(Cow::Borrowed("IsConverted"));

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn keys_of_different_things_never_collide() {
        let keys = [
            NAME_KEY.encode(),
            column_key(&"status".into()).encode(),
            field_key("Status").encode(),
            sent_key("Status").encode(),
            link_key(&"status".into()).encode(),
            rule_key("status", "status").encode(),
        ];
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert_eq!(LAST_SEEN_KEY, field_key("LastModifiedDate"));
        assert_eq!(CONVERTED_KEY, field_key("IsConverted"));
    }

    /// Every form of key a store holds, as written before keys were typed, decodes and is
    /// encoded back to the same bytes.
    #[test]
    fn every_stored_key_form_decodes_and_encodes_back_byte_for_byte() {
        let stored = [
            ("name", NAME_KEY),
            ("column:status", column_key(&"status".into())),
            ("column:text_mkry13cw", column_key(&"text_mkry13cw".into())),
            ("field:Status", field_key("Status")),
            ("field:LastModifiedDate", LAST_SEEN_KEY),
            ("field:IsConverted", CONVERTED_KEY),
            ("sent:FirstName", sent_key("FirstName")),
            (
                "link:board_relation_mkrx",
                link_key(&"board_relation_mkrx".into()),
            ),
            ("rule:won:contract", rule_key("won", "contract")),
        ];
        for (text, key) in stored {
            let read = SyncedKey::parse(text).unwrap();
            assert_eq!(read, key, "{text}");
            assert_eq!(read.encode(), text);
        }
        for bad in ["", "names", "column", "colour:x", "rule:won", ":x"] {
            assert_eq!(SyncedKey::parse(bad), Err(UnknownKey(bad.to_owned())));
        }
    }

    fn any_key() -> impl Strategy<Value = SyncedKey> {
        let text = "\\PC{0,12}";
        let ident = "[A-Za-z_][A-Za-z0-9_]{0,10}";
        prop_oneof![
            Just(SyncedKey::Name),
            text.prop_map(|c| column_key(&ColumnId::new(c))),
            text.prop_map(|f| field_key(&f)),
            text.prop_map(|f| sent_key(&f)),
            text.prop_map(|c| link_key(&ColumnId::new(c))),
            (ident, text).prop_map(|(r, a)| rule_key(&r, &a)),
        ]
    }

    proptest! {
        #[test]
        fn keys_round_trip(key in any_key()) {
            prop_assert_eq!(SyncedKey::parse(&key.encode()), Ok(key));
        }

        #[test]
        fn parsing_any_text_never_panics_and_keeps_its_bytes(text in "\\PC{0,30}") {
            if let Ok(key) = SyncedKey::parse(&text) {
                prop_assert_eq!(key.encode(), text);
            }
        }
    }
}
