//! crmmap's pure engine: compile a checked mapping model into plans, and evaluate plans against
//! changes to get the writes each system needs. No I/O, no clock: `now` is always an input.
//!
//! ```text
//! model::Model ──compile──▶ plan::PlanSet ──eval (record_to_item, item_to_create,
//!                                                 column_change, rename, link_change,
//!                                                 rules, conflict)──▶ ItemWrites / SfWrites
//! ```
//!
//! | module | what |
//! |---|---|
//! | [`value`] | the canonical [`value::Value`], monday and Salesforce value formats, kind conversions, comparison |
//! | [`transform`] | every step both ways, expression evaluation |
//! | [`library`] | the transform reference as data, with examples that run as tests |
//! | [`plan`] / [`compile()`] | plans with static facts (select list, fields and columns read and written, object order) |
//! | [`eval`] | pure evaluation of changes into writes |
//! | [`conflict`] | which side wins when both changed |
//! | [`explain`] | the stable text of plans |
//! | [`error`] | runtime errors with stable codes (`R01xx`) |
//!
//! ```
//! use crmmap_dsl::model::*;
//! use crmmap_engine::{compile, eval};
//!
//! let origin = Origin { file: "mappings/lead.crmmap".into(), line: 3, column: 3 };
//! let model = Model {
//!     translates: vec![],
//!     objects: vec![Object {
//!         name: "Lead".into(), sobject: "Lead".into(), board: 9378000505,
//!         key_column: "text_mkryhch5".into(), selections: vec![], record_type: None,
//!         name_to_monday: Some(Expr::Path(vec!["Company".into()])), name_to_salesforce: vec![],
//!         on_create: vec![], on_delete: DeletePolicy::Log,
//!         on_salesforce_delete: ItemDeletePolicy::Log, conflict: ConflictPolicy::PreferSalesforce,
//!         fields: vec![Field {
//!             column: "color_mksj2adq".into(), column_type: ColumnType::Status,
//!             direction: Direction::Both, field: "Status".into(), field_type: SfType::Picklist,
//!             steps: vec![], conflict: None, create_labels: false, origin: origin.clone(),
//!         }],
//!         links: vec![], rules: vec![], origin,
//!     }],
//! };
//! let plans = compile(&model);
//! let lead = plans.plan("Lead").unwrap();
//! let record = serde_json::json!({"Id": "00Q000000000001AAA", "Company": "Acme", "Status": "Open"});
//! let now = time::macros::datetime!(2024-06-15 12:00 UTC);
//! let writes = eval::record_to_item(lead, record.as_object().unwrap(), None, now).unwrap();
//! assert_eq!(writes.name.as_deref(), Some("Acme"));
//! assert_eq!(writes.column_values["color_mksj2adq"], serde_json::json!({"label": "Open"}));
//! ```

pub mod cases;
pub mod change_event;
pub mod compile;
pub mod conflict;
pub mod error;
pub mod eval;
pub mod explain;
pub mod library;
pub mod plan;
pub mod transform;
pub mod value;

pub use compile::compile;
pub use error::{Code, EvalError};
pub use plan::{Plan, PlanSet};
pub use value::Value;
