//! A schema snapshot: the live boards' columns and the sObjects' describes, as `crmmap schema
//! pull` saved them. `check` uses it for the checks that need the real systems (E06xx).
//!
//! The snapshot is plain data (serde); reading it from disk is the caller's job.

use serde::{Deserialize, Serialize};

/// Version of the snapshot format.
pub const SCHEMA_FORMAT_VERSION: u32 = 1;

/// Boards and sObjects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaSnapshot {
    /// monday boards.
    pub boards: Vec<BoardSchema>,
    /// Salesforce objects.
    pub sobjects: Vec<SObjectSchema>,
}

impl SchemaSnapshot {
    /// The board with this id.
    pub fn board(&self, id: u64) -> Option<&BoardSchema> {
        self.boards.iter().find(|b| b.id == id)
    }

    /// The sObject with this API name.
    pub fn sobject(&self, name: &str) -> Option<&SObjectSchema> {
        self.sobjects.iter().find(|s| s.name == name)
    }

    /// The field `field` of the sObject `sobject`.
    pub fn field(&self, sobject: &str, field: &str) -> Option<&FieldSchema> {
        self.sobject(sobject).and_then(|s| s.field(field))
    }
}

/// One board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardSchema {
    /// Format version.
    pub version: u32,
    /// Board id.
    pub id: u64,
    /// Board name.
    pub name: String,
    /// Its columns.
    pub columns: Vec<ColumnSchema>,
}

impl BoardSchema {
    /// The column with this id.
    pub fn column(&self, id: &str) -> Option<&ColumnSchema> {
        self.columns.iter().find(|c| c.id == id)
    }
}

/// One column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnSchema {
    /// Column id.
    pub id: String,
    /// Title shown on the board.
    pub title: String,
    /// API type (`text`, `status`, `dropdown`, `board_relation`, …).
    #[serde(rename = "type")]
    pub column_type: String,
    /// Status or dropdown labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Boards a board-relation column connects to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub board_ids: Vec<u64>,
}

/// One sObject's describe, reduced to what checks need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SObjectSchema {
    /// Format version.
    pub version: u32,
    /// API name.
    pub name: String,
    /// Fields.
    pub fields: Vec<FieldSchema>,
}

impl SObjectSchema {
    /// The field with this API name.
    pub fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSchema {
    /// API name.
    pub name: String,
    /// The label shown in Salesforce (empty in snapshots pulled before labels were kept).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Describe `type`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Can be set on create.
    pub createable: bool,
    /// Can be set on update.
    pub updateable: bool,
    /// Active picklist values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub picklist_values: Vec<String>,
    /// Whether values outside `picklist_values` are rejected.
    #[serde(default)]
    pub restricted_picklist: bool,
    /// Objects a reference field points to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_to: Vec<String>,
}
