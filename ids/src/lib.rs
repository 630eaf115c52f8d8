//! Typed ids of crmmap. Pure: no I/O, serde only.
//!
//! Ids are parsed once, where they enter (a webhook body, an API answer, a store row), and
//! travel typed from there:
//!
//! | type | what | text form |
//! |---|---|---|
//! | [`RecordId`] | a Salesforce record id | 18 characters, normalised on construction |
//! | [`BoardId`], [`ItemId`] | monday ids | decimal digits (numbers in webhook bodies) |
//! | [`ColumnId`] | a monday column id | as monday writes it |
//! | [`ObjectName`] | a mapping's object (`Grant`) | as the mapping writes it |
//! | [`SObjectName`] | a Salesforce sObject (`Grant__c`) | as Salesforce writes it |
//!
//! ```
//! use crmmap_ids::RecordId;
//!
//! let short = RecordId::parse("001A0000006Vm9r").unwrap();
//! let long = RecordId::parse("001A0000006Vm9rIAC").unwrap();
//! assert_eq!(short, long);
//! assert_eq!(short.as_str(), "001A0000006Vm9rIAC");
//! assert!(RecordId::parse("001").is_err());
//! ```

mod monday;
mod names;
mod record;

pub use monday::{BoardId, InvalidMondayId, ItemId};
pub use names::{ColumnId, ObjectName, SObjectName};
pub use record::{InvalidRecordId, RecordId, checksum_suffix};
