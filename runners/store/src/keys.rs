//! The keys of last-synced values: what each value is the value of. Every key is built here,
//! so the encoding lives in one place.
//!
//! | key | holds |
//! |---|---|
//! | `name` | the item name |
//! | `column:<id>` | a monday column |
//! | `field:<name>` | a Salesforce field (`field:LastModifiedDate`: the last-seen time) |
//! | `sent:<name>` | values sent to a Salesforce field and not yet confirmed |
//! | `link:<column id>` | the record a board-relation column links to |
//! | `rule:<rule>:<alias>` | the record a lifecycle rule created for the item |

/// The key of the item name in the last-synced values.
pub const NAME_KEY: &str = "name";

/// The key of a monday column in the last-synced values: `column:<id>`.
pub fn column_key(column_id: &str) -> String {
    format!("column:{column_id}")
}

/// The key of a Salesforce field in the last-synced values: `field:<name>`.
pub fn field_key(field: &str) -> String {
    format!("field:{field}")
}

/// The key of the values crmmap sent to a Salesforce field since it was last synced
/// (`sent:<name>`, recorded before each update is sent): after a crash or a lost answer
/// (a timeout, a cut connection, a 5xx) Salesforce may hold any of them. A later read that
/// finds one of them in Salesforce knows it as crmmap's own write, not an edit made in
/// Salesforce.
pub fn sent_key(field: &str) -> String {
    format!("sent:{field}")
}

/// The key of a board-relation column's last-synced link: `link:<column id>`, holding the
/// Salesforce Id of the linked record (or `null`).
pub fn link_key(column: &str) -> String {
    format!("link:{column}")
}

/// The key recording a record a lifecycle rule created for this item: `rule:<rule>:<alias>`.
pub fn rule_key(rule: &str, alias: &str) -> String {
    format!("rule:{rule}:{alias}")
}

/// The key holding the record's `LastModifiedDate` as last seen (or written) by crmmap: the
/// `If-Unmodified-Since` of the next update.
pub const LAST_SEEN_KEY: &str = "field:LastModifiedDate";

/// The key recording that a Lead was converted (`true`): Salesforce refuses updates of
/// converted Leads (`CANNOT_UPDATE_CONVERTED_LEAD`) unless the integration user has "View and
/// Edit Converted Leads". The migrator records it from `IsConverted`; the webhook from a
/// refusal or a read.
pub const CONVERTED_KEY: &str = "field:IsConverted";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_different_things_never_collide() {
        let keys = [
            NAME_KEY.to_owned(),
            column_key("status"),
            field_key("Status"),
            sent_key("Status"),
            link_key("status"),
            rule_key("status", "status"),
        ];
        let distinct: std::collections::BTreeSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        assert_eq!(LAST_SEEN_KEY, field_key("LastModifiedDate"));
        assert_eq!(CONVERTED_KEY, field_key("IsConverted"));
    }
}
