//! Names that are easy to mix up: a monday column id, a mapping's object name and a Salesforce
//! sObject name are all short strings, and a function that takes one must not be handed another.
//!
//! A mapping's object (`object Grant syncs Grant__c with board 1`) has a name of its own
//! ([`ObjectName`], `Grant`) and the sObject it syncs ([`SObjectName`], `Grant__c`); links are
//! kept by sObject, plans and reports by object. Passing one where the other is expected is a
//! compile error. None of them is validated here: what they name is checked where they come from
//! (the checker, the schema snapshot, the APIs).

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! name {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The name, as written.
            pub fn new(name: impl Into<String>) -> Self {
                Self(name.into())
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(name: &str) -> Self {
                Self(name.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }
    };
}

name!(
    /// A monday column id (`status`, `text_mkry13cw`).
    ColumnId
);

name!(
    /// The name of an object of a mapping (`object Grant …`): what plans, reports and the sync
    /// log call it.
    ObjectName
);

name!(
    /// A Salesforce sObject (`Lead`, `Grant__c`): what links and SOQL use.
    ///
    /// ```compile_fail
    /// use crmmap_ids::{ObjectName, SObjectName};
    ///
    /// fn links_of(sobject: &SObjectName) {}
    /// links_of(&ObjectName::new("Grant")); // an object name is not an sObject
    /// ```
    SObjectName
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_their_text_and_serialize_as_strings() {
        let sobject = SObjectName::new("Grant__c");
        assert_eq!(sobject.as_str(), "Grant__c");
        assert_eq!(sobject.to_string(), "Grant__c");
        assert_eq!(serde_json::to_string(&sobject).unwrap(), "\"Grant__c\"");
        let back: SObjectName = serde_json::from_str("\"Grant__c\"").unwrap();
        assert_eq!(back, sobject);
        let columns: std::collections::HashSet<ColumnId> = [ColumnId::new("status")].into();
        assert!(columns.contains("status"));
    }
}
